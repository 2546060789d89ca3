# The includes show what the folders say (CMakeLists.txt): dagprop::core (engine/src,
# engine/include/dagprop, then ops/ on top of them) at the bottom; tape, nn, io and viz each above core and beside one
# another, never including each other's headers; and every public header marks its declarations as
# the exported API (DAGPROP_API_BEGIN ... DAGPROP_API_END, <dagprop/export.hpp>).
# Argument: -DSOURCE_DIR.
cmake_minimum_required(VERSION 3.25)

# Headers of each layer above core, as they are included.
set(tape_headers "dagprop/scalar_tape\\.hpp")
set(nn_headers "dagprop/(nn|data)/")
set(io_headers "dagprop/(graph_io|npy)\\.hpp")
set(viz_headers "dagprop/dot\\.hpp")
set(onnx_headers "dagprop/onnx\\.hpp")
set(umbrella_header "dagprop/dagprop\\.hpp")
# dagprop::distributed (above nn) and MPI itself: only engine/src/distributed includes them.
set(distributed_headers "dagprop/distributed/" "<mpi\\.h>")

set(ops_headers "dagprop/(ops|op_docs)\\.hpp" "\"(op_helpers|vector_math)\\.hpp\"")

# Sources and public headers of each layer. Inside dagprop::core, the engine's own part
# (engine/src, engine/include/dagprop: the graph, the op table's interface, the leaves, plans,
# autodiff) is below ops/ (the built-in ops), which builds on it; engine/src/transforms builds on
# the ops in turn.
file(GLOB engine_core_files ${SOURCE_DIR}/engine/src/*.cpp ${SOURCE_DIR}/engine/src/*.hpp
     ${SOURCE_DIR}/engine/include/dagprop/*.hpp)
list(FILTER engine_core_files EXCLUDE REGEX "/(scalar_tape|graph_io|npy|dot|onnx|dagprop)\\.hpp$")
file(GLOB ops_files ${SOURCE_DIR}/ops/src/* ${SOURCE_DIR}/ops/include/dagprop/*.hpp)
set(core_files ${engine_core_files} ${ops_files})
file(GLOB tape_files ${SOURCE_DIR}/engine/src/tape/* ${SOURCE_DIR}/engine/include/dagprop/scalar_tape.hpp)
file(GLOB nn_files ${SOURCE_DIR}/engine/src/nn/* ${SOURCE_DIR}/engine/src/data/*
     ${SOURCE_DIR}/engine/include/dagprop/nn/* ${SOURCE_DIR}/engine/include/dagprop/data/*)
file(GLOB io_files ${SOURCE_DIR}/engine/src/io/* ${SOURCE_DIR}/engine/include/dagprop/graph_io.hpp
     ${SOURCE_DIR}/engine/include/dagprop/npy.hpp)
file(GLOB onnx_files ${SOURCE_DIR}/engine/src/onnx/* ${SOURCE_DIR}/engine/include/dagprop/onnx.hpp)
file(GLOB viz_files ${SOURCE_DIR}/engine/src/viz/* ${SOURCE_DIR}/engine/include/dagprop/dot.hpp)

set(problems "")
function(forbid layer files)  # the files of `layer` may include none of the headers after them
  foreach(file IN LISTS files)
    file(STRINGS ${file} includes REGEX "^#include [<\"]")
    foreach(line IN LISTS includes)
      foreach(pattern IN LISTS ARGN)
        if(line MATCHES "${pattern}")
          file(RELATIVE_PATH relative ${SOURCE_DIR} ${file})
          string(APPEND problems "\n  ${relative} (${layer}): ${line}")
        endif()
      endforeach()
    endforeach()
  endforeach()
  set(problems "${problems}" PARENT_SCOPE)
endfunction()

forbid("core: engine" "${engine_core_files}" ${ops_headers})
forbid(core "${core_files}" ${tape_headers} ${nn_headers} ${io_headers} ${viz_headers}
       ${umbrella_header} ${distributed_headers})
forbid(tape "${tape_files}" ${nn_headers} ${io_headers} ${viz_headers} ${umbrella_header})
forbid(nn "${nn_files}" ${tape_headers} ${io_headers} ${viz_headers} ${umbrella_header}
       ${distributed_headers})
forbid(io "${io_files}" ${tape_headers} ${nn_headers} ${viz_headers} ${umbrella_header})
forbid(viz "${viz_files}" ${tape_headers} ${nn_headers} ${io_headers} ${umbrella_header})
forbid(onnx "${onnx_files}" ${tape_headers} ${nn_headers} ${io_headers} ${viz_headers}
       ${umbrella_header})
forbid(core "${core_files}" ${onnx_headers})
# The engine core and the layers above it know no particular op but the core's own leaves
# (LeafOp): an op's special behaviour (its operand names, its units' kind) is a property it
# declares in its OpDef. Only ops/ names op codes.
foreach(file IN LISTS engine_core_files viz_files io_files onnx_files)
  file(STRINGS ${file} uses REGEX "OpCode::")
  if(uses)
    file(RELATIVE_PATH relative ${SOURCE_DIR} ${file})
    string(APPEND problems "\n  ${relative} names a particular op: ${uses}")
  endif()
endforeach()
if(problems)
  message(FATAL_ERROR "includes that point against the layering (core <- tape, nn, io, viz):"
                      "${problems}\nMove the code to the layer whose dependencies it needs.")
endif()

# Every public header declares its API between DAGPROP_API_BEGIN and DAGPROP_API_END.
file(GLOB_RECURSE public_headers ${SOURCE_DIR}/engine/include/dagprop/*.hpp
     ${SOURCE_DIR}/ops/include/dagprop/*.hpp)
list(FILTER public_headers EXCLUDE REGEX "/(export|dagprop)\\.hpp$")
set(unmarked "")
foreach(header IN LISTS public_headers)
  file(READ ${header} text)
  if(NOT text MATCHES "DAGPROP_API_BEGIN" OR NOT text MATCHES "DAGPROP_API_END")
    file(RELATIVE_PATH relative ${SOURCE_DIR} ${header})
    string(APPEND unmarked "\n  ${relative}")
  endif()
endforeach()
if(unmarked)
  message(FATAL_ERROR "public headers whose declarations are not marked as the exported API "
                      "(a shared dagprop would hide them):${unmarked}\nInclude <dagprop/export.hpp> "
                      "and put DAGPROP_API_BEGIN before `namespace dagprop {`, DAGPROP_API_END after "
                      "its end.")
endif()
message(STATUS "layering and exported API: ${CMAKE_CURRENT_LIST_FILE} found nothing against them")
