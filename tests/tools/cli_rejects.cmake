# Bad command lines, one table: each row is a command line, the exit status it must end with and a
# regular expression its output must match. A row fails the test if the command crashes, hangs,
# succeeds or says something else. Every numeric option is checked in words, not CLI11's ranges.
# -DDAGPROP=<the dagprop program> -DMODEL=<a graph file with scopes> -DWORK=<a scratch folder>
cmake_policy(SET CMP0007 NEW)  # a row's empty fields stay fields
file(REMOVE_RECURSE ${WORK})
file(MAKE_DIRECTORY ${WORK})

# A Fashion-MNIST folder whose test images are 14x56: as many pixels as 28x28, another shape.
function(write_idx path header_octal pixel_count)
  execute_process(COMMAND sh -c "printf '${header_octal}' > '${path}' && head -c ${pixel_count} /dev/zero >> '${path}'"
                  RESULT_VARIABLE status)
  if(NOT status EQUAL 0)
    message(FATAL_ERROR "cannot write ${path}")
  endif()
endfunction()
set(fashion ${WORK}/fashion)
file(MAKE_DIRECTORY ${fashion})
# magic 0x00000803, n, rows, cols (big-endian); labels: magic 0x00000801, n
write_idx(${fashion}/train-images-idx3-ubyte "\\000\\000\\010\\003\\000\\000\\000\\002\\000\\000\\000\\034\\000\\000\\000\\034" 1568)
write_idx(${fashion}/train-labels-idx1-ubyte "\\000\\000\\010\\001\\000\\000\\000\\002" 2)
write_idx(${fashion}/t10k-images-idx3-ubyte "\\000\\000\\010\\003\\000\\000\\000\\001\\000\\000\\000\\016\\000\\000\\000\\070" 784)
write_idx(${fashion}/t10k-labels-idx1-ubyte "\\000\\000\\010\\001\\000\\000\\000\\001" 1)

# A good Fashion-MNIST folder (28x28 images), and a small trained model for eval and predict.
set(fashion_good ${WORK}/fashion_good)
file(MAKE_DIRECTORY ${fashion_good})
write_idx(${fashion_good}/train-images-idx3-ubyte "\\000\\000\\010\\003\\000\\000\\000\\002\\000\\000\\000\\034\\000\\000\\000\\034" 1568)
write_idx(${fashion_good}/train-labels-idx1-ubyte "\\000\\000\\010\\001\\000\\000\\000\\002" 2)
write_idx(${fashion_good}/t10k-images-idx3-ubyte "\\000\\000\\010\\003\\000\\000\\000\\001\\000\\000\\000\\034\\000\\000\\000\\034" 784)
write_idx(${fashion_good}/t10k-labels-idx1-ubyte "\\000\\000\\010\\001\\000\\000\\000\\001" 1)
execute_process(COMMAND ${DAGPROP} train --data xor --samples 200 --hidden 4 --epochs 1 --batch 20
                        --no-plots --out ${WORK}/model
                OUTPUT_QUIET ERROR_VARIABLE err RESULT_VARIABLE status)
if(NOT status EQUAL 0)
  message(FATAL_ERROR "cannot train the model the eval rows use: ${err}")
endif()

