// A chain of ten million nodes builds, runs forward and backward, and is destroyed: nothing in
// dagprop recurses over the graph.
#include <gtest/gtest.h>

#include <cmath>

#include <dagprop/dagprop.hpp>

namespace dagprop {
namespace {

TEST(DeepChain, TenMillionNodesRunForwardAndBackwardWithoutRecursion) {
  constexpr int kLinks = 5'000'000;  // two nodes per link: x * c, then tanh
  double expected_value = 0.3, expected_grad = 1.0;
  {
    Graph g;
    const Expr x0 = g.parameter("x0", 0.3);
    const Expr c = g.constant(0.999);
    Expr x = x0;
    for (int i = 0; i < kLinks; ++i) x = tanh(x * c);
    ASSERT_GE(g.size(), 10'000'000u);
    for (int i = 0; i < kLinks; ++i) {
      const double t = std::tanh(expected_value * 0.999);
      expected_grad *= 0.999 * (1 - t * t);
      expected_value = t;
    }
    g.backward(x);
    EXPECT_NEAR(x.item(), expected_value, 1e-12);
    EXPECT_NEAR(x0.grad().item(), expected_grad, 1e-12 + 1e-9 * std::abs(expected_grad));
  }  // the graph, its plans and its gradient graph are destroyed here
}

}  // namespace
}  // namespace dagprop
