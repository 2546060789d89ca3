// dagprop's own GEMM for the portable products mode (set_matmul_kernels, reproducibility.hpp): the
// same bits on every x86-64 CPU, whatever OpenBLAS would pick there. Private to ops/.
//
// Every output element is one defined chain of operations: c = 0, then c = fma(a_ip, b_pj, c) for
// p = 0, 1, ..., k-1 in that order, each fma rounded once (IEEE 754 fusedMultiplyAdd). The cache
// blocking, the packing, the tile sizes and the vector width decide only which elements are
// computed when, never how: the chain of one element crosses k-blocks through the stored partial
// value, which is the same float the register held. So the AVX-512, AVX2 and baseline builds agree
// bit for bit, as do any blocking and thread count. Subnormals are computed, never flushed, as
// long as the MXCSR is left at its default (reproducibility_settings() records it).
#pragma once

#include <cstdint>

namespace dagprop::ops {

// C[rows x cols] (row-major, leading dimension ldc) = op(A) op(B), op(X) = X or X^T, with A and B
// row-major with leading dimensions lda and ldb as stored (before the transpose). C is
// overwritten, never read. Instantiated for float and double. `isa` null: the build for this CPU
// (vector_isa()); "avx512", "avx2" or "baseline": that build (tests compare them; the CPU must
// have it).
template <class T>
void portable_gemm(bool a_transposed, bool b_transposed, std::int64_t rows, std::int64_t cols,
                   std::int64_t k, const T* a, std::int64_t lda, const T* b, std::int64_t ldb, T* c,
                   std::int64_t ldc, const char* isa = nullptr);

}  // namespace dagprop::ops
