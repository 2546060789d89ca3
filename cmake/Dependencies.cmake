# Every dependency comes from a Debian package (tools/setup.sh installs them by name).
find_package(Boost 1.74 REQUIRED)
find_package(TBB REQUIRED)
find_package(PkgConfig REQUIRED)
# zlib reads gzip-compressed IDX files (Fashion-MNIST ships as .gz).
find_package(ZLIB REQUIRED)
# Graphviz (libgraphviz-dev) builds, writes and renders pictures in-process: cgraph and gvc.
pkg_check_modules(GRAPHVIZ REQUIRED IMPORTED_TARGET libcgraph libgvc)
# Graph files (nlohmann-json3-dev).
find_package(nlohmann_json 3.10 REQUIRED)
# OpenBLAS (libopenblas-dev) computes matmul: its GEMM is several times faster than Eigen's here.
pkg_check_modules(OPENBLAS REQUIRED IMPORTED_TARGET openblas)
if(DAGPROP_BUILD_TOOLS)
  find_package(CLI11 REQUIRED)
  # Only the sgemm-eigen ceiling of the benchmarks uses Eigen; it is skipped without it.
  find_package(Eigen3 3.4 QUIET NO_MODULE)
endif()
if(DAGPROP_BUILD_TESTS)
  find_package(GTest REQUIRED)
endif()
