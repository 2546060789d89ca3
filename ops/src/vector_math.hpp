// Float math written for the compiler's auto-vectorizer, and loops compiled for the vector units of
// the CPU they run on. Private to ops/.
//
// Same bits everywhere: no branches (selects are bit masks), no library calls except std::fma,
// which is one correctly rounded operation by definition (a vfmadd instruction where the CPU has
// FMA, glibc's exact fmaf where it has not), and no contraction of a * b + c (-ffp-contract=off).
// Every lane performs the same IEEE operations in the same order whatever the vector width, so the
// AVX-512, AVX2 and baseline builds of a loop agree bit for bit, and a run does not depend on which
// one the CPU gets. Subnormal inputs and results are computed, never flushed (the MXCSR is left
// alone).
#pragma once

#include <bit>
#include <cmath>
#include <cstdint>
#include <string_view>

namespace dagprop::ops {

#define DAGPROP_VECTOR_INLINE [[gnu::always_inline]] inline

// condition ? if_true : if_false, as bit operations: the vectorizer keeps a float ?: as a branch
// (the comparison may trap), but vectorizes this into a compare and a blend.
DAGPROP_VECTOR_INLINE float select(bool condition, float if_true, float if_false) {
  const std::uint32_t mask = 0U - static_cast<std::uint32_t>(condition);
  return std::bit_cast<float>((std::bit_cast<std::uint32_t>(if_true) & mask) |
                              (std::bit_cast<std::uint32_t>(if_false) & ~mask));
}

// 2^32 e^t for t <= 0: within 1.01 ulp of the exact value for every float t in [-104, 0] (checked
// exhaustively against double exp); 2^32 e^-104 for t below -104 and NaN for NaN. The factor 2^32
// keeps the result a normal float down to t = -104, where e^t is far into the subnormals: the
// caller folds 2^-32 into its last operation, which then rounds once, correctly, into the
// subnormals. Cody-Waite reduction t = n ln2 + r with |r| <= ln2/2, Cephes' polynomial for e^r
// (expf.c), then the exponent bits of 2^(n + 32).
DAGPROP_VECTOR_INLINE float scaled_exp_nonpositive(float t) {
  // Below -104, e^t is under half the smallest subnormal; the clamp keeps n >= -151 below.
  t = select(t < -104.0F, -104.0F, t);
  // n = round(t / ln2): adding 1.5 * 2^23 rounds to an integer in the addition itself, and the
  // integer sits in the low mantissa bits of `shifted` (no float-to-int conversion).
  constexpr float kShifter = 12582912.0F;
  const float shifted = std::fma(t, 1.44269504088896341F, kShifter);
  const float n = shifted - kShifter;
  // r = t - n ln2, with ln2 split in two so that n * 0.693359375 is exact.
  float r = std::fma(n, -0.693359375F, t);
  r = std::fma(n, 2.12194440e-4F, r);
  float p = 1.9875691500e-4F;
  p = std::fma(p, r, 1.3981999507e-3F);
  p = std::fma(p, r, 8.3334519073e-3F);
  p = std::fma(p, r, 4.1665795894e-2F);
  p = std::fma(p, r, 1.6666665459e-1F);
  p = std::fma(p, r, 5.0000001201e-1F);
  const float e_r = std::fma(p, r * r, r) + 1.0F;
  // The bits of 2^(n + 32): the low bits of `shifted` hold n; add the biased exponent 127 + 32
  // (modulo 2^32) and shift into the exponent field.
  constexpr std::uint32_t kBias = 127U + 32U - std::bit_cast<std::uint32_t>(kShifter);
  return e_r * std::bit_cast<float>((std::bit_cast<std::uint32_t>(shifted) + kBias) << 23);
}

// 1 / (1 + e^-x) with the exponential only of -|x| (it cannot overflow): with E = 2^32 e^-|x|,
// 2^32 / (2^32 + E) for x >= 0 and E / (2^32 + E) for x < 0, one rounding at the end even for
// subnormal results. Within 2.41 ulp of the exact value for every float x (checked exhaustively);
// sigmoid(NaN) is NaN, sigmoid(-0) is 0.5.
DAGPROP_VECTOR_INLINE float logistic(float x) {
  const float minus_abs_x = std::bit_cast<float>(std::bit_cast<std::uint32_t>(x) | 0x80000000U);
  const float e = scaled_exp_nonpositive(minus_abs_x);
  return select(x >= 0.0F, 0x1p32F, e) / (0x1p32F + e);
}

// tanh(x) = sign(x) tanh(|x|). Below |x| = 0.625, Cephes' odd polynomial (tanhf.c); above, with
// E = 2^32 e^-2|x|, (2^32 - E) / (2^32 + E), whose numerator is at least 0.71 * 2^32 and cancels
// nothing. Within 1.51 ulp of the exact value for every float x (checked exhaustively against
// double tanh); tanh(NaN) is NaN, tanh(-0) is -0, subnormal inputs give themselves.
DAGPROP_VECTOR_INLINE float hyperbolic_tangent(float x) {
  const std::uint32_t sign = std::bit_cast<std::uint32_t>(x) & 0x80000000U;
  const float a = std::bit_cast<float>(std::bit_cast<std::uint32_t>(x) ^ sign);
  const float z = a * a;
  float p = -5.70498872745e-3F;
  p = std::fma(p, z, 2.06390887954e-2F);
  p = std::fma(p, z, -5.37397155531e-2F);
  p = std::fma(p, z, 1.33314422036e-1F);
  p = std::fma(p, z, -3.33332819422e-1F);
  const float small = std::fma(p * z, a, a);
  const float e = scaled_exp_nonpositive(-2.0F * a);
  const float large = (0x1p32F - e) / (0x1p32F + e);
  return std::bit_cast<float>(std::bit_cast<std::uint32_t>(select(a < 0.625F, small, large)) |
                              sign);
}

// y[i] = f(x[i]) for i < n, compiled once per vector instruction set, the widest the CPU has
// chosen at the first call. f must be made of the functions above (or plain arithmetic).
using FloatMap = void (*)(const float* x, float* y, std::int64_t n);

template <class F>
DAGPROP_VECTOR_INLINE void map_floats(const float* x, float* y, std::int64_t n, F f) {
  for (std::int64_t i = 0; i < n; ++i) y[i] = f(x[i]);
}

// The widest vector instruction set this CPU offers of the three that loops here are compiled for:
// "avx512" (F, VL, BW, DQ and FMA), "avx2" (with FMA), else the x86-64 "baseline" (SSE2). Chosen
// once; reproducibility_settings() records it. The bits of these loops do not depend on it.
inline const char* vector_isa() {
#if defined(__x86_64__)
  static const char* const chosen = [] {
    __builtin_cpu_init();
    if (__builtin_cpu_supports("avx512f") && __builtin_cpu_supports("avx512vl") &&
        __builtin_cpu_supports("fma") && __builtin_cpu_supports("avx512bw") &&
        __builtin_cpu_supports("avx512dq"))
      return "avx512";
    return __builtin_cpu_supports("avx2") && __builtin_cpu_supports("fma") ? "avx2" : "baseline";
  }();
  return chosen;
#else
  return "baseline";
#endif
}

// Defines `FloatMap name()`: map_floats with the lambda `f`, compiled for AVX-512 (512-bit
// vectors), AVX2 and the x86-64 baseline (SSE2); the first call picks vector_isa()'s.
#if defined(__x86_64__)
#define DAGPROP_FLOAT_MAP(name, f)                                                                \
  [[gnu::target("avx512f,avx512vl,avx512bw,avx512dq,fma,prefer-vector-width=512")]] void          \
      name##_avx512(const float* in, float* out, std::int64_t count) {                            \
    ::dagprop::ops::map_floats(in, out, count, f);                                                \
  }                                                                                               \
  [[gnu::target("avx2,fma")]] void name##_avx2(const float* in, float* out, std::int64_t count) { \
    ::dagprop::ops::map_floats(in, out, count, f);                                                \
  }                                                                                               \
  void name##_baseline(const float* in, float* out, std::int64_t count) {                         \
    ::dagprop::ops::map_floats(in, out, count, f);                                                \
  }                                                                                               \
  ::dagprop::ops::FloatMap name() {                                                               \
    static const ::dagprop::ops::FloatMap chosen = [] {                                           \
      const std::string_view isa = ::dagprop::ops::vector_isa();                                  \
      return isa == "avx512" ? &name##_avx512 : isa == "avx2" ? &name##_avx2 : &name##_baseline;  \
    }();                                                                                          \
    return chosen;                                                                                \
  }
#else
#define DAGPROP_FLOAT_MAP(name, f)                                        \
  void name##_baseline(const float* in, float* out, std::int64_t count) { \
    ::dagprop::ops::map_floats(in, out, count, f);                        \
  }                                                                       \
  ::dagprop::ops::FloatMap name() {                                       \
    return &name##_baseline;                                              \
  }
#endif

}  // namespace dagprop::ops
