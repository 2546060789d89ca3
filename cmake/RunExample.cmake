# Runs an example and fails unless its standard output equals the .expected file byte for byte.
execute_process(COMMAND ${EXECUTABLE} OUTPUT_VARIABLE actual RESULT_VARIABLE status)
if(NOT status EQUAL 0)
  message(FATAL_ERROR "${EXECUTABLE} exited with ${status}")
endif()
file(READ ${EXPECTED} expected)
if(NOT actual STREQUAL expected)
  message(FATAL_ERROR "output of ${EXECUTABLE} differs from ${EXPECTED}:\n--- actual\n${actual}--- expected\n${expected}")
endif()
