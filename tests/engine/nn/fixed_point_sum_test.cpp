// The fixed-point sum of gradient contributions: the same bits in any order and grouping, accurate
// to far below a float's rounding, and loud about NaN and infinity.
#include <gtest/gtest.h>

#include <algorithm>
#include <bit>
#include <cmath>
#include <numeric>
#include <vector>

#include <dagprop/error.hpp>
#include <dagprop/nn/fixed_point_sum.hpp>
#include <dagprop/random.hpp>

namespace dagprop::nn {
namespace {

// `terms` contributions of `n` elements each, over 40 binary orders of magnitude, both signs.
std::vector<std::vector<float>> contributions(int terms, std::size_t n, std::uint64_t seed) {
  SplitMix64 random(seed);
  std::vector<std::vector<float>> out(static_cast<std::size_t>(terms), std::vector<float>(n));
  for (auto& term : out) {
    for (float& v : term) {
      const double unit = static_cast<double>(random.next() >> 11) * 0x1p-53;
      const int exponent = static_cast<int>(random.next() % 40) - 30;
      v = static_cast<float>((unit - 0.5) * std::ldexp(1.0, exponent));
    }
  }
  return out;
}

std::int32_t common_exponent(const std::vector<std::vector<float>>& terms) {
  std::int32_t e = kAllZeroExponent;
  for (const auto& t : terms) e = std::max(e, magnitude_exponent(t));
  return e;
}

// The sum of `terms` split into `groups` contiguous groups, each summed on its own in the order
// given, then the groups' integer sums added in reverse: as ranks would, in some arrival order.
std::vector<float> grouped_sum(const std::vector<std::vector<float>>& terms,
                               const std::vector<std::size_t>& order, int groups) {
  const std::size_t n = terms.front().size();
  const std::int32_t e = common_exponent(terms);
  const int bits = fixed_point_fraction_bits(static_cast<std::int64_t>(terms.size()));
  std::vector<std::vector<std::int64_t>> partial(static_cast<std::size_t>(groups),
                                                 std::vector<std::int64_t>(n, 0));
  for (std::size_t k = 0; k < order.size(); ++k) {
    const std::size_t group = k * static_cast<std::size_t>(groups) / order.size();
    add_to_fixed_point(terms[order[k]], e, bits, partial[group]);
  }
  std::vector<std::int64_t> total(n, 0);
  for (std::size_t g = partial.size(); g-- > 0;) {
    for (std::size_t i = 0; i < n; ++i) total[i] += partial[g][i];
  }
  std::vector<float> out(n);
  fixed_point_to_values(total, e, bits, static_cast<double>(terms.size()), out);
  return out;
}

TEST(FixedPointSum, IsTheSameBitsInAnyOrderAndAnyGrouping) {
  const auto terms = contributions(12, 257, 7);
  std::vector<std::size_t> order(terms.size());
  std::iota(order.begin(), order.end(), 0);
  const std::vector<float> reference = grouped_sum(terms, order, 1);
  SplitMix64 random(3);
  for (int trial = 0; trial < 20; ++trial) {
    for (std::size_t i = order.size(); i > 1; --i)
      std::swap(order[i - 1], order[random.next() % i]);
    for (int groups : {1, 2, 3, 4, 12}) {
      const std::vector<float> sum = grouped_sum(terms, order, groups);
      for (std::size_t i = 0; i < sum.size(); ++i) {
        ASSERT_EQ(std::bit_cast<std::uint32_t>(sum[i]), std::bit_cast<std::uint32_t>(reference[i]))
            << "element " << i << ", trial " << trial << ", " << groups << " groups";
      }
    }
  }
}

TEST(FixedPointSum, IsTheMeanToWellBelowAFloatsRoundingOfTheLargestTerm) {
  const auto terms = contributions(12, 1000, 11);
  std::vector<std::size_t> order(terms.size());
  std::iota(order.begin(), order.end(), 0);
  const std::vector<float> sum = grouped_sum(terms, order, 3);
  const double unit = std::ldexp(1.0, common_exponent(terms));
  for (std::size_t i = 0; i < sum.size(); ++i) {
    long double exact = 0;
    for (const auto& t : terms) exact += t[i];
    const double mean = static_cast<double>(exact / 12);
    // One rounding to float of the mean, plus the grid's 2^-58 of the largest term per term.
    EXPECT_LE(std::fabs(sum[i] - mean), std::fabs(mean) * 0x1p-24 + unit * 0x1p-50) << i;
  }
}

TEST(FixedPointSum, TermsWithinTheGridAreAddedExactly) {
  // Floats within 2^36 of the largest term lie on the grid: their sum is exact in integers.
  const std::vector<double> a{0.75, -0x1p-30, 3.0}, b{0.25, 0x1p-30, -1.0};
  std::int32_t e = std::max(magnitude_exponent(a), magnitude_exponent(b));
  const int bits = fixed_point_fraction_bits(2);
  std::vector<std::int64_t> sums(3, 0);
  add_to_fixed_point(a, e, bits, sums);
  add_to_fixed_point(b, e, bits, sums);
  std::vector<double> out(3);
  fixed_point_to_values(sums, e, bits, 1.0, out);
  EXPECT_EQ(out, (std::vector<double>{1.0, 0.0, 2.0}));
}

TEST(FixedPointSum, ExponentMarksAllZeroAndNonFiniteValues) {
  EXPECT_EQ(magnitude_exponent(std::vector<float>{0.0F, -0.0F}), kAllZeroExponent);
  EXPECT_EQ(magnitude_exponent(std::vector<float>{1.0F, NAN}), kNonFiniteExponent);
  EXPECT_EQ(magnitude_exponent(std::vector<double>{-INFINITY}), kNonFiniteExponent);
  EXPECT_EQ(magnitude_exponent(std::vector<float>{0.5F}), 0);   // 0.5 < 2^0
  EXPECT_EQ(magnitude_exponent(std::vector<float>{-1.0F}), 1);  // 1 < 2^1
}

TEST(FixedPointSum, FractionBitsLeaveRoomForEveryTerm) {
  EXPECT_EQ(fixed_point_fraction_bits(1), 62);
  EXPECT_EQ(fixed_point_fraction_bits(2), 61);
  EXPECT_EQ(fixed_point_fraction_bits(3), 60);
  EXPECT_EQ(fixed_point_fraction_bits(4), 60);
  EXPECT_EQ(fixed_point_fraction_bits(12), 58);
  // 4 terms of the largest magnitude the grid allows, all of one sign: no overflow.
  const std::vector<double> big{std::nextafter(1.0, 0.0)};
  const int bits = fixed_point_fraction_bits(4);
  std::vector<std::int64_t> sums(1, 0);
  for (int k = 0; k < 4; ++k) add_to_fixed_point(big, 0, bits, sums);
  std::vector<double> out(1);
  fixed_point_to_values(sums, 0, bits, 4.0, out);
  EXPECT_EQ(out[0], big[0]);
  try {
    (void)fixed_point_fraction_bits(0);
    FAIL() << "0 terms accepted";
  } catch (const Error& e) {
    EXPECT_NE(std::string(e.what()).find("1 to 2^30 terms"), std::string::npos) << e.what();
  }
}

}  // namespace
}  // namespace dagprop::nn
