// The seed neuron and the basics of building and running a graph.
#include <gtest/gtest.h>

#include <dagprop/dagprop.hpp>

#include "test_graphs.hpp"

namespace dagprop {
namespace {

TEST(SeedNeuron, ReluValueAndGradientsMatchTheSeedText) {
  Graph g;
  auto x1 = g.constant(0.5), x2 = g.constant(0.6);
  auto w1 = g.parameter("w1", 0.1), w2 = g.parameter("w2", 0.2), b = g.parameter("b", 0.3);
  auto a = relu(w1 * x1 + w2 * x2 + b);
  g.backward(a);
  EXPECT_DOUBLE_EQ(a.item(), 0.47);
  EXPECT_DOUBLE_EQ(w1.grad().item(), 0.5);
  EXPECT_DOUBLE_EQ(w2.grad().item(), 0.6);
  EXPECT_DOUBLE_EQ(b.grad().item(), 1.0);
}

}  // namespace
}  // namespace dagprop

namespace dagprop {
namespace {

TEST(Leaves, UnnamedInputsAndParametersAreCalledAfterTheirNodeId) {
  Graph g;
  const Expr x = g.input(Shape{2});
  const Expr w = g.parameter(0.5);
  const Expr b = g.parameter(Tensor::from({1.0, 2.0}, Shape{2}));
  EXPECT_EQ(x.name(), "input0");
  EXPECT_EQ(w.name(), "parameter1");
  EXPECT_EQ(b.name(), "parameter2");
  EXPECT_EQ(g.find("parameter1").id(), w.id());
  EXPECT_NE(g.describe(b.id()).find("'parameter2'"), std::string::npos);
  const Expr y = x * w + b;
  g.backward(sum(y), {{x, Tensor::from({3.0, 4.0}, Shape{2})}});
  EXPECT_DOUBLE_EQ(w.grad().item(), 7.0);
}

TEST(Leaves, ANamedConstantShowsItsName) {
  Graph g;
  const Expr c = g.constant(0.5, DType::f64, "half");
  EXPECT_EQ(c.name(), "half");
  EXPECT_EQ(g.constant(0.25).name(), "");
}

TEST(Leaves, TwoParametersWithOneFullNameAreRejectedNamingBoth) {
  Graph g;
  g.parameter("w", Tensor::zeros(Shape{3}));
  const std::string message = testing::error_message([&] {
    g.parameter("w", Tensor::zeros(Shape{2, 2}));
  });
  EXPECT_NE(message.find("a parameter named 'w' already exists: 'w' (op parameter, shape [3])"),
            std::string::npos)
      << message;
  EXPECT_NE(message.find("shape [2, 2]"), std::string::npos) << message;
  // The same local name in another scope is another parameter.
  auto scope = g.scope("layer2");
  EXPECT_EQ(g.parameter("w", 1.0).name(), "layer2/w");
}

TEST(Leaves, HasGradTakesTheExpressionItIsAbout) {
  Graph g;
  const Expr w = g.parameter("w", 2.0);
  const Expr unused = g.parameter("unused", 1.0);
  EXPECT_FALSE(g.has_grad(w));
  g.backward(w * w);
  EXPECT_TRUE(g.has_grad(w));
  EXPECT_FALSE(g.has_grad(unused));
  Graph other;
  EXPECT_THROW(other.has_grad(w), Error);
}

}  // namespace
}  // namespace dagprop
