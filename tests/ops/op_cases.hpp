// The gradient test cases of every op: each builds the op on parameters with values in the op's
// smooth domain. The coverage test fails if an op of the table has no case.
#pragma once

#include <functional>
#include <ostream>
#include <string>
#include <vector>

#include <dagprop/dagprop.hpp>

namespace dagprop::testing {

enum class GradientExpectation {
  finite_differences,  // analytic gradient == central differences
  straight_through,    // gradient == upstream gradient (step_ste)
  zero_by_definition,  // gradient == 0 exactly (step, sign, stop_gradient)
  not_differentiable,  // asking for a gradient throws
};

struct OpCase {
  std::string op;     // the op's name in the table
  std::string label;  // what this case covers (shapes, broadcasting)
  GradientExpectation expectation = GradientExpectation::finite_differences;
  // Builds the op's output on the graph; pushes the nodes to differentiate into `wrt`.
  std::function<Expr(Graph&, std::vector<Expr>& wrt)> build;
};

const std::vector<OpCase>& op_cases();
void PrintTo(const OpCase& c, std::ostream* os);

// A float64 parameter of the given shape, uniform in [low, high), from a per-name seed.
Expr random_parameter(Graph& g, const std::string& name, Shape shape, double low, double high);

}  // namespace dagprop::testing
