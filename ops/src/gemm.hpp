// The BLAS GEMM call of the convolutions (matmul has its own, which can also run the portable
// kernels: ops/src/matmul.cpp). Callers first call use_single_threaded_blas(). Private to ops/.
#pragma once

#include <cblas.h>

#include <cstdint>
#include <type_traits>

#include "matmul_kernels.hpp"  // use_single_threaded_blas(): OpenBLAS on the calling thread only

namespace dagprop::ops {

// C[rows x cols] = op(A) op(B) + beta C with leading dimensions in elements, row-major. The caller
// checks that every extent fits the BLAS integer.
template <class T>
void gemm(bool a_transposed, bool b_transposed, std::int64_t rows, std::int64_t cols,
          std::int64_t k, const T* a, std::int64_t lda, const T* b, std::int64_t ldb, T* c,
          std::int64_t ldc, T beta = T(0)) {
  const CBLAS_TRANSPOSE ta = a_transposed ? CblasTrans : CblasNoTrans;
  const CBLAS_TRANSPOSE tb = b_transposed ? CblasTrans : CblasNoTrans;
  const auto i = [](std::int64_t v) { return static_cast<blasint>(v); };
  if constexpr (std::is_same_v<T, float>) {
    cblas_sgemm(CblasRowMajor, ta, tb, i(rows), i(cols), i(k), 1.0F, a, i(lda), b, i(ldb), beta, c,
                i(ldc));
  } else {
    cblas_dgemm(CblasRowMajor, ta, tb, i(rows), i(cols), i(k), 1.0, a, i(lda), b, i(ldb), beta, c,
                i(ldc));
  }
}

}  // namespace dagprop::ops
