// Reverse-mode autodiff: the seed's neuron under each activation, fan-out, second derivatives,
// vector-Jacobian products and backward() semantics.
#include <gtest/gtest.h>

#include <cmath>

#include <dagprop/dagprop.hpp>

namespace dagprop {
namespace {

struct SeedNeuron {
  Graph g;
  Expr x1 = g.constant(0.5), x2 = g.constant(0.6);
  Expr w1 = g.parameter("w1", 0.1), w2 = g.parameter("w2", 0.2), b = g.parameter("b", 0.3);
  Expr z = w1 * x1 + w2 * x2 + b;  // 0.47
};

// dz/dw1 = x1, dz/dw2 = x2, dz/db = 1: every gradient is f'(z) times those.
void expect_seed_gradients(SeedNeuron& n, Expr a, double value, double derivative) {
  n.g.backward(a);
  EXPECT_NEAR(a.item(), value, 1e-15);
  EXPECT_NEAR(n.w1.grad().item(), derivative * 0.5, 1e-15);
  EXPECT_NEAR(n.w2.grad().item(), derivative * 0.6, 1e-15);
  EXPECT_NEAR(n.b.grad().item(), derivative, 1e-15);
}

TEST(SeedNeuron, StepIsOneWithZeroGradient) {
  SeedNeuron n;
  expect_seed_gradients(n, step(n.z), 1.0, 0.0);
}

TEST(SeedNeuron, StepWithStraightThroughPassesTheGradient) {
  SeedNeuron n;
  expect_seed_gradients(n, step_ste(n.z), 1.0, 1.0);
}

TEST(SeedNeuron, SigmoidGradientIsSTimesOneMinusS) {
  SeedNeuron n;
  const double s = 1 / (1 + std::exp(-0.47));
  expect_seed_gradients(n, sigmoid(n.z), s, s * (1 - s));
}

TEST(SeedNeuron, TanhGradientIsOneMinusTSquared) {
  SeedNeuron n;
  const double t = std::tanh(0.47);
  expect_seed_gradients(n, tanh(n.z), t, 1 - t * t);
}

TEST(SeedNeuron, ReluPassesTheGradientForPositiveInput) {
  SeedNeuron n;
  expect_seed_gradients(n, relu(n.z), 0.47, 1.0);
}

TEST(SeedNeuron, WeightedSumOpGivesTheSameNeuron) {
  Graph g;
  const Expr x = g.input("x", Shape{2});
  g.set_requires_grad(x);
  const Expr w = g.parameter("w", Tensor::from({0.1, 0.2}, Shape{2}));
  const Expr b = g.parameter("b", 0.3);
  const Expr a = relu(weighted_sum(x, w, b));
  const Tensor xv = Tensor::from({0.5, 0.6}, Shape{2});
  g.backward(a, {{x, xv}});
  EXPECT_DOUBLE_EQ(a.item(), 0.47);
  EXPECT_EQ(w.grad().to_vector(), (std::vector<double>{0.5, 0.6}));
  EXPECT_DOUBLE_EQ(b.grad().item(), 1.0);
  EXPECT_EQ(x.grad().to_vector(), (std::vector<double>{0.1, 0.2}));
}

TEST(Autodiff, FanOutContributionsAreSummed) {
  Graph g;
  const Expr x = g.parameter("x", 3.0);
  const Expr y = x * x + x;  // dy/dx = 2x + 1
  g.backward(y);
  EXPECT_DOUBLE_EQ(x.grad().item(), 7.0);
}

TEST(Autodiff, DiamondSumsBothPaths) {
  Graph g;
  const Expr x = g.parameter("x", 0.7);
  const Expr a = sigmoid(x), b = tanh(x);
  const Expr y = a * b;
  g.backward(y);
  const double s = 1 / (1 + std::exp(-0.7)), t = std::tanh(0.7);
  EXPECT_NEAR(x.grad().item(), s * (1 - s) * t + s * (1 - t * t), 1e-15);
}

TEST(Autodiff, BackwardTwiceGivesTheSameGradientNotTwice) {
  Graph g;
  const Expr w = g.parameter("w", 2.0);
  const Expr y = w * w;
  g.backward(y);
  g.backward(y);
  EXPECT_DOUBLE_EQ(w.grad().item(), 4.0);
  const std::size_t nodes = g.size();
  g.backward(y);
  EXPECT_EQ(g.size(), nodes) << "the gradient graph is built once per loss";
}

TEST(Autodiff, AccumulateAddsToStoredGradients) {
  Graph g;
  const Expr w = g.parameter("w", 2.0);
  const Expr y = w * w;
  g.backward(y);
  g.backward(y, {}, BackwardOptions{.accumulate = true});
  EXPECT_DOUBLE_EQ(w.grad().item(), 8.0);
  g.zero_grad();
  EXPECT_DOUBLE_EQ(w.grad().item(), 0.0);
}

// backward() writes replaced gradients straight into .grad() and adds accumulated ones afterwards:
// switching between the two, with other parameter values, gives each call's own result.
TEST(Autodiff, ReplacingAndAccumulatingBackwardCallsAlternate) {
  Graph g;
  const Expr w = g.parameter("w", Tensor::full(Shape{3}, 2.0));
  const Expr loss = sum(w * w * w);  // d/dw = 3 w^2
  g.backward(loss);
  EXPECT_DOUBLE_EQ(w.grad().at(1), 12.0);
  g.set_value(w, Tensor::full(Shape{3}, 1.0));
  g.backward(loss, {}, BackwardOptions{.accumulate = true});
  EXPECT_DOUBLE_EQ(w.grad().at(1), 15.0);
  g.backward(loss);
  EXPECT_DOUBLE_EQ(w.grad().at(1), 3.0);
  g.set_value(w, Tensor::full(Shape{3}, 3.0));
  g.backward(loss);
  EXPECT_DOUBLE_EQ(w.grad().at(1), 27.0);
  // A plain run of the loss and a gradient of it leaves .grad() alone.
  g.run(std::vector<Expr>{loss, grad(loss, w)});
  EXPECT_DOUBLE_EQ(w.grad().at(1), 27.0);
  g.zero_grad();
  g.backward(loss, {}, BackwardOptions{.accumulate = true});
  EXPECT_DOUBLE_EQ(w.grad().at(1), 27.0);
}

TEST(Autodiff, NonScalarOutputTakesASeedAsVectorJacobianProduct) {
  Graph g;
  const Expr x = g.parameter("x", Tensor::from({1.0, 2.0, 3.0}, Shape{3}));
  const Expr y = x * x;
  const Tensor seed = Tensor::from({1.0, 10.0, 100.0}, Shape{3});
  g.backward(y, seed);
  EXPECT_EQ(x.grad().to_vector(), (std::vector<double>{2.0, 40.0, 600.0}));
}

TEST(Autodiff, GradientsAreGraphNodesThatCanBeDifferentiatedAgain) {
  Graph g;
  const Expr x = g.parameter("x", 0.4);
  const Expr y = tanh(x);
  const Expr dy = grad(y, x);
  const Expr d2y = grad(dy, x);
  const Expr d3y = grad(d2y, x);
  const auto values = g.run({dy, d2y, d3y});
  const double t = std::tanh(0.4);
  EXPECT_NEAR(values[0].item(), 1 - t * t, 1e-15);
  EXPECT_NEAR(values[1].item(), -2 * t * (1 - t * t), 1e-15);
  EXPECT_NEAR(values[2].item(), (1 - t * t) * (6 * t * t - 2), 1e-14);
  EXPECT_TRUE(has_flag(g.node(dy.id()).flags, NodeFlags::gradient));
}

// Hessian-vector product of a small tanh MLP's loss, checked against central differences of its
// gradient: (grad(w + eps v) - grad(w - eps v)) / (2 eps).
TEST(Autodiff, HessianVectorProductMatchesFiniteDifferencesOfTheGradient) {
  Graph g;
  SplitMix64 random(5);
  auto random_tensor = [&](Shape shape) {
    Tensor t(shape, DType::f64);
    for (std::int64_t i = 0; i < t.numel(); ++i) t.set(i, 2 * random.uniform() - 1);
    return t;
  };
  const Expr x = g.constant(random_tensor(Shape{4, 3}));
  const Expr w1 = g.parameter("w1", random_tensor(Shape{3, 5}));
  const Expr w2 = g.parameter("w2", random_tensor(Shape{5, 1}));
  const Expr loss = mean(pow(matmul(tanh(matmul(x, w1)), w2), 2.0));
  const auto grads = grad(loss, {w1, w2});
  const Tensor v1 = random_tensor(Shape{3, 5}), v2 = random_tensor(Shape{5, 1});
  // Hv = grad(g . v): differentiate the directional derivative once more.
  const Expr directional = sum(grads[0] * g.constant(v1)) + sum(grads[1] * g.constant(v2));
  const auto hvp = grad(directional, {w1, w2});
  const auto hv = g.run(hvp);

  constexpr double kEps = 1e-5;
  auto gradient_at = [&](double direction) {
    const Tensor w1_saved(w1.value()), w2_saved(w2.value());
    for (std::int64_t i = 0; i < v1.numel(); ++i)
      w1.value().set(i, w1_saved.at(i) + direction * kEps * v1.at(i));
    for (std::int64_t i = 0; i < v2.numel(); ++i)
      w2.value().set(i, w2_saved.at(i) + direction * kEps * v2.at(i));
    auto values = g.run(grads);
    g.set_value(w1, w1_saved);
    g.set_value(w2, w2_saved);
    return values;
  };
  const auto plus = gradient_at(+1), minus = gradient_at(-1);
  for (std::size_t k = 0; k < 2; ++k) {
    for (std::int64_t i = 0; i < hv[k].numel(); ++i) {
      const double numeric = (plus[k].at(i) - minus[k].at(i)) / (2 * kEps);
      EXPECT_NEAR(hv[k].at(i), numeric, 1e-6) << "parameter " << k << " element " << i;
    }
  }
}

TEST(Autodiff, StopGradientDetaches) {
  Graph g;
  const Expr x = g.parameter("x", 3.0);
  const Expr y = x * stop_gradient(x);  // d/dx = stop_gradient(x) only
  g.backward(y);
  EXPECT_DOUBLE_EQ(x.grad().item(), 3.0);
}

TEST(Autodiff, NodeTheOutputDoesNotDependOnGetsAZeroGradient) {
  Graph g;
  const Expr x = g.parameter("x", Tensor::from({1.0, 2.0}, Shape{2}));
  const Expr unrelated = g.parameter("unrelated", Tensor::from({5.0, 6.0}, Shape{2}));
  const Expr gradient = grad(sum(x), unrelated);
  EXPECT_EQ(g.run(gradient).to_vector(), (std::vector<double>{0.0, 0.0}));
}

TEST(Autodiff, GradientOfAnIntermediateNode) {
  Graph g;
  const Expr x = g.parameter("x", 2.0);
  const Expr h = x * x;
  const Expr y = 3.0 * h;
  EXPECT_DOUBLE_EQ(g.run(grad(y, h)).item(), 3.0);
}

TEST(Autodiff, BroadcastBiasGradientSumsOverTheBatch) {
  Graph g;
  const Expr x = g.constant(Tensor::from({1, 2, 3, 4, 5, 6}, Shape{3, 2}));
  const Expr b = g.parameter("b", Tensor::from({0.5, -0.5}, Shape{2}));
  g.backward(sum(x + b));
  EXPECT_EQ(b.grad().to_vector(), (std::vector<double>{3.0, 3.0}));
}

TEST(Autodiff, LocalGradientCheckFindsNoFailingNodeInACorrectGraph) {
  Graph g;
  const Expr x = g.parameter("x", Tensor::from({0.3, -1.2, 2.0, 0.7}, Shape{2, 2}));
  const Expr w = g.parameter("w", Tensor::from({0.5, 0.1, -0.4, 0.9}, Shape{2, 2}));
  const Expr y = sum(softplus(matmul(x, w)) * sigmoid(x));
  EXPECT_TRUE(check_local_gradients(y).empty());
}

}  // namespace
}  // namespace dagprop

