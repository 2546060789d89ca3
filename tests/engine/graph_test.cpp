// The seed neuron and the basics of building and running a graph.
#include <gtest/gtest.h>

#include <dagprop/dagprop.hpp>

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
