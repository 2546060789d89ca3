// The activations' formulas live once (<dagprop/activation_formulas.hpp>): the graph's ops and
// the scalar tape agree with them, and with each other, to the bit (the activation study's
// derivative table is checked in tests/tools/unit_probe_test.cpp).
#include <gtest/gtest.h>

#include <cmath>
#include <string>
#include <vector>

#include <dagprop/activation_formulas.hpp>
#include <dagprop/dagprop.hpp>
#include <dagprop/scalar_tape.hpp>

namespace dagprop {
namespace {

struct Case {
  const char* name;
  Expr (*graph_op)(Expr);
  Scalar (*tape_op)(Scalar);
};

const std::vector<double> kPoints{-800, -40, -3.5, -1, -1e-9, 0, 1e-9, 0.25, 1, 2.5, 40, 800};

TEST(ActivationFormulas, GraphOpsAndTheScalarTapeGiveTheSameValueAndGradientToTheBit) {
  const Case cases[] = {
      {"sigmoid", dagprop::sigmoid, dagprop::sigmoid},
      {"tanh", dagprop::tanh, dagprop::tanh},
      {"relu", dagprop::relu, dagprop::relu},
      {"softplus", dagprop::softplus, dagprop::softplus},
  };
  for (const Case& c : cases) {
    for (const double x0 : kPoints) {
      SCOPED_TRACE(std::string(c.name) + " at " + std::to_string(x0));
      Graph g;
      const Expr x = g.parameter("x", x0);
      // Times 3: the incoming gradient is not 1, so the backward forms' order of products shows.
      const Expr y = c.graph_op(x) * 3.0;
      g.backward(y);
      ScalarTape tape;
      const Scalar tx = tape.variable(x0);
      const Scalar ty = c.tape_op(tx) * 3.0;
      tape.backward(ty);
      EXPECT_EQ(ty.value(), y.item());
      EXPECT_EQ(tape.adjoint(tx), x.grad().item());
      EXPECT_TRUE(std::isfinite(y.item()) && std::isfinite(x.grad().item()));
    }
  }
}

TEST(ActivationFormulas, TheOpsFollowTheSharedFormulas) {
  for (const double x0 : kPoints) {
    SCOPED_TRACE(x0);
    Graph g;
    const Expr x = g.parameter("x", x0);
    const Expr s = sigmoid(x), p = softplus(x), r = relu(x);
    g.backward(s * 3.0 + p + r, {}, {.keep = {s, p, r}});
    const double y = formulas::sigmoid(x0);
    EXPECT_EQ(s.item(), y);
    EXPECT_EQ(p.item(), formulas::softplus(x0));
    EXPECT_EQ(r.item(), formulas::relu(x0));
  }
  // softplus keeps the tail that log(1 + e^x) rounds away, and sigmoid saturates without NaN.
  EXPECT_GT(formulas::softplus(-40.0), 0.0);
  EXPECT_NEAR(formulas::softplus(-40.0) / std::exp(-40.0), 1.0, 1e-15);
  EXPECT_EQ(formulas::sigmoid(800.0), 1.0);
  EXPECT_EQ(formulas::sigmoid(-800.0), 0.0);
}

}  // namespace
}  // namespace dagprop