# status | stdout (- or full: /dev/full) | regex | arguments... ('.' stands for ';', which would
# split a row; <empty> for an empty argument, which a CMake list cannot hold)
# 105: a value CLI11 refuses through our checks; 2: no or an unknown command; 1: dagprop::Error.
set(rows
  "105|-|--lr must be a finite number > 0, got 0$|train|--lr|0"
  "105|-|--model: layer 2 'pool 2': unknown layer kind 'pool'. the kinds are conv, maxpool|train|--model|conv 4 3, pool 2"
  "1|-|layer 1 'conv 4 3': takes images \\[batch, channels, height, width\\], but its input is \\[1, 2\\]|train|--model|conv 4 3, flatten, dense 2"
  "1|-|gives \\[3\\] per example, but 'moons' has 2 classes. end the model with 'dense 2'|train|--model|dense 3|--epochs|1"
  "105|-|--lr must be a finite number > 0, got inf|train|--lr|inf"
  "105|-|--lr must be a finite number > 0, got nan|train|--lr|nan"
  "105|-|--lr must be a finite number > 0, got 'fast', which is not a number|train|--lr|fast"
  "105|-|--batch must be a whole number from 1 to 2147483648, got 0|train|--batch|0"
  "105|-|--eval-batch must be a whole number from 1 to 2147483648, got 0|train|--eval-batch|0"
  "105|-|--hidden must be a whole number from 1 to 1048576, got 'abc', which is not a whole number|train|--hidden|abc"
  "105|-|--hidden must be a whole number from 1 to 1048576, got an empty value|train|--hidden|<empty>"
  "105|-|--hidden must be a whole number from 1 to 1048576, got 0|train|--hidden|16,0"
  "105|-|--epochs must be a whole number from 1 to 100000, got 'abc', which is not a whole number|train|--epochs|abc"
  "105|-|--epochs must be a whole number from 1 to 100000, got '2.5', which is not a whole number|train|--epochs|2.5"
  "105|-|--seed must be a whole number from 0 to 18446744073709551615, got -1|train|--seed|-1"
  "105|-|--seed must be a whole number from 0 to 18446744073709551615, got 18446744073709551616|train|--seed|18446744073709551616"
  "105|-|--data-seed must be a whole number from 0 to 18446744073709551615, got -3|train|--data-seed|-3"
  "105|-|--momentum must be a number from 0 to 0.999, got 1$|train|--momentum|1"
  "105|-|--weight-decay must be a finite number >= 0, got -0.1|train|--weight-decay|-0.1"
  "105|-|--gamma must be a number from 1e-06 to 1, got 0$|train|--gamma|0"
  "105|-|--step-epochs must be a whole number from 1 to 100000, got 0|train|--step-epochs|0"
  "105|-|--samples must be a whole number from 2 to 67108864, got 1$|train|--samples|1"
  "105|-|--noise must be a number from 0 to 10, got -1|train|--noise|-1"
  "105|-|--test-fraction must be a number from 0.01 to 0.9, got 0$|train|--test-fraction|0"
  "105|-|--validation must be a number from 0 to 0.9, got 0.95|train|--validation|0.95"
  "105|-|--train-subset must be a whole number from 0 to 1099511627776, got -5|train|--train-subset|-5"
  "105|-|--checkpoint-every must be a whole number from 0 to 1099511627776, got -1|train|--checkpoint-every|-1"
  "105|-|--seeds must be a whole number from 1 to 100, got 0|study|activations|--seeds|0"
  "105|-|--first-seed must be a whole number from 0 to 18446744073709551615, got -1|study|activations|--first-seed|-1"
  "105|-|--threshold must be a number from 0 to 1, got 2|study|activations|--threshold|2"
  "105|-|--probes-per-epoch must be a whole number from 1 to 1000, got 0|study|activations|--probes-per-epoch|0"
  "105|-|--lr must be a finite number > 0, got nan|study|activations|--lr|nan"
  "105|-|--top-k must be a whole number from 0 to 1099511627776, got -1|dot|${MODEL}|--top-k|-1"
  "105|-|--rankdir: XY not in {auto,LR,TB,RL,BT}|dot|${MODEL}|--rankdir|XY"
  "2|-|unknown command 'bogus'. the commands are demo, ops, train, eval, predict, study, dot, info|bogus"
  "2|-|a command is required. the commands are demo, ops, train, eval, predict, study, dot, info|"
  "1|-|--train-subset 500 is larger than the 160 training examples of xor. give at most 160|train|--data|xor|--samples|200|--train-subset|500"
  "1|-|--collapse 'nothing' matches no scope of the graph. its top-level scopes are 'layer1', 'layer2'|dot|${MODEL}|--collapse|layer1|nothing"
  "1|-|--collapse 'layer' matches no scope|dot|${MODEL}|--collapse|layer"
  "1|-|t10k-images-idx3-ubyte holds images of 14x56 pixels.*expected 28x28 images|train|--data|fashion-mnist|--data-dir|${fashion}"
  "1|-|cannot write the picture '/sys/dagprop.svg': Permission denied. check that its folder exists and is writable|dot|${MODEL}|-o|/sys/dagprop.svg"
  "1|-|cannot write the picture '${WORK}/missing/m.svg': No such file or directory. check that its folder exists|dot|${MODEL}|-o|${WORK}/missing/m.svg"
  "1|-|cannot create the output folder '/proc/dagprop-run': No such file or directory. choose another --out|train|--data|xor|--out|/proc/dagprop-run"
  "1|-|--resume ${WORK}: there is no checkpoint.json in it|train|--resume|${WORK}"
  "1|-|--resume takes no other options \\(got --epochs\\)|train|--resume|${WORK}|--epochs|3"
  "1|-|model '${MODEL}' is a graph file but not a classifier written by dagprop train|eval|${MODEL}|--data|xor"
  "1|-|cannot read graph file '${WORK}/none.json'|predict|${WORK}/none.json|--data|xor"
  "1|-|cannot write '/sys/predictions.csv': Permission denied. check that its folder exists|predict|${WORK}/model/model.json|--data|xor|--samples|200|-o|/sys/predictions.csv"
  "1|-|cannot write '${WORK}/missing/eval.json': No such file or directory. check that its folder exists|eval|${WORK}/model/model.json|--data|xor|--samples|200|-o|${WORK}/missing/eval.json"
  "1|-|model '${WORK}/model/model.json' takes 2 features per example, but fashion-mnist/test has 784|eval|${WORK}/model/model.json|--data|fashion-mnist|--data-dir|${fashion_good}"
  "1|full|cannot write the output to standard output: No space left on device|info|${MODEL}"
  "1|full|cannot write the DOT text to standard output: No space left on device|dot|${MODEL}"
)

