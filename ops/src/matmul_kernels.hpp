// How matmul reaches its GEMM, for the record of reproducibility.cpp. Private to the library.
#pragma once

#include <cstddef>
#include <cstdint>
#include <string>

namespace dagprop::ops {

// OpenBLAS runs each product on the calling thread only (openblas_set_num_threads(1), once for the
// process, before the first product): parallelism comes from dagprop's blocks, and OpenBLAS's own
// threading would change the bits with the thread count (it does: docs/architecture.md).
void use_single_threaded_blas();

// A 64-bit FNV-1a hash of bytes, continued from `hash` (start from kFingerprintStart): the
// fingerprints of the reproducibility record. No library: the core links neither zlib nor more.
inline constexpr std::uint64_t kFingerprintStart = 14695981039346656037ULL;
inline std::uint64_t fingerprint_bytes(std::uint64_t hash, const void* data, std::size_t size) {
  const unsigned char* bytes = static_cast<const unsigned char*>(data);
  for (std::size_t i = 0; i < size; ++i) hash = (hash ^ bytes[i]) * 1099511628211ULL;
  return hash;
}

// The fingerprint of a few fixed float and double products (plain and transposed operands, full and
// edge tiles, one cut into blocks) computed as matmul computes them now: its blocks, through the
// kernels of matmul_kernels().
std::uint64_t products_fingerprint();

// The rule that cuts a product into blocks, one GEMM call each, in words. With OpenBLAS's Haswell
// kernels an element's bits depend on the call it is computed in, so the rule is part of the
// record: a change of it changes results (docs/architecture.md#reproducibility).
std::string matmul_block_rule();

}  // namespace dagprop::ops
