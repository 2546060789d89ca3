# Training that survives interruption, end to end: a run interrupted by a real signal (SIGINT, then
# SIGTERM, sent by the process to itself at a chosen step through a test hook), and a run that dies
# without cleanup after periodic checkpoints, each resumed with `dagprop train --resume`, must end
# with metric files and a model file byte for byte those of an uninterrupted run. Then the trained
# model is evaluated (eval, predict) and drawn with its gradients (dot --grad).
# -DDAGPROP=<the dagprop program> -DWORK=<a scratch folder>
file(REMOVE_RECURSE ${WORK})
set(run train --data moons --samples 600 --hidden 16,8 --activation tanh --optimizer adam --epochs 3
        --batch 32 --validation 0.2 --seed 5 --no-plots)

function(dagprop expected_status)
  execute_process(COMMAND ${ARGN} OUTPUT_VARIABLE out ERROR_VARIABLE err RESULT_VARIABLE status
                  TIMEOUT 120)
  if(NOT status STREQUAL expected_status)
    string(REPLACE ";" " " shown "${ARGN}")
    message(FATAL_ERROR "${shown}\nexited with ${status}, expected ${expected_status}:\n${out}${err}")
  endif()
  set(output "${out}${err}" PARENT_SCOPE)
endfunction()

include(${CMAKE_CURRENT_LIST_DIR}/../support/expect_match.cmake)

function(expect_same_files folder)
  foreach(file metrics.csv metrics.json model.json)
    file(SHA256 ${WORK}/whole/${file} expected)
    file(SHA256 ${WORK}/${folder}/${file} actual)
    if(NOT expected STREQUAL actual)
      message(FATAL_ERROR "${folder}/${file} differs from the uninterrupted run's")
    endif()
  endforeach()
  if(EXISTS ${WORK}/${folder}/checkpoint.json)
    message(FATAL_ERROR "${folder}/checkpoint.json is left after the run finished")
  endif()
endfunction()

dagprop(0 ${DAGPROP} ${run} --out ${WORK}/whole)

# Ctrl-C at step 20 (epoch 2 of 12 steps each): the checkpoint and the metrics so far.
dagprop(130 ${CMAKE_COMMAND} -E env DAGPROP_TEST_SIGNAL_AT_STEP=20 ${DAGPROP} ${run}
        --out ${WORK}/interrupted)
expect_match("${output}" "interrupted at epoch 2, step 8: checkpoint and the metrics so far"
             "the interrupted run's message")
file(READ ${WORK}/interrupted/metrics.json metrics)
expect_match("${metrics}" "\"complete\": false,\n  \"stopped_at\": {\n    \"epoch\": 2,\n    \"step\": 8"
             "metrics.json of the interrupted run")
file(STRINGS ${WORK}/interrupted/metrics.csv rows)
list(LENGTH rows count)
if(NOT count EQUAL 2)
  message(FATAL_ERROR "metrics.csv of the interrupted run should hold its one finished epoch")
endif()
dagprop(0 ${DAGPROP} train --resume ${WORK}/interrupted)
expect_match("${output}" "resuming from .*checkpoint.json at epoch 2, step 8" "the resumed run")
expect_same_files(interrupted)

# SIGTERM at the last step of an epoch (24): the resumed run evaluates that epoch.
dagprop(143 ${CMAKE_COMMAND} -E env DAGPROP_TEST_SIGNAL_AT_STEP=24 DAGPROP_TEST_SIGNAL=TERM
        ${DAGPROP} ${run} --out ${WORK}/terminated)
expect_match("${output}" "terminated at epoch 2, step 12" "the terminated run's message")
dagprop(0 ${DAGPROP} train --resume ${WORK}/terminated)
expect_same_files(terminated)

# A crash at step 30 after checkpoints every 7 steps: the run goes on from step 28.
dagprop(137 ${CMAKE_COMMAND} -E env DAGPROP_TEST_CRASH_AT_STEP=30 ${DAGPROP} ${run}
        --checkpoint-every 7 --out ${WORK}/crashed)
if(NOT EXISTS ${WORK}/crashed/checkpoint.json OR EXISTS ${WORK}/crashed/checkpoint.json.tmp)
  message(FATAL_ERROR "the crashed run should leave its last whole checkpoint and no temporary")
endif()
dagprop(0 ${DAGPROP} train --resume ${WORK}/crashed)
expect_match("${output}" "at epoch 3, step 4" "the run resumed after a crash")
expect_same_files(crashed)

# A damaged checkpoint is refused with the tensor it concerns.
dagprop(130 ${CMAKE_COMMAND} -E env DAGPROP_TEST_SIGNAL_AT_STEP=5 ${DAGPROP} ${run}
        --out ${WORK}/damaged)
file(READ ${WORK}/damaged/checkpoint.json text)
string(FIND "${text}" "\"data\": \"" at)
math(EXPR at "${at} + 12")
string(SUBSTRING "${text}" ${at} 1 character)
if(character STREQUAL "A")
  set(replacement "B")
else()
  set(replacement "A")
endif()
string(SUBSTRING "${text}" 0 ${at} head)
math(EXPR after "${at} + 1")
string(SUBSTRING "${text}" ${after} -1 tail)
file(WRITE ${WORK}/damaged/checkpoint.json "${head}${replacement}${tail}")
dagprop(1 ${DAGPROP} train --resume ${WORK}/damaged)
expect_match("${output}" "crc32 does not match the data of tensor 'layer1/W'" "a damaged checkpoint")

# The trained model: eval gives the accuracy train measured, predict one line per test example.
set(data --data moons --samples 600 --validation 0.2)
dagprop(0 ${DAGPROP} eval ${WORK}/whole/model.json ${data} -o ${WORK}/eval.json)
expect_match("${output}" "accuracy 0\\.[0-9]+ \\([0-9]+ of 120\\).*confusion matrix.*per-class accuracy"
             "dagprop eval")
file(READ ${WORK}/eval.json eval)
file(READ ${WORK}/whole/metrics.json metrics)
string(JSON evaluated GET "${eval}" accuracy)
string(JSON trained GET "${metrics}" final test_accuracy)
if(NOT evaluated STREQUAL trained)
  message(FATAL_ERROR "dagprop eval gives accuracy ${evaluated}, train measured ${trained}")
endif()
dagprop(0 ${DAGPROP} predict ${WORK}/whole/model.json ${data} -o ${WORK}/predictions.csv)
file(STRINGS ${WORK}/predictions.csv lines)
list(LENGTH lines count)
list(GET lines 0 header)
if(NOT count EQUAL 121 OR NOT header STREQUAL "index,label,predicted,probability_0,probability_1")
  message(FATAL_ERROR "predictions.csv: ${count} lines, header '${header}'")
endif()
dagprop(1 ${DAGPROP} eval ${WORK}/whole/model.json --data xor --samples 200 --split validation)
expect_match("${output}" "--split validation: no validation set" "eval without a validation set")

# model.json carries the trained values and the last batch's gradients: dot --grad draws them.
dagprop(0 ${DAGPROP} info ${WORK}/whole/model.json)
expect_match("${output}" "carried with the graph: [1-9][0-9]* values, [1-9][0-9]* gradients" "dagprop info")
dagprop(0 ${DAGPROP} dot ${WORK}/whole/model.json --grad)
# Trained values give gradients that are not all zero (an untrained file drew grey boxes).
expect_match("${output}" "digraph.*layer1.*grad min -0\\.0*[1-9][0-9]* mean" "dagprop dot --grad")
message(STATUS "interrupted, terminated and crashed runs resumed to the same bytes")
