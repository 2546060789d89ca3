// Every op's gradient against central finite differences in float64, over the whole op table.
#include <gtest/gtest.h>

#include <set>

#include "op_cases.hpp"

namespace dagprop::testing {
namespace {

class OpGradient : public ::testing::TestWithParam<OpCase> {};

TEST_P(OpGradient, MatchesItsDefinition) {
  const OpCase& c = GetParam();
  Graph g;
  std::vector<Expr> wrt;
  const Expr y = c.build(g, wrt);
  ASSERT_EQ(y.op_name(), c.op) << "the case for " << c.op << " builds a " << y.op_name() << " node";
  switch (c.expectation) {
    case GradientExpectation::finite_differences: {
      const GradcheckResult result = gradcheck(y, wrt);
      EXPECT_TRUE(result.ok) << result.report();
      // The node-local check must agree that this op's rule is right.
      EXPECT_TRUE(check_local_gradients(y).empty());
      break;
    }
    case GradientExpectation::straight_through: {
      const Expr seed = random_parameter(g, "seed", y.shape(), -1, 1);
      const Tensor dx = g.run(grad(y, wrt[0], seed));
      EXPECT_TRUE(bitwise_equal(dx, seed.value()));
      break;
    }
    case GradientExpectation::zero_by_definition: {
      const Tensor dx = g.run(grad(sum(y), wrt[0]));
      EXPECT_TRUE(bitwise_equal(dx, Tensor::zeros(dx.shape())));
      break;
    }
    case GradientExpectation::not_differentiable:
      EXPECT_THROW(grad(sum(y), wrt), Error);
      break;
  }
}

std::string case_name(const ::testing::TestParamInfo<OpCase>& info) {
  std::string name = info.param.op + "_" + info.param.label;
  for (char& ch : name) {
    if (!std::isalnum(static_cast<unsigned char>(ch))) ch = '_';
  }
  return name;
}

INSTANTIATE_TEST_SUITE_P(OpTable, OpGradient, ::testing::ValuesIn(op_cases()), case_name);

TEST(OpTable, EveryOpHasAGradientCase) {
  std::set<std::string> covered;
  for (const OpCase& c : op_cases()) covered.insert(c.op);
  const OpRegistry& registry = OpRegistry::global();
  for (OpId id = 0; id < static_cast<OpId>(OpCode::builtin_count); ++id) {
    const OpDef& def = registry[id];
    if (def.grad_kind == GradKind::leaf) continue;
    EXPECT_TRUE(covered.count(std::string(def.name)))
        << "op '" << def.name << "' has no case in tests/ops/op_cases.cpp";
  }
}

}  // namespace
}  // namespace dagprop::testing
