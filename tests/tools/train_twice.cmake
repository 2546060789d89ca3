# Same seed, same numbers: runs `dagprop train` twice into two folders and fails unless the metric
# files (metrics.csv, metrics.json: everything but wall-clock times) are byte for byte the same.
# -DDAGPROP=<the dagprop program> -DWORK=<a scratch folder>
file(REMOVE_RECURSE ${WORK})
foreach(run a b)
  execute_process(
    COMMAND ${DAGPROP} train --data moons --samples 600 --hidden 16,8 --activation tanh
            --optimizer adamw --weight-decay 0.01 --schedule cosine --epochs 3 --batch 32
            --validation 0.2 --seed 5 --no-plots --out ${WORK}/${run}
    OUTPUT_VARIABLE output ERROR_VARIABLE errors RESULT_VARIABLE status)
  if(NOT status EQUAL 0)
    message(FATAL_ERROR "dagprop train failed (${status}):\n${output}\n${errors}")
  endif()
endforeach()
foreach(file metrics.csv metrics.json)
  file(SHA256 ${WORK}/a/${file} first)
  file(SHA256 ${WORK}/b/${file} second)
  if(NOT first STREQUAL second)
    file(READ ${WORK}/a/${file} a)
    file(READ ${WORK}/b/${file} b)
    message(FATAL_ERROR "${file} differs between two runs with the same seed:\n${a}\n---\n${b}")
  endif()
endforeach()
file(READ ${WORK}/a/metrics.csv metrics)
message(STATUS "identical metrics:\n${metrics}")
