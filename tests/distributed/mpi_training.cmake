# Data-parallel training over MPI (docs/distributed.md), end to end on this machine's loopback:
#   same_bits: `dagprop train --shards 12` in one process, then under mpirun at 1, 2, 3 and 4 ranks
#     with 1 or 2 threads per rank, must write byte-identical metric and model files, and every
#     rank of every job must have handed the same number of bytes to collectives;
#   faults: a rank that dies, a rank with another seed, a dataset missing on one rank, a batch
#     smaller than the rank count: every rank stops, in bounded time, with an error naming the rank
#     and the cause, and no metric file is left looking complete; and a run that diverges stops
#     every rank at the same step.
# -DDAGPROP=<the dagprop program> -DMPIEXEC=<mpirun> -DWORK=<a scratch folder> -DCASE=same_bits|faults
file(REMOVE_RECURSE ${WORK})
file(MAKE_DIRECTORY ${WORK})
# Open MPI refuses to run as root unless told (CI containers run as root); loopback only.
set(ENV{OMPI_ALLOW_RUN_AS_ROOT} 1)
set(ENV{OMPI_ALLOW_RUN_AS_ROOT_CONFIRM} 1)
set(ENV{OMPI_MCA_btl} self,vader,tcp)
set(ENV{OMPI_MCA_btl_tcp_if_include} lo)
set(ENV{OMPI_MCA_oob_tcp_if_include} lo)
set(ENV{OMPI_MCA_rmaps_base_oversubscribe} 1)
set(mpirun ${MPIEXEC} --oversubscribe --bind-to none)
set(data train --data moons --samples 600 --eval-batch 70 --no-plots)
set(common ${data} --activation tanh --optimizer adam)
set(run ${common} --hidden 16,8 --epochs 2 --batch 48 --shards 12 --seed 5)

# Runs a command; fails unless it exits with `expected` ("0", or "nonzero") within `limit` seconds.
function(run_job expected limit)
  string(TIMESTAMP start "%s")
  execute_process(COMMAND ${ARGN} OUTPUT_VARIABLE out ERROR_VARIABLE err RESULT_VARIABLE status
                  TIMEOUT ${limit})
  string(TIMESTAMP stop "%s")
  math(EXPR seconds "${stop} - ${start}")
  string(REPLACE ";" " " shown "${ARGN}")
  if(status MATCHES "timeout|Process terminated")
    message(FATAL_ERROR "${shown}\ndid not end within ${limit} s (it hangs):\n${out}${err}")
  endif()
  if((expected STREQUAL "0" AND NOT status STREQUAL "0") OR
     (expected STREQUAL "nonzero" AND status STREQUAL "0"))
    message(FATAL_ERROR "${shown}\nexited with ${status}, expected ${expected}:\n${out}${err}")
  endif()
  set(output "${out}${err}" PARENT_SCOPE)
  set(seconds ${seconds} PARENT_SCOPE)
endfunction()

include(${CMAKE_CURRENT_LIST_DIR}/../support/expect_match.cmake)

if(CASE STREQUAL "same_bits")
  run_job(0 120 ${DAGPROP} ${run} --out ${WORK}/single)
  set(previous_payload "")
  foreach(job "1;2" "2;1" "3;2" "4;1")
    list(GET job 0 ranks)
    list(GET job 1 threads)
    run_job(0 180 ${mpirun} -np ${ranks} -x DAGPROP_NUM_THREADS=${threads} ${DAGPROP} ${run}
            --out ${WORK}/np${ranks})
    foreach(file metrics.csv metrics.json model.json)
      file(SHA256 ${WORK}/single/${file} expected)
      file(SHA256 ${WORK}/np${ranks}/${file} actual)
      if(NOT expected STREQUAL actual)
        message(FATAL_ERROR "${ranks} ranks x ${threads} threads: ${file} differs from the "
                            "single process's (${WORK}/single/${file})")
      endif()
    endforeach()
    if(ranks GREATER 1)
      # Every rank handed the same bytes to collectives, whatever the number of ranks: O(gradient)
      # per rank, not O(ranks x gradient).
      file(READ ${WORK}/np${ranks}/communication.json report)
      string(JSON first GET "${report}" payload_bytes_per_rank 0)
      math(EXPR last_rank "${ranks} - 1")
      foreach(r RANGE ${last_rank})
        string(JSON bytes GET "${report}" payload_bytes_per_rank ${r})
        if(NOT bytes EQUAL first)
          message(FATAL_ERROR "${ranks} ranks: rank ${r} sent ${bytes} bytes, rank 0 ${first}")
        endif()
      endforeach()
      if(previous_payload AND NOT first EQUAL previous_payload)
        message(FATAL_ERROR "${ranks} ranks: ${first} bytes per rank, fewer ranks ${previous_payload}")
      endif()
      set(previous_payload ${first})
    endif()
  endforeach()
