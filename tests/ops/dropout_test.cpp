// dropout: the share of zeros and the scale, the mask as a function of (seed, step, position)
// only, the gradient through the same mask, float32 and float64 masks alike, and the errors.
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "tensor_ops_support.hpp"

namespace dagprop::testing {
namespace {

using ::testing::HasSubstr;

Tensor ones(std::int64_t n, DType dtype = DType::f64) {
  return Tensor::full(Shape{n}, 1.0, dtype);
}

TEST(Dropout, ZeroesAboutPAndScalesTheRest) {
  Graph g;
  const Expr x = g.constant(ones(20000));
  const Tensor y = g.run(dropout(x, g.constant(0.0), 0.3, 7));
  std::int64_t zeros = 0;
  for (std::int64_t i = 0; i < y.numel(); ++i) {
    if (y.at(i) == 0) {
      ++zeros;
    } else {
      EXPECT_DOUBLE_EQ(y.at(i), 1 / 0.7);
    }
  }
  EXPECT_NEAR(static_cast<double>(zeros) / 20000, 0.3, 0.015);
}

TEST(Dropout, MaskDependsOnSeedAndStepOnly) {
  Graph g;
  const Expr x = g.constant(ones(256));
  const Expr step = g.constant(Tensor::scalar(5.0), "step");
  const Tensor a = g.run(dropout(x, step, 0.5, 11));
  const Tensor again = g.run(dropout(x, step, 0.5, 11));
  EXPECT_TRUE(bitwise_equal(a, again));
  const Tensor other_seed = g.run(dropout(x, step, 0.5, 12));
  EXPECT_FALSE(bitwise_equal(a, other_seed));
  g.value(step).set(0, 6.0);
  EXPECT_FALSE(bitwise_equal(a, g.run(dropout(x, step, 0.5, 11))));
  // The same mask in float32.
  Graph g32;
  const Tensor f32 =
      g32.run(dropout(g32.constant(ones(256, DType::f32)), g32.constant(5.0, DType::f32), 0.5, 11));
  for (std::int64_t i = 0; i < 256; ++i) EXPECT_EQ(f32.at(i) == 0, a.at(i) == 0) << i;
}

TEST(Dropout, GradientUsesTheForwardMask) {
  Graph g;
  const Expr x = g.parameter("x", ones(512));
  const Expr step = g.constant(2.0);
  const Expr y = dropout(x, step, 0.25, 3);
  const Tensor forward = g.run(y);
  const Tensor dx = g.run(grad(sum(y), x));
  EXPECT_TRUE(bitwise_equal(forward, dx));
}

TEST(Dropout, MaskIsTheSameAtAnyThreadCount) {
  const std::int64_t n = std::int64_t{1} << 20;  // large enough to be split over threads
  Tensor reference;
  for (int threads : {0, 1, 2, 8}) {
    Graph g;
    g.set_num_threads(threads);
    const Tensor y =
        g.run(dropout(g.constant(ones(n, DType::f32)), g.constant(9.0, DType::f32), 0.5, 99));
    if (threads == 0) {
      reference = y;
    } else {
      EXPECT_TRUE(bitwise_equal(reference, y)) << threads << " threads";
    }
  }
}

TEST(Dropout, BadProbabilityAndStepAreErrors) {
  Graph g;
  const Expr x = g.input("x", Shape{4});
  EXPECT_THAT([&] { dropout(x, g.constant(0.0), 1.0, 1); },
              ::testing::ThrowsMessage<Error>(HasSubstr("outside [0, 1)")));
  const Expr y = dropout(x, g.constant(1.5), 0.5, 1);
  EXPECT_THAT(
      [&] {
        g.run(y, {{x, Tensor::zeros(Shape{4})}});
      },
      ::testing::ThrowsMessage<Error>(
          AllOf(HasSubstr("op dropout"), HasSubstr("step 1.500000 is not a whole number"))));
}

}  // namespace
}  // namespace dagprop::testing
