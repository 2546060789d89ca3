# Same seed, same numbers: runs `dagprop train` three times into three folders (the serial
# executor, then the TBB executor with 1 and with 2 threads, through DAGPROP_NUM_THREADS) and fails
# unless the metric files (metrics.csv, metrics.json: everything but wall-clock times) are byte for
# byte the same, and unless run.json names the BLAS kernels and every other setting those bits
# depend on.
# -DDAGPROP=<the dagprop program> -DWORK=<a scratch folder>
file(REMOVE_RECURSE ${WORK})
foreach(run a b c)
  set(threads_a 0)
  set(threads_b 1)
  set(threads_c 2)
  execute_process(
    COMMAND ${CMAKE_COMMAND} -E env DAGPROP_NUM_THREADS=${threads_${run}} ${DAGPROP} train --data moons --samples 600 --hidden 16,8 --activation tanh
            --optimizer adamw --weight-decay 0.01 --schedule cosine --epochs 3 --batch 32
            --validation 0.2 --seed 5 --no-plots --out ${WORK}/${run}
    OUTPUT_VARIABLE output ERROR_VARIABLE errors RESULT_VARIABLE status)
  if(NOT status EQUAL 0)
    message(FATAL_ERROR "dagprop train failed (${status}):\n${output}\n${errors}")
  endif()
endforeach()
foreach(file metrics.csv metrics.json)
  file(SHA256 ${WORK}/a/${file} first)
  foreach(run b c)
    file(SHA256 ${WORK}/${run}/${file} other)
    if(NOT first STREQUAL other)
      file(READ ${WORK}/a/${file} a)
      file(READ ${WORK}/${run}/${file} b)
      message(FATAL_ERROR "${file} differs between runs with the same seed (serial and ${threads_${run}} "
                          "threads):\n${a}\n---\n${b}")
    endif()
  endforeach()
endforeach()
# The kernels that the bits depend on are recorded beside them.
file(READ ${WORK}/a/run.json run_facts)
if(NOT run_facts MATCHES "\"blas\": \"OpenBLAS [0-9]")
  message(FATAL_ERROR "run.json does not name the BLAS kernels:\n${run_facts}")
endif()
# And every other setting they depend on (reproducibility_settings(), in its order).
set(settings dagprop.version compiler build.type build.flags matmul.kernels matmul.blocks products.fingerprint
             blas.config blas.core blas.threads vector_math.isa vector_math.fingerprint libc
             libm.fingerprint cpu.model cpu.id cpu.features cpu.threads fpu.mxcsr dagprop.threads
             environment)
foreach(setting ${settings})
  string(REPLACE "." "\\." pattern "${setting}")
  if(NOT run_facts MATCHES "\"${pattern}\": \"[^\"]+\"")
    message(FATAL_ERROR "run.json does not record ${setting}:\n${run_facts}")
  endif()
endforeach()
file(READ ${WORK}/a/metrics.csv metrics)
message(STATUS "identical metrics:\n${metrics}")
