// Numerically hard inputs: |x| up to 800 gives finite, correct values and gradients.
#include <gtest/gtest.h>

#include <cmath>

#include <dagprop/dagprop.hpp>

namespace dagprop {
namespace {

struct ValueAndGradient {
  double value, gradient;
};

ValueAndGradient evaluate(Expr (*f)(Expr), double x_value) {
  Graph g;
  const Expr x = g.parameter("x", x_value);
  const Expr y = f(x);
  g.backward(y);
  return {y.item(), x.grad().item()};
}

TEST(Stability, SigmoidAtPlusMinus800IsExactlyOneOrZero) {
  const auto high = evaluate(sigmoid, 800), low = evaluate(sigmoid, -800);
  EXPECT_EQ(high.value, 1.0);
  EXPECT_EQ(low.value, 0.0);
  EXPECT_EQ(high.gradient, 0.0);
  EXPECT_EQ(low.gradient, 0.0);
}

TEST(Stability, SoftplusAtPlusMinus800IsFinite) {
  const auto high = evaluate(softplus, 800), low = evaluate(softplus, -800);
  EXPECT_EQ(high.value, 800.0);
  EXPECT_EQ(high.gradient, 1.0);
  EXPECT_EQ(low.value, 0.0);
  EXPECT_EQ(low.gradient, 0.0);
  // Far from overflow but still in the tail: log1p keeps the small value.
  EXPECT_NEAR(evaluate(softplus, -30).value, std::exp(-30.0), 1e-25);
}

TEST(Stability, TanhSiluGeluAndEluAtPlusMinus800AreFinite) {
  for (auto f : {+[](Expr x) { return tanh(x); }, +[](Expr x) { return silu(x); },
                 +[](Expr x) { return gelu(x); }, +[](Expr x) { return elu(x, 1.0); }}) {
    for (double x : {800.0, -800.0}) {
      const auto r = evaluate(f, x);
      EXPECT_TRUE(std::isfinite(r.value) && std::isfinite(r.gradient)) << x;
    }
  }
  EXPECT_EQ(evaluate([](Expr x) { return silu(x); }, 800).value, 800.0);
  EXPECT_EQ(evaluate([](Expr x) { return gelu(x); }, -800).value, 0.0);
}

TEST(Stability, LogSoftmaxOfPlusMinus800IsExact) {
  Graph g;
  const Expr x = g.parameter("x", Tensor::from({800.0, -800.0}, Shape{1, 2}));
  const Expr y = log_softmax(x);
  g.backward(sum(y * g.constant(Tensor::from({1.0, 0.0}, Shape{1, 2}))), {}, {.keep = {y}});
  EXPECT_EQ(y.value().to_vector(), (std::vector<double>{0.0, -1600.0}));
  // d y0 / dx = onehot(0) - softmax(x) = [0, 0] up to exp(-1600).
  EXPECT_EQ(x.grad().to_vector(), (std::vector<double>{0.0, 0.0}));
}

TEST(Stability, CrossEntropyWithLogitsOf800IsFiniteAndCorrect) {
  Graph g;
  const Expr z = g.parameter("z", Tensor::from({800.0, -800.0, -800.0, 800.0}, Shape{2, 2}));
  const Expr labels = g.constant(Tensor::from({0.0, 0.0}, Shape{2}));
  const Expr loss = cross_entropy(z, labels);
  g.backward(loss);
  // Row 0 is right with certainty (loss 0); row 1 is wrong by 1600.
  EXPECT_DOUBLE_EQ(loss.item(), 800.0);
  EXPECT_EQ(z.grad().to_vector(), (std::vector<double>{0.0, 0.0, -0.5, 0.5}));
}

TEST(Stability, BinaryCrossEntropyWithLogitsOf800IsFinite) {
  Graph g;
  const Expr z = g.parameter("z", Tensor::from({800.0, -800.0}, Shape{2}));
  const Expr t = g.constant(Tensor::from({1.0, 1.0}, Shape{2}));
  const Expr loss = binary_cross_entropy_with_logits(z, t);
  g.backward(loss);
  EXPECT_DOUBLE_EQ(loss.item(), 400.0);
  EXPECT_EQ(z.grad().to_vector(), (std::vector<double>{0.0, -0.5}));
}

TEST(Stability, Float32SigmoidAndSoftmaxStayFiniteAt800) {
  Graph g;
  const Expr x = g.parameter("x", Tensor::from(std::vector<float>{800.0F, -800.0F}, Shape{1, 2}));
  const auto values = g.run({sigmoid(x), softmax(x), log_softmax(x)});
  for (const Tensor& v : values) {
    for (double e : v.to_vector()) EXPECT_TRUE(std::isfinite(e));
  }
  EXPECT_EQ(values[1].to_vector(), (std::vector<double>{1.0, 0.0}));
}

}  // namespace
}  // namespace dagprop