elseif(CASE STREQUAL "faults")
  # A rank that dies mid-run (the test hook ends rank 1 at step 3 without cleanup).
  set(long ${common} --hidden 16,8 --epochs 40 --batch 48 --shards 12 --seed 5)
  run_job(nonzero 60 ${mpirun} -np 1 ${DAGPROP} ${long} --out ${WORK}/killed
          : -np 1 env DAGPROP_TEST_CRASH_AT_STEP=3 ${DAGPROP} ${long} --out ${WORK}/killed)
  # mpirun names the rank that ended without MPI_Finalize, and its exit status.
  expect_match("${output}" "Process name: \\[\\[[0-9]+,[0-9]+\\],1\\][ \n]*Exit code: *137"
               "a dead rank is named")
  if(seconds GREATER 30)
    message(FATAL_ERROR "the job took ${seconds} s to stop after rank 1 died")
  endif()
  if(EXISTS ${WORK}/killed/metrics.json)
    message(FATAL_ERROR "a job whose rank died left metrics.json")
  endif()

  # A rank with another seed: the start-up check names it.
  run_job(nonzero 60 ${mpirun} -np 1 ${DAGPROP} ${run} --out ${WORK}/seed
          : -np 1 ${DAGPROP} ${common} --hidden 16,8 --epochs 2 --batch 48 --shards 12 --seed 6
            --out ${WORK}/seed)
  expect_match("${output}" "rank 1 of 2 runs a configuration other than rank 0's" "another seed")
  # ... or another model.
  run_job(nonzero 60 ${mpirun} -np 1 ${DAGPROP} ${run} --out ${WORK}/model
          : -np 2 ${DAGPROP} ${common} --hidden 16,9 --epochs 2 --batch 48 --shards 12 --seed 5
            --out ${WORK}/model)
  expect_match("${output}" "ranks 1, 2 of 3 run a configuration other than rank 0's"
               "another model")

  # A dataset that one rank cannot read.
  file(WRITE ${WORK}/data.csv "x,y,label\n")
  foreach(i RANGE 1 60)
    math(EXPR label "${i} % 2")
    file(APPEND ${WORK}/data.csv "${i},${label},${label}\n")
  endforeach()
  set(csv --label-column label --hidden 4 --epochs 1 --batch 8 --shards 4 --no-plots
          --out ${WORK}/csv)
  run_job(nonzero 60 ${mpirun} -np 1 ${DAGPROP} train --data ${WORK}/data.csv ${csv}
          : -np 1 ${DAGPROP} train --data ${WORK}/missing.csv ${csv})
  expect_match("${output}" "rank 1 of 2 cannot start: [^\n]*missing.csv" "a missing dataset")

  # A batch smaller than the rank count.
  run_job(nonzero 60 ${mpirun} -np 3 ${DAGPROP} ${common} --hidden 16,8 --batch 2 --shards 2
          --out ${WORK}/small)
  expect_match("${output}" "a batch of 2 in 2 shards cannot feed 3 ranks" "a batch below the ranks")
  # Divergence: every rank sees the same gradients, so every rank stops at the same step, alike.
  run_job(nonzero 60 ${mpirun} -np 2 ${DAGPROP} ${data} --hidden 16,8 --batch 8 --shards 2
          --activation relu --optimizer sgd --lr 1e30 --out ${WORK}/diverged)
  expect_match("${output}" "training diverged: the gradient of 'layer1/W' holds a NaN or an infinity"
               "a diverged run")
  foreach(folder seed model csv small diverged)
    if(EXISTS ${WORK}/${folder}/metrics.json)
      message(FATAL_ERROR "a job refused at the start left ${folder}/metrics.json")
    endif()
  endforeach()
else()
  message(FATAL_ERROR "CASE must be same_bits or faults")
endif()
