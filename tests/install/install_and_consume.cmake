# Installs dagprop into a fresh prefix and uses it from a separate project, as a user would:
# find_package (with a version and components), pkg-config, and add_subdirectory. Fails if the
# package is broken. Arguments (-D): SOURCE_DIR, BUILD_DIR (a built tree to install from),
# WORK (a scratch folder), GENERATOR, SHARED (ON: first build the libraries and the command as
# shared libraries in WORK and install those instead, checking what they export).
cmake_minimum_required(VERSION 3.25)

function(run_step what)
  execute_process(COMMAND ${ARGN} RESULT_VARIABLE code OUTPUT_VARIABLE out ERROR_VARIABLE err)
  if(NOT code EQUAL 0)
    message(FATAL_ERROR "${what} failed (exit ${code}):\n${out}\n${err}")
  endif()
  set(step_output "${out}${err}" PARENT_SCOPE)
endfunction()

# A configure that must fail, with a message matching `expected`.
function(expect_configure_failure what expected)
  execute_process(COMMAND ${ARGN} RESULT_VARIABLE code OUTPUT_VARIABLE out ERROR_VARIABLE err)
  if(code EQUAL 0)
    message(FATAL_ERROR "${what}: the configure succeeded but should have failed")
  endif()
  if(NOT "${out}${err}" MATCHES "${expected}")
    message(FATAL_ERROR "${what}: the error does not say '${expected}':\n${out}\n${err}")
  endif()
endfunction()

file(REMOVE_RECURSE ${WORK})
file(MAKE_DIRECTORY ${WORK})
set(prefix ${WORK}/prefix)
set(tree ${BUILD_DIR})
set(seed ${SOURCE_DIR}/docs/examples/seed_neuron.cpp)
file(READ ${SOURCE_DIR}/docs/examples/seed_neuron.expected expected_output)
string(STRIP "${expected_output}" expected_output)

if(SHARED)
  set(tree ${WORK}/shared-build)
  run_step("configuring a shared build" ${CMAKE_COMMAND} -S ${SOURCE_DIR} -B ${tree} -G ${GENERATOR}
           -DCMAKE_BUILD_TYPE=Release -DBUILD_SHARED_LIBS=ON -DDAGPROP_BUILD_TESTS=OFF
           -DDAGPROP_BUILD_EXAMPLES=OFF -DDAGPROP_BUILD_TOOLS=ON -DDAGPROP_BENCH_PEERS=OFF)
  run_step("building the shared libraries and the dagprop command" ${CMAKE_COMMAND} --build ${tree}
           --target dagprop_core dagprop_tape dagprop_nn dagprop_io dagprop_viz dagprop_cli)
endif()

run_step("cmake --install" ${CMAKE_COMMAND} --install ${tree} --prefix ${prefix})
foreach(file include/dagprop/dagprop.hpp include/dagprop/graph.hpp include/dagprop/ops.hpp
             include/dagprop/nn/trainer.hpp lib/cmake/dagprop/dagprop-config.cmake
             lib/cmake/dagprop/dagprop-config-version.cmake lib/pkgconfig/dagprop.pc bin/dagprop)
  if(NOT EXISTS ${prefix}/${file})
    message(FATAL_ERROR "cmake --install did not install ${file}")
  endif()
endforeach()
# Internal headers stay out of the prefix.
foreach(file include/dagprop/boost_graph.hpp include/dagprop/memory_plan.hpp include/dagprop/plan.hpp
             include/dagprop/task_partition.hpp)
  if(EXISTS ${prefix}/${file})
    message(FATAL_ERROR "cmake --install installed the internal header ${file}")
  endif()
endforeach()
run_step("the installed dagprop command" ${prefix}/bin/dagprop ops)
if(NOT step_output MATCHES "sigmoid")
  message(FATAL_ERROR "the installed dagprop command did not list the ops:\n${step_output}")
endif()

