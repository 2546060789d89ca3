// Generated datasets: seeded, balanced, shaped as documented; bad names and options explained.
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <dagprop/data/synthetic.hpp>
#include <dagprop/error.hpp>
#include <dagprop/tensor.hpp>

namespace dagprop::data {
namespace {

TEST(SyntheticData, SameSeedGivesTheSameSetAndAnotherSeedAnother) {
  for (const std::string_view name : synthetic_names()) {
    const Dataset a = make_synthetic(name, {.samples = 50, .seed = 3});
    const Dataset b = make_synthetic(name, {.samples = 50, .seed = 3});
    const Dataset c = make_synthetic(name, {.samples = 50, .seed = 4});
    EXPECT_TRUE(bitwise_equal(a.features, b.features)) << name;
    EXPECT_FALSE(bitwise_equal(a.features, c.features)) << name;
    EXPECT_EQ(a.features.shape(), (Shape{50, 2})) << name;
    EXPECT_EQ(a.num_classes, 2) << name;
    check_dataset(a);
  }
}

TEST(SyntheticData, ClassesAreBalancedExceptXor) {
  for (const std::string_view name : {"moons", "circles", "spirals"}) {
    const Dataset d = make_synthetic(name, {.samples = 100});
    double ones = 0;
    for (std::int64_t i = 0; i < d.size(); ++i) ones += d.labels.at(i);
    EXPECT_EQ(ones, 50) << name;
  }
}

TEST(SyntheticData, XorLabelsFollowTheSignsWithoutNoise) {
  const Dataset d = make_xor({.samples = 200, .noise = 0.0});
  for (std::int64_t i = 0; i < d.size(); ++i) {
    const bool differ = (d.features.at(2 * i) > 0) != (d.features.at(2 * i + 1) > 0);
    EXPECT_EQ(d.labels.at(i), differ ? 1.0 : 0.0);
  }
}

TEST(SyntheticData, UnknownNameListsTheValidOnes) {
  try {
    make_synthetic("moon", {});
    FAIL() << "expected an error";
  } catch (const Error& e) {
    EXPECT_STREQ(
        e.what(),
        "no generated dataset is called 'moon'; valid names: xor, moons, circles, spirals");
  }
}

TEST(SyntheticData, RejectsNegativeNoiseAndTooFewSamples) {
  EXPECT_THROW(make_moons({.samples = 10, .noise = -1}), Error);
  EXPECT_THROW(make_moons({.samples = 1}), Error);
}

}  // namespace
}  // namespace dagprop::data
