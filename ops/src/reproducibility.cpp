// The record of what a run's bits depend on (reproducibility.hpp): read from OpenBLAS, glibc, the
// CPU, the MXCSR, the build and the environment, plus fingerprints computed now.
#include <dagprop/reproducibility.hpp>

#include <cblas.h>
#include <gnu/libc-version.h>

#include <cmath>
#include <cstdint>
#include <cstdio>
#include <cstring>
#include <string_view>
#include <thread>

#include <dagprop/graph.hpp>

#include "matmul_kernels.hpp"
#include "vector_math.hpp"

#if defined(__x86_64__)
#include <cpuid.h>
#include <xmmintrin.h>
#endif

extern char** environ;  // POSIX: the process's environment

namespace dagprop {
namespace {

// The vectorized float maps the sigmoid and tanh ops use, compiled here the same way.
DAGPROP_FLOAT_MAP(fingerprint_logistic, [](float x) { return ops::logistic(x); })
DAGPROP_FLOAT_MAP(fingerprint_tanh, [](float x) { return ops::hyperbolic_tangent(x); })

std::string hex64(std::uint64_t v) {
  char text[24];
  std::snprintf(text, sizeof text, "%016llx", static_cast<unsigned long long>(v));
  return text;
}

template <class T>
std::uint64_t hash_of(std::uint64_t hash, const std::vector<T>& values) {
  return ops::fingerprint_bytes(hash, values.data(), values.size() * sizeof(T));
}

// Inputs over [-40, 40] (and their magnitudes for log), where every function below is finite.
std::vector<double> fingerprint_inputs() {
  std::vector<double> x(4096);
  std::uint64_t state = 7;
  for (double& v : x) {
    state = state * 6364136223846793005ULL + 1442695040888963407ULL;
    v = (static_cast<double>(state >> 11) * 0x1p-53 - 0.5) * 80;
  }
  return x;
}

std::string vector_math_fingerprint() {
  const std::vector<double> inputs = fingerprint_inputs();
  std::vector<float> x(inputs.begin(), inputs.end()), y(x.size());
  std::uint64_t hash = ops::kFingerprintStart;
  fingerprint_logistic()(x.data(), y.data(), static_cast<std::int64_t>(x.size()));
  hash = hash_of(hash, y);
  fingerprint_tanh()(x.data(), y.data(), static_cast<std::int64_t>(x.size()));
  return hex64(hash_of(hash, y));
}

// libm's double functions that the ops call (softmax, the losses, softplus, elu, gelu): glibc picks
// an FMA or an SSE2 build of each by CPU. Called through volatile pointers so that the compiler
// cannot fold or vectorize them: these are the library's results.
std::string libm_fingerprint() {
  using Function = double (*)(double);
  static Function const functions[] = {
      [](double v) { return std::exp(v); }, [](double v) { return std::log(std::fabs(v)); },
      [](double v) { return std::log1p(std::fabs(v)); }, [](double v) { return std::expm1(v); },
      [](double v) { return std::tanh(v); }};
  const std::vector<double> inputs = fingerprint_inputs();
  std::vector<double> y(inputs.size());
  std::uint64_t hash = ops::kFingerprintStart;
  for (Function f : functions) {
    Function volatile call = f;
    for (std::size_t i = 0; i < inputs.size(); ++i) y[i] = call(inputs[i]);
    hash = hash_of(hash, y);
  }
  return hex64(hash);
}

std::string cpu_model() {
#if defined(__x86_64__)
  unsigned int brand[12] = {};
  unsigned int max_leaf = __get_cpuid_max(0x80000000U, nullptr);
  if (max_leaf >= 0x80000004U) {
    for (unsigned int leaf = 0; leaf < 3; ++leaf) {
      __get_cpuid(0x80000002U + leaf, &brand[4 * leaf], &brand[4 * leaf + 1], &brand[4 * leaf + 2],
                  &brand[4 * leaf + 3]);
    }
    std::string text(reinterpret_cast<const char*>(brand), sizeof brand);
    text.resize(std::strlen(text.c_str()));
    const auto first = text.find_first_not_of(' ');
    const auto last = text.find_last_not_of(' ');
    if (first != std::string::npos) return text.substr(first, last - first + 1);
  }
#endif
  return "unknown";
}

// The vendor and the family, model and stepping as cpuid reports them (Zen 4 is family 25, Zen 5
// family 26): hosts of one brand string can differ here.
std::string cpu_id() {
#if defined(__x86_64__)
  unsigned int eax = 0, ebx = 0, ecx = 0, edx = 0;
  if (__get_cpuid(0, &eax, &ebx, &ecx, &edx) == 0) return "unknown";
  char vendor[13] = {};
  std::memcpy(vendor, &ebx, 4);
  std::memcpy(vendor + 4, &edx, 4);
  std::memcpy(vendor + 8, &ecx, 4);
  __get_cpuid(1, &eax, &ebx, &ecx, &edx);
  const unsigned int base_family = (eax >> 8) & 0xFU, base_model = (eax >> 4) & 0xFU;
  const unsigned int family =
      base_family == 0xFU ? base_family + ((eax >> 20) & 0xFFU) : base_family;
  const unsigned int model = base_family == 0xFU || base_family == 0x6U
                                 ? base_model + (((eax >> 16) & 0xFU) << 4)
                                 : base_model;
  return std::string(vendor) + " family " + std::to_string(family) + " model " +
         std::to_string(model) + " stepping " + std::to_string(eax & 0xFU);
#else
  return "unknown";
#endif
}

// The instruction-set features that decide a kernel choice: OpenBLAS's core type, glibc's libm
// builds (fma, avx2), dagprop's vector loops (avx2, fma, avx512*).
std::string cpu_features() {
#if defined(__x86_64__)
  __builtin_cpu_init();
  std::string text;
  const auto add = [&text](bool supported, const char* name) {
    if (!supported) return;
    if (!text.empty()) text += ' ';
    text += name;
  };
  add(__builtin_cpu_supports("sse2"), "sse2");
  add(__builtin_cpu_supports("sse4.2"), "sse4.2");
  add(__builtin_cpu_supports("avx"), "avx");
  add(__builtin_cpu_supports("avx2"), "avx2");
  add(__builtin_cpu_supports("fma"), "fma");
  add(__builtin_cpu_supports("avx512f"), "avx512f");
  add(__builtin_cpu_supports("avx512vl"), "avx512vl");
  add(__builtin_cpu_supports("avx512bw"), "avx512bw");
  add(__builtin_cpu_supports("avx512dq"), "avx512dq");
  return text.empty() ? "none" : text;
#else
  return "not x86-64";
#endif
}

// MXCSR of the calling thread: flush-to-zero and denormals-are-zero change results with subnormal
// operands (-ffast-math programs and some libraries set them); the rounding mode changes every
// inexact result. dagprop never changes it; TBB's workers take the value of the thread that
// created the arena.
std::string fpu_state() {
#if defined(__x86_64__)
  const unsigned int csr = _mm_getcsr();
  static const char* const rounding[] = {"to nearest", "down", "up", "toward zero"};
  char text[96];
  std::snprintf(text, sizeof text, "0x%04x (flush-to-zero %s, denormals-are-zero %s, rounding %s)",
                csr, (csr & 0x8000U) != 0 ? "on" : "off", (csr & 0x40U) != 0 ? "on" : "off",
                rounding[(csr >> 13) & 3U]);
  return text;
#else
  return "unknown";
#endif
}

// The variables that choose kernels, thread counts or libm builds, as NAME=value separated by
// spaces, in environment order; "none" when none is set.
std::string relevant_environment() {
  static constexpr std::string_view kPrefixes[] = {"OPENBLAS_", "GOTO_",           "OMP_",
                                                   "DAGPROP_",  "GLIBC_TUNABLES=", "LD_PRELOAD="};
  std::string text;
  for (char** entry = environ; entry != nullptr && *entry != nullptr; ++entry) {
    const std::string_view variable(*entry);
    for (std::string_view prefix : kPrefixes) {
      if (!variable.starts_with(prefix)) continue;
      if (!text.empty()) text += ' ';
      text += variable;
      break;
    }
  }
  return text.empty() ? "none" : text;
}

std::string compiler() {
#if defined(__clang__)
  return std::string("clang ") + __clang_version__;
#elif defined(__GNUC__)
  return std::string("g++ ") + __VERSION__;
#else
  return "unknown";
#endif
}

// The flags dagprop was compiled with (CMakeLists.txt passes them), and what they imply for the
// arithmetic: contraction of a * b + c into fma is off, fast-math is off.
std::string build_flags() {
  std::string text = DAGPROP_BUILD_FLAGS;
#if defined(__FAST_MATH__)
  text += " (fast-math: results depend on the compiler's choices)";
#endif
  return text;
}

}  // namespace

std::vector<ReproducibilitySetting> reproducibility_settings() {
  ops::use_single_threaded_blas();  // the thread count products run with
  const MatmulKernels kernels = matmul_kernels();
  return {
      {"dagprop.version", DAGPROP_VERSION},
      {"compiler", compiler()},
      {"build.type", DAGPROP_BUILD_TYPE},
      {"build.flags", build_flags()},
      {"matmul.kernels", to_string(kernels)},
      {"matmul.blocks", ops::matmul_block_rule()},
      {"products.fingerprint", hex64(ops::products_fingerprint())},
      {"blas.config", openblas_get_config()},
      {"blas.core", openblas_get_corename()},
      {"blas.threads", std::to_string(openblas_get_num_threads())},
      {"vector_math.isa", ops::vector_isa()},
      {"vector_math.fingerprint", vector_math_fingerprint()},
      {"libc",
       std::string("glibc ") + gnu_get_libc_version() + " (" + gnu_get_libc_release() + ")"},
      {"libm.fingerprint", libm_fingerprint()},
      {"cpu.model", cpu_model()},
      {"cpu.id", cpu_id()},
      {"cpu.features", cpu_features()},
      {"cpu.threads", std::to_string(std::thread::hardware_concurrency())},
      {"fpu.mxcsr", fpu_state()},
      {"dagprop.threads", std::to_string(Graph().num_threads())},
      {"environment", relevant_environment()},
  };
}

}  // namespace dagprop