namespace dagprop {
namespace {

TEST(Grad, AskingAgainForTheSameGradientsReusesTheirNodes) {
  Graph g;
  const Expr x = g.parameter("x", 0.7), w = g.parameter("w", -1.3);
  const Expr y = tanh(x * w) + x;
  const std::vector<Expr> first = grad(y, {x, w});
  const std::size_t size = g.size();
  const std::vector<Expr> again = grad(y, {x, w});
  EXPECT_EQ(g.size(), size) << "the second grad() built nodes";
  ASSERT_EQ(again.size(), 2u);
  EXPECT_EQ(again[0].id(), first[0].id());
  EXPECT_EQ(again[1].id(), first[1].id());
  // Another request is another gradient: the order of wrt, a seed, a second order.
  const std::vector<Expr> swapped = grad(y, {w, x});
  EXPECT_GT(g.size(), size);
  EXPECT_EQ(g.run(swapped[0]).item(), g.run(first[1]).item());
  const Expr second = grad(first[0], x);
  EXPECT_EQ(grad(first[0], x).id(), second.id());
  const Expr seed = g.constant(2.0);
  EXPECT_NE(grad(y, x, seed).id(), first[0].id());
  EXPECT_EQ(g.run(grad(y, x, seed)).item(), 2 * g.run(first[0]).item());
}

}  // namespace
}  // namespace dagprop
