// layer_norm, batch_moments and batch_norm: the normalized statistics, large and constant inputs,
// second-order gradients, and the shape errors.
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <cmath>

#include "op_cases.hpp"
#include "tensor_ops_support.hpp"

namespace dagprop::testing {
namespace {

using ::testing::HasSubstr;

TEST(LayerNorm, RowsHaveZeroMeanAndUnitVariance) {
  Graph g;
  const Expr x = random_parameter(g, "x", Shape{3, 8}, -800, 800);
  const Expr ones = g.constant(Tensor::full(Shape{8}, 1.0));
  const Expr zeros = g.constant(Tensor::zeros(Shape{8}));
  const Tensor y = g.run(layer_norm(x, ones, zeros));
  for (int r = 0; r < 3; ++r) {
    double mean = 0, square = 0;
    for (int i = 0; i < 8; ++i) mean += y.at(r * 8 + i) / 8;
    for (int i = 0; i < 8; ++i) square += (y.at(r * 8 + i) - mean) * (y.at(r * 8 + i) - mean) / 8;
    EXPECT_NEAR(mean, 0, 1e-12);
    EXPECT_NEAR(square, 1, 1e-9);
  }
}

TEST(LayerNorm, ConstantRowGivesBetaAndAFiniteGradient) {
  Graph g;
  const Expr x = g.parameter("x", Tensor::full(Shape{2, 4}, 800.0));
  const Expr gamma = random_parameter(g, "gamma", Shape{4}, 0.5, 1.5);
  const Expr beta = random_parameter(g, "beta", Shape{4}, -1, 1);
  const Tensor y = g.run(layer_norm(x, gamma, beta));
  for (int i = 0; i < 8; ++i) EXPECT_EQ(y.at(i), beta.value().at(i % 4));
  const Tensor dx = g.run(grad(sum(layer_norm(x, gamma, beta) * x), x));
  for (int i = 0; i < 8; ++i) EXPECT_TRUE(std::isfinite(dx.at(i)));
}

TEST(LayerNorm, SecondOrderGradientMatchesFiniteDifferences) {
  Graph g;
  const Expr x = random_parameter(g, "x", Shape{2, 5}, -2, 2);
  const Expr gamma = random_parameter(g, "gamma", Shape{5}, 0.5, 1.5);
  const Expr beta = random_parameter(g, "beta", Shape{5}, -1, 1);
  const Expr w = random_parameter(g, "w", Shape{2, 5}, -1, 1);
  const Expr dx = grad(sum(layer_norm(x, gamma, beta) * w), x);
  const GradcheckResult result = gradcheck(dx, {x, gamma});
  EXPECT_TRUE(result.ok) << result.report();
}

TEST(BatchNorm, TrainingNormalizesEachChannelOverBatchAndSpace) {
  Graph g;
  const Expr x = random_parameter(g, "x", Shape{4, 3, 2, 2}, -800, 800);
  const Expr ones = g.constant(Tensor::full(Shape{3}, 1.0));
  const Expr zeros = g.constant(Tensor::zeros(Shape{3}));
  const Tensor y = g.run(batch_norm(x, batch_moments(x), ones, zeros));
  const Tensor m = g.run(batch_moments(batch_norm(x, batch_moments(x), ones, zeros)));
  for (int c = 0; c < 3; ++c) {
    EXPECT_NEAR(m.at(c), 0, 1e-12);
    EXPECT_NEAR(m.at(3 + c), 1, 1e-9);
  }
  EXPECT_EQ(y.shape(), (Shape{4, 3, 2, 2}));
}

TEST(BatchNorm, TrainingGradientOfTheSumIsZero) {
  // The batch mean is removed, so shifting every example of a channel changes nothing.
  Graph g;
  const Expr x = random_parameter(g, "x", Shape{5, 2}, -2, 2);
  const Expr gamma = random_parameter(g, "gamma", Shape{2}, 0.5, 1.5);
  const Expr beta = random_parameter(g, "beta", Shape{2}, -1, 1);
  const Tensor dx = g.run(grad(sum(batch_norm(x, batch_moments(x), gamma, beta)), x));
  for (std::int64_t i = 0; i < dx.numel(); ++i) EXPECT_NEAR(dx.at(i), 0, 1e-12);
}

TEST(BatchNorm, SecondOrderGradientMatchesFiniteDifferences) {
  Graph g;
  const Expr x = random_parameter(g, "x", Shape{4, 2, 3}, -2, 2);
  const Expr gamma = random_parameter(g, "gamma", Shape{2}, 0.5, 1.5);
  const Expr beta = random_parameter(g, "beta", Shape{2}, -1, 1);
  const Expr w = random_parameter(g, "w", Shape{4, 2, 3}, -1, 1);
  const Expr dx = grad(sum(batch_norm(x, batch_moments(x), gamma, beta) * w), x);
  const GradcheckResult result = gradcheck(dx, {x, gamma});
  EXPECT_TRUE(result.ok) << result.report();
}

TEST(BatchNorm, WrongMomentsShapeIsAnErrorNamingTheShapes) {
  Graph g;
  const Expr x = g.input("x", Shape{8, 3});
  const Expr m = g.input("m", Shape{3});
  const Expr c = g.input("c", Shape{3});
  EXPECT_THAT([&] { batch_norm(x, m, c, c); },
              ::testing::ThrowsMessage<Error>(
                  AllOf(HasSubstr("op batch_norm"), HasSubstr("needs moments [2, 3]"))));
  EXPECT_THAT([&] { batch_moments(g.input("v", Shape{8})); },
              ::testing::ThrowsMessage<Error>(HasSubstr("[batch, channels, ...]")));
}

}  // namespace
}  // namespace dagprop::testing
