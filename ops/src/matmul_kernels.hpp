// How matmul reaches its GEMM, for the record of reproducibility.cpp. Private to the library.
#pragma once

#include <cstdint>

namespace dagprop::ops {

// OpenBLAS runs each product on the calling thread only (openblas_set_num_threads(1), once for the
// process, before the first product): parallelism comes from dagprop's blocks, and OpenBLAS's own
// threading would change the bits with the thread count (it does: docs/architecture.md).
void use_single_threaded_blas();

// CRC-32 of a few fixed float and double products (plain and transposed operands, full and edge
// tiles) computed through the kernels matmul uses now (matmul_kernels()).
std::uint32_t products_fingerprint();

}  // namespace dagprop::ops
