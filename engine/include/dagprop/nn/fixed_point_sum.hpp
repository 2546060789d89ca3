// Sums of gradient contributions whose bits do not depend on their order or grouping: each
// contribution is rounded once onto a fixed-point grid that the largest magnitude among all of them
// fixes, then the integers are added, which is exact and associative. Distributed training
// (docs/distributed.md) sums each shard's gradient this way, so the number of ranks, and the order
// in which their parts arrive, cannot change a bit.
#pragma once

#include <cstdint>
#include <limits>
#include <span>

#include <dagprop/export.hpp>

DAGPROP_API_BEGIN
namespace dagprop::nn {

// magnitude_exponent() of values that are all zero (the identity of a maximum), and of values that
// hold a NaN or an infinity (which a maximum then carries to every rank).
inline constexpr std::int32_t kAllZeroExponent = std::numeric_limits<std::int32_t>::min();
inline constexpr std::int32_t kNonFiniteExponent = std::numeric_limits<std::int32_t>::max();

// The smallest e with |x| < 2^e for every x in values (kAllZeroExponent, kNonFiniteExponent).
std::int32_t magnitude_exponent(std::span<const float> values);
std::int32_t magnitude_exponent(std::span<const double> values);

// Fraction bits of the grid for a sum of `terms` contributions: 62 - ceil(log2 terms). A term below
// 2^e in magnitude becomes an integer below 2^62 / terms, so no sum of `terms` of them can
// overflow.
int fixed_point_fraction_bits(std::int64_t terms);

// sums[i] += values[i] rounded to the nearest multiple of 2^(exponent - fraction_bits) (ties to
// even), as an integer count of that unit. `exponent` is the maximum of magnitude_exponent() over
// every term of the sum (not kNonFiniteExponent); for kAllZeroExponent nothing is added.
void add_to_fixed_point(std::span<const float> values, std::int32_t exponent, int fraction_bits,
                        std::span<std::int64_t> sums);
void add_to_fixed_point(std::span<const double> values, std::int32_t exponent, int fraction_bits,
                        std::span<std::int64_t> sums);

// out[i] = sums[i] * 2^(exponent - fraction_bits) / divisor, rounded to out's type.
void fixed_point_to_values(std::span<const std::int64_t> sums, std::int32_t exponent,
                           int fraction_bits, double divisor, std::span<float> out);
void fixed_point_to_values(std::span<const std::int64_t> sums, std::int32_t exponent,
                           int fraction_bits, double divisor, std::span<double> out);

}  // namespace dagprop::nn
DAGPROP_API_END