if(SHARED)
  # The shared libraries export the API (declared in the public headers) and hide the machinery.
  find_program(NM nm REQUIRED)
  file(GLOB core_library ${prefix}/lib/libdagprop_core.so)
  run_step("nm" ${NM} -DC --defined-only ${core_library})
  if(NOT step_output MATCHES "dagprop::relu\\(dagprop::Expr\\)")
    message(FATAL_ERROR "libdagprop_core.so does not export dagprop::relu(Expr)")
  endif()
  if(step_output MATCHES "dagprop::MemoryPlan|dagprop::plan_memory")
    message(FATAL_ERROR "libdagprop_core.so exports the internal memory planner")
  endif()
endif()

# find_package with a version and components, then the umbrella target.
set(consumer ${SOURCE_DIR}/tests/install/consumer)
run_step("configuring a find_package consumer" ${CMAKE_COMMAND} -S ${consumer} -B ${WORK}/find_package
         -G ${GENERATOR} -DCMAKE_PREFIX_PATH=${prefix} -DSEED_NEURON=${seed})
run_step("building the find_package consumer" ${CMAKE_COMMAND} --build ${WORK}/find_package)
run_step("running the find_package consumer" ${WORK}/find_package/seed_neuron)
if(NOT step_output MATCHES "${expected_output}")
  message(FATAL_ERROR "the find_package consumer printed '${step_output}', not '${expected_output}'")
endif()
expect_configure_failure("find_package of a newer version"
                         "compatible with requested version \"0.3\".*version: 0.2.0"
                         ${CMAKE_COMMAND} -S ${consumer} -B ${WORK}/too_new -G ${GENERATOR}
                         -DCMAKE_PREFIX_PATH=${prefix} -DSEED_NEURON=${seed}
                         -DDAGPROP_VERSION_WANTED=0.3)
expect_configure_failure("find_package of an unknown component"
                         "dagprop has no component 'graphs'; its components are:[ \n]+core;tape;nn;io;viz"
                         ${CMAKE_COMMAND} -S ${consumer} -B ${WORK}/bad_component -G ${GENERATOR}
                         -DCMAKE_PREFIX_PATH=${prefix} -DSEED_NEURON=${seed}
                         -DDAGPROP_COMPONENTS_WANTED=graphs)

# pkg-config (static builds need --static for the libraries' own dependencies).
set(ENV{PKG_CONFIG_PATH} ${prefix}/lib/pkgconfig)
set(static ON)
if(SHARED)
  set(static OFF)
endif()
run_step("configuring a pkg-config consumer" ${CMAKE_COMMAND} -S ${consumer} -B ${WORK}/pkg_config
         -G ${GENERATOR} -DDAGPROP_MODE=pkg-config -DDAGPROP_PKG_CONFIG_STATIC=${static}
         -DSEED_NEURON=${seed})
run_step("building the pkg-config consumer" ${CMAKE_COMMAND} --build ${WORK}/pkg_config)
set(run_environment "")
if(SHARED)
  set(run_environment ${CMAKE_COMMAND} -E env LD_LIBRARY_PATH=${prefix}/lib)
endif()
run_step("running the pkg-config consumer" ${run_environment} ${WORK}/pkg_config/seed_neuron)
if(NOT step_output MATCHES "${expected_output}")
  message(FATAL_ERROR "the pkg-config consumer printed '${step_output}', not '${expected_output}'")
endif()

# add_subdirectory: only the libraries, the parent's build type and warnings untouched. Configured,
# not built (building would compile the whole library again).
run_step("configuring an add_subdirectory consumer" ${CMAKE_COMMAND} -S ${consumer}
         -B ${WORK}/add_subdirectory -G ${GENERATOR} -DCMAKE_BUILD_TYPE=Debug
         -DDAGPROP_MODE=add_subdirectory -DDAGPROP_SOURCE_DIR=${SOURCE_DIR} -DSEED_NEURON=${seed})
message(STATUS "dagprop installed and used by find_package, pkg-config and add_subdirectory")
