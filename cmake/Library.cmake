# dagprop_add_library(NAME SOURCES ... HEADERS ... [OPS_HEADERS ...]): one of dagprop's layered
# libraries, target dagprop_NAME (dagprop::NAME), static or shared as BUILD_SHARED_LIBS says.
#
# Shared builds export the API and nothing else: symbols are hidden by default, and the public
# headers (the HEADERS file sets) open their declarations with DAGPROP_API_BEGIN (<dagprop/export.hpp>),
# so what a user can name is exactly what the library exports. Internal headers under engine/src
# and ops/src stay hidden.
function(dagprop_add_library name)
  cmake_parse_arguments(PARSE_ARGV 1 LIB "" "" "SOURCES;HEADERS;OPS_HEADERS")
  set(target dagprop_${name})
  add_library(${target} ${LIB_SOURCES})
  add_library(dagprop::${name} ALIAS ${target})
  set_target_properties(${target} PROPERTIES EXPORT_NAME ${name} OUTPUT_NAME ${target}
                                             CXX_VISIBILITY_PRESET hidden
                                             POSITION_INDEPENDENT_CODE ON
                                             VERSION ${PROJECT_VERSION}
                                             SOVERSION ${PROJECT_VERSION_MAJOR}.${PROJECT_VERSION_MINOR})
  target_sources(${target} PUBLIC FILE_SET HEADERS BASE_DIRS ${PROJECT_SOURCE_DIR}/engine/include
                 FILES ${LIB_HEADERS})
  if(LIB_OPS_HEADERS)
    target_sources(${target} PUBLIC FILE_SET ops_headers TYPE HEADERS BASE_DIRS
                   ${PROJECT_SOURCE_DIR}/ops/include FILES ${LIB_OPS_HEADERS})
  endif()
  target_compile_features(${target} PUBLIC cxx_std_20)
  dagprop_set_warnings(${target})
endfunction()