set(failures "")
foreach(row IN LISTS rows)
  string(REPLACE "|" ";" fields "${row}")
  list(POP_FRONT fields expected_status stdout_to expected_output)
  set(redirect "")
  if(stdout_to STREQUAL "full")
    set(redirect OUTPUT_FILE /dev/full)
  else()
    set(redirect OUTPUT_VARIABLE out)
  endif()
  set(out "")
  set(empty_argument "")
  list(LENGTH fields argument_count)
  set(last "")
  if(argument_count GREATER 0)
    list(GET fields -1 last)
  endif()
  if(last STREQUAL "<empty>")
    list(POP_BACK fields)
    set(empty_argument ON)
  endif()
  if(empty_argument)
    execute_process(COMMAND ${DAGPROP} ${fields} "" ${redirect} ERROR_VARIABLE err
                    RESULT_VARIABLE status TIMEOUT 60)
  else()
    execute_process(COMMAND ${DAGPROP} ${fields} ${redirect} ERROR_VARIABLE err
                    RESULT_VARIABLE status TIMEOUT 60)
  endif()
  string(STRIP "${out}${err}" all)
  string(REPLACE ";" " " shown "${fields}")
  if(NOT status STREQUAL expected_status)
    string(APPEND failures "\n  dagprop ${shown}: exit ${status}, expected ${expected_status}:\n    ${all}")
  elseif(NOT all MATCHES "${expected_output}")
    string(APPEND failures "\n  dagprop ${shown}: output does not match '${expected_output}':\n    ${all}")
  endif()
endforeach()
list(LENGTH rows count)
if(failures)
  message(FATAL_ERROR "bad command lines not rejected as expected:${failures}")
endif()
message(STATUS "${count} bad command lines rejected with their messages")
