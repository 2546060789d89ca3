# Runs one dagprop command and checks its exit status, its output and the files it should write.
# Variables: EXE, ARGS ('|'-separated), EXPECT_EXIT (zero or nonzero), EXPECT_OUTPUT (a regular
# expression matched against stdout and stderr together), EXPECT_FILES ('|'-separated paths).
string(REPLACE "|" ";" args "${ARGS}")
execute_process(COMMAND "${EXE}" ${args} RESULT_VARIABLE status OUTPUT_VARIABLE out
                ERROR_VARIABLE err)
set(all "${out}${err}")
if(EXPECT_EXIT STREQUAL "zero" AND NOT status EQUAL 0)
  message(FATAL_ERROR "dagprop ${args} exited with ${status}, expected 0:\n${all}")
endif()
if(EXPECT_EXIT STREQUAL "nonzero" AND status EQUAL 0)
  message(FATAL_ERROR "dagprop ${args} exited with 0, expected an error:\n${all}")
endif()
if(NOT all MATCHES "${EXPECT_OUTPUT}")
  message(FATAL_ERROR "dagprop ${args}: the output does not match '${EXPECT_OUTPUT}':\n${all}")
endif()
if(EXPECT_FILES)
  string(REPLACE "|" ";" files "${EXPECT_FILES}")
  foreach(file IN LISTS files)
    if(NOT EXISTS "${file}")
      message(FATAL_ERROR "dagprop ${args} did not write ${file}:\n${all}")
    endif()
  endforeach()
endif()
