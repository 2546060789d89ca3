// What the bits of a run depend on, and the portable products mode that removes the CPU from that
// list. docs/architecture.md#reproducibility states the promise and what was measured.
//
// A run's numbers are a function of its inputs and of: the matmul kernels (OpenBLAS's, chosen for
// the CPU or by OPENBLAS_CORETYPE, with their version; or dagprop's portable ones), glibc's libm
// (its exp, log, log1p, expm1 differ in the last bit between its FMA and SSE2 builds, which it
// picks by CPU), and the floating-point environment (flush-to-zero and denormals-are-zero, the
// rounding mode). They do not depend on dagprop's thread count, on OpenBLAS's thread count (dagprop
// runs each product on one OpenBLAS thread), on the cache sizes or OPENBLAS_L2_SIZE, or on the
// vector width of dagprop's own loops.
#pragma once

#include <string>
#include <utility>
#include <vector>

#include <dagprop/export.hpp>

DAGPROP_API_BEGIN
namespace dagprop {

// How matmul computes its products.
enum class MatmulKernels {
  // OpenBLAS's GEMM: fastest, and the same bits wherever OpenBLAS runs the same kernels (same
  // version, same core type: blas_kernels()).
  blas,
  // dagprop's own GEMM (ops/src/portable_gemm.hpp): every element the same chain of fused
  // multiply-adds in order of k, so the same bits on every x86-64 CPU and for any blocking, vector
  // width and thread count; its cost is measured in docs/performance.md.
  portable,
};

// The kernels every matmul uses from now on (process-wide). The default comes from the environment
// variable DAGPROP_MATMUL_KERNELS ("blas" or "portable"; anything else is an Error at the first
// product), else blas.
void set_matmul_kernels(MatmulKernels kernels);
MatmulKernels matmul_kernels();
std::string to_string(MatmulKernels kernels);

// One setting that the bits of a run may depend on: a key ("blas.core") and its value in words.
struct ReproducibilitySetting {
  std::string key, value;
};

// Every such setting of this process, in a fixed order, each key always present:
//   dagprop.version, compiler, build.type, build.flags, matmul.kernels, matmul.blocks,
//   products.fingerprint,
//   blas.config, blas.core, blas.threads, vector_math.isa (that of the portable GEMM too),
//   vector_math.fingerprint, libc, libm.fingerprint, cpu.model, cpu.id, cpu.features,
//   cpu.threads, fpu.mxcsr, dagprop.threads, environment.
// The fingerprints are 64-bit hashes (FNV-1a) of the bits of fixed computations done now through
// the same code the ops use (a few products through the kernels in force; the vectorized sigmoid
// and tanh; libm's exp, log, log1p, expm1 in double): two processes whose fingerprints and settings
// agree compute those identically, whatever made them differ otherwise. A few milliseconds.
std::vector<ReproducibilitySetting> reproducibility_settings();

}  // namespace dagprop
DAGPROP_API_END
