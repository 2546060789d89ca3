# The portable products mode gives the same bits whatever kernels OpenBLAS would use: runs the same
# `dagprop train` under OPENBLAS_CORETYPE=Haswell, Sandybridge and Nehalem (kernel sets whose
# products differ in their last bits: docs/architecture.md#reproducibility) with
# DAGPROP_MATMUL_KERNELS=portable, and fails unless metrics.csv and metrics.json are byte for byte
# the same and run.json records the portable kernels with one products fingerprint. The same runs
# on OpenBLAS's kernels are reported, as the contrast, but not required to differ.
# -DDAGPROP=<the dagprop program> -DWORK=<a scratch folder>
file(REMOVE_RECURSE ${WORK})
set(cores Haswell Sandybridge Nehalem)
foreach(kernels portable blas)
  foreach(core ${cores})
    execute_process(
      COMMAND ${CMAKE_COMMAND} -E env OPENBLAS_CORETYPE=${core} DAGPROP_MATMUL_KERNELS=${kernels}
              ${DAGPROP} train --data moons --samples 600 --hidden 64,64 --activation tanh
              --optimizer adam --epochs 2 --batch 32 --seed 3 --no-plots
              --out ${WORK}/${kernels}-${core}
      OUTPUT_VARIABLE output ERROR_VARIABLE errors RESULT_VARIABLE status)
    if(NOT status EQUAL 0)
      message(FATAL_ERROR "dagprop train (${kernels}, ${core}) failed (${status}):\n${output}\n${errors}")
    endif()
  endforeach()
endforeach()
function(fingerprint run out)
  file(READ ${WORK}/${run}/run.json facts)
  string(REGEX MATCH "\"products.fingerprint\": \"([0-9a-f]+)\"" _ "${facts}")
  set(${out} "${CMAKE_MATCH_1}" PARENT_SCOPE)
endfunction()
foreach(kernels portable blas)
  list(GET cores 0 first_core)
  fingerprint(${kernels}-${first_core} first_print)
  foreach(core ${cores})
    file(READ ${WORK}/${kernels}-${core}/run.json facts)
    if(NOT facts MATCHES "\"matmul.kernels\": \"${kernels}\"")
      message(FATAL_ERROR "run.json does not record the ${kernels} kernels:\n${facts}")
    endif()
    fingerprint(${kernels}-${core} print)
    set(same_files TRUE)
    foreach(file metrics.csv metrics.json)
      file(SHA256 ${WORK}/${kernels}-${first_core}/${file} first)
      file(SHA256 ${WORK}/${kernels}-${core}/${file} other)
      if(NOT first STREQUAL other)
        set(same_files FALSE)
      endif()
    endforeach()
    if(kernels STREQUAL "portable")
      if(NOT same_files OR NOT print STREQUAL first_print)
        file(READ ${WORK}/${kernels}-${first_core}/metrics.csv a)
        file(READ ${WORK}/${kernels}-${core}/metrics.csv b)
        message(FATAL_ERROR "portable products differ between OPENBLAS_CORETYPE=${first_core} and "
                            "${core} (fingerprints ${first_print}, ${print}):\n${a}\n---\n${b}")
      endif()
    endif()
    message(STATUS "${kernels} kernels, OPENBLAS_CORETYPE=${core}: products fingerprint ${print}, "
                   "metrics the same as ${first_core}'s: ${same_files}")
  endforeach()
endforeach()
