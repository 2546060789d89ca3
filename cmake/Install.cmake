# cmake --install: headers, the libraries, a versioned CMake package with exported targets
# (find_package(dagprop 0.2 REQUIRED COMPONENTS nn viz)) and a pkg-config file (dagprop.pc).
# The dagprop command is installed by tools/CMakeLists.txt.
include(GNUInstallDirs)
include(CMakePackageConfigHelpers)

set(DAGPROP_CMAKE_DIR ${CMAKE_INSTALL_LIBDIR}/cmake/dagprop)
set(DAGPROP_COMPONENTS core tape nn io viz)
if(TARGET dagprop_onnx)
  list(APPEND DAGPROP_COMPONENTS onnx)
endif()

foreach(component IN LISTS DAGPROP_COMPONENTS)
  set(extra_file_sets "")
  if(component STREQUAL "core")
    set(extra_file_sets FILE_SET ops_headers)
  endif()
  install(TARGETS dagprop_${component} EXPORT dagprop-${component}-targets
          ARCHIVE DESTINATION ${CMAKE_INSTALL_LIBDIR}
          LIBRARY DESTINATION ${CMAKE_INSTALL_LIBDIR}
          RUNTIME DESTINATION ${CMAKE_INSTALL_BINDIR}
          FILE_SET HEADERS ${extra_file_sets})
  install(EXPORT dagprop-${component}-targets NAMESPACE dagprop:: DESTINATION ${DAGPROP_CMAKE_DIR})
endforeach()
# dagprop::distributed (MPI), where it is built: its library, which the installed dagprop command
# links, and its header; not a package component yet (docs/distributed.md).
if(TARGET dagprop_distributed)
  install(TARGETS dagprop_distributed
          ARCHIVE DESTINATION ${CMAKE_INSTALL_LIBDIR}
          LIBRARY DESTINATION ${CMAKE_INSTALL_LIBDIR}
          RUNTIME DESTINATION ${CMAKE_INSTALL_BINDIR}
          FILE_SET HEADERS)
endif()
# The umbrella target is made by the package itself (from the components found); its header:
install(FILES ${DAGPROP_INCLUDE}/dagprop/dagprop.hpp DESTINATION ${CMAKE_INSTALL_INCLUDEDIR}/dagprop)

configure_package_config_file(cmake/dagprop-config.cmake.in
                              ${PROJECT_BINARY_DIR}/dagprop-config.cmake
                              INSTALL_DESTINATION ${DAGPROP_CMAKE_DIR})
# 0.x: a new minor version may change the API, so only the same minor version is compatible.
write_basic_package_version_file(${PROJECT_BINARY_DIR}/dagprop-config-version.cmake
                                 COMPATIBILITY SameMinorVersion)
install(FILES ${PROJECT_BINARY_DIR}/dagprop-config.cmake
              ${PROJECT_BINARY_DIR}/dagprop-config-version.cmake
        DESTINATION ${DAGPROP_CMAKE_DIR})

# pkg-config: `pkg-config --cflags --libs dagprop` (add --static for a static build).
if(BUILD_SHARED_LIBS)
  set(DAGPROP_PC_REQUIRES "tbb")
  set(DAGPROP_PC_REQUIRES_PRIVATE "openblas zlib libcgraph libgvc")
else()
  # A static library's own dependencies must be on every link line.
  set(DAGPROP_PC_REQUIRES "tbb openblas zlib libcgraph libgvc")
  set(DAGPROP_PC_REQUIRES_PRIVATE "")
endif()
# Relocatable: the prefix is found from the file's own place (pkg-config's ${pcfiledir}), so the
# package works wherever `cmake --install --prefix` puts it.
set(DAGPROP_PC_DIR ${CMAKE_INSTALL_LIBDIR}/pkgconfig)
string(REGEX REPLACE "[^/]+" ".." DAGPROP_PC_TO_PREFIX "${DAGPROP_PC_DIR}")
configure_file(cmake/dagprop.pc.in ${PROJECT_BINARY_DIR}/dagprop.pc @ONLY)
install(FILES ${PROJECT_BINARY_DIR}/dagprop.pc DESTINATION ${DAGPROP_PC_DIR})
