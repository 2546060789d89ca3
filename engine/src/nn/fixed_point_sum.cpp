// The fixed-point rounding and its inverse. Scaling by a power of two is exact in double (a float
// or double term times 2^k, for the k that occur, stays a normal double), so the only rounding of a
// term is std::nearbyint's, to the nearest integer in the default rounding mode: a function of the
// term and the grid alone.
#include <dagprop/nn/fixed_point_sum.hpp>

#include <algorithm>
#include <bit>
#include <cmath>

#include <dagprop/error.hpp>

namespace dagprop::nn {
namespace {

template <class T>
std::int32_t exponent_of(std::span<const T> values) {
  T largest = 0;
  for (const T v : values) {
    const T magnitude = std::fabs(v);
    // A NaN fails every comparison: it is caught here, not lost in the maximum.
    if (!(magnitude <= std::numeric_limits<T>::max())) return kNonFiniteExponent;
    largest = std::max(largest, magnitude);
  }
  if (largest == 0) return kAllZeroExponent;
  int e = 0;
  (void)std::frexp(largest, &e);  // largest = m 2^e with m in [0.5, 1): largest < 2^e
  return e;
}

// 2^k as a double where that is a normal double; beyond, the callers scale with ldexp.
bool power_is_normal(int k) {
  return k > -1000 && k < 1000;
}

template <class T>
void add_terms(std::span<const T> values, std::int32_t exponent, int fraction_bits,
               std::span<std::int64_t> sums) {
  if (exponent == kAllZeroExponent) return;
  if (exponent == kNonFiniteExponent || values.size() != sums.size()) {
    throw Error("add_to_fixed_point: " + std::to_string(values.size()) + " values into " +
                std::to_string(sums.size()) + " sums at exponent " + std::to_string(exponent) +
                "; give as many sums as values, and a finite exponent");
  }
  const int shift = fraction_bits - exponent;
  const std::size_t n = values.size();
  if (power_is_normal(shift)) {
    const double scale = std::ldexp(1.0, shift);
    for (std::size_t i = 0; i < n; ++i) {
      sums[i] += static_cast<std::int64_t>(std::nearbyint(static_cast<double>(values[i]) * scale));
    }
  } else {
    for (std::size_t i = 0; i < n; ++i) {
      sums[i] += static_cast<std::int64_t>(
          std::nearbyint(std::ldexp(static_cast<double>(values[i]), shift)));
    }
  }
}

template <class T>
void to_values(std::span<const std::int64_t> sums, std::int32_t exponent, int fraction_bits,
               double divisor, std::span<T> out) {
  if (sums.size() != out.size()) {
    throw Error("fixed_point_to_values: " + std::to_string(sums.size()) + " sums into " +
                std::to_string(out.size()) + " values; give as many of each");
  }
  if (exponent == kAllZeroExponent) {
    std::fill(out.begin(), out.end(), T(0));
    return;
  }
  const int shift = exponent - fraction_bits;
  const std::size_t n = out.size();
  if (power_is_normal(shift)) {
    const double scale = std::ldexp(1.0, shift);
    for (std::size_t i = 0; i < n; ++i) {
      out[i] = static_cast<T>(static_cast<double>(sums[i]) * scale / divisor);
    }
  } else {
    for (std::size_t i = 0; i < n; ++i) {
      out[i] = static_cast<T>(std::ldexp(static_cast<double>(sums[i]), shift) / divisor);
    }
  }
}

}  // namespace

std::int32_t magnitude_exponent(std::span<const float> values) {
  return exponent_of(values);
}
std::int32_t magnitude_exponent(std::span<const double> values) {
  return exponent_of(values);
}

int fixed_point_fraction_bits(std::int64_t terms) {
  if (terms < 1 || terms > (std::int64_t{1} << 30)) {
    throw Error("fixed_point_fraction_bits: " + std::to_string(terms) +
                " terms; a fixed-point sum takes 1 to 2^30 terms");
  }
  const int headroom = static_cast<int>(std::bit_width(static_cast<std::uint64_t>(terms - 1)));
  return 62 - headroom;
}

void add_to_fixed_point(std::span<const float> values, std::int32_t exponent, int fraction_bits,
                        std::span<std::int64_t> sums) {
  add_terms(values, exponent, fraction_bits, sums);
}
void add_to_fixed_point(std::span<const double> values, std::int32_t exponent, int fraction_bits,
                        std::span<std::int64_t> sums) {
  add_terms(values, exponent, fraction_bits, sums);
}

void fixed_point_to_values(std::span<const std::int64_t> sums, std::int32_t exponent,
                           int fraction_bits, double divisor, std::span<float> out) {
  to_values(sums, exponent, fraction_bits, divisor, out);
}
void fixed_point_to_values(std::span<const std::int64_t> sums, std::int32_t exponent,
                           int fraction_bits, double divisor, std::span<double> out) {
  to_values(sums, exponent, fraction_bits, divisor, out);
}

}  // namespace dagprop::nn
