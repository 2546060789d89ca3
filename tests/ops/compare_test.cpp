// maximum, minimum, where and the comparison masks: values, NaN, the gradient convention at ties
// (all to the first operand), and masks declared as having a zero gradient.
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <cmath>
#include <limits>

#include "tensor_ops_support.hpp"

namespace dagprop::testing {
namespace {

using ::testing::ElementsAre;
using ::testing::HasSubstr;

TEST(Maximum, GradientAtATieGoesToTheFirstOperand) {
  Graph g;
  const Expr a = parameter_of(g, "a", {1, 2, 3}, Shape{3});
  const Expr b = parameter_of(g, "b", {1, 5, 3}, Shape{3});
  const auto up = grad(sum(maximum(a, b)), {a, b});
  EXPECT_THAT(values_of(g.run(up[0])), ElementsAre(1, 0, 1));
  EXPECT_THAT(values_of(g.run(up[1])), ElementsAre(0, 1, 0));
  const auto down = grad(sum(minimum(a, b)), {a, b});
  EXPECT_THAT(values_of(g.run(down[0])), ElementsAre(1, 1, 1));
  EXPECT_THAT(values_of(g.run(down[1])), ElementsAre(0, 0, 0));
}

TEST(Maximum, PropagatesNaNAndStaysFiniteForLargeValues) {
  Graph g;
  const double nan = std::numeric_limits<double>::quiet_NaN();
  const Expr a = parameter_of(g, "a", {nan, 1, -800}, Shape{3});
  const Expr b = parameter_of(g, "b", {1, nan, 800}, Shape{3});
  const auto y = values_of(g.run(maximum(a, b)));
  EXPECT_TRUE(std::isnan(y[0]));
  EXPECT_TRUE(std::isnan(y[1]));
  EXPECT_EQ(y[2], 800);
  EXPECT_TRUE(std::isnan(values_of(g.run(minimum(a, b)))[1]));
}

TEST(Comparisons, GiveMasksOfOneAndZeroWithNaNFalse) {
  Graph g;
  const double nan = std::numeric_limits<double>::quiet_NaN();
  const Expr a = parameter_of(g, "a", {1, 2, 3, nan}, Shape{4});
  const Expr b = parameter_of(g, "b", {2}, Shape{1});
  EXPECT_THAT(values_of(g.run(greater(a, b))), ElementsAre(0, 0, 1, 0));
  EXPECT_THAT(values_of(g.run(greater_equal(a, b))), ElementsAre(0, 1, 1, 0));
  EXPECT_THAT(values_of(g.run(less(a, b))), ElementsAre(1, 0, 0, 0));
  EXPECT_THAT(values_of(g.run(less_equal(a, b))), ElementsAre(1, 1, 0, 0));
  EXPECT_THAT(values_of(g.run(equal(a, b))), ElementsAre(0, 1, 0, 0));
  EXPECT_THAT(values_of(g.run(not_equal(a, b))), ElementsAre(1, 0, 1, 1));
}

TEST(Comparisons, AreDeclaredToHaveAZeroGradient) {
  for (const char* name : {"greater", "greater_equal", "less", "less_equal", "equal", "not_equal",
                           "argmax", "argmin"}) {
    const OpDef& def = OpRegistry::global()[OpRegistry::global().id_of(name)];
    EXPECT_EQ(def.grad_kind, GradKind::zero) << name;
  }
}

TEST(Where, PicksPerElementAndGivesTheBranchNotTakenAZeroGradient) {
  Graph g;
  const Expr cond = g.constant(Tensor::from({1, 0, 2}, Shape{3}));
  const Expr a = parameter_of(g, "a", {1, 2, 3}, Shape{3});
  const Expr b = parameter_of(g, "b", {-1}, Shape{1});
  EXPECT_THAT(values_of(g.run(where(cond, a, b))), ElementsAre(1, -1, 3));
  const auto d = grad(sum(where(cond, a * 2.0, b)), {a, b});
  EXPECT_THAT(values_of(g.run(d[0])), ElementsAre(2, 0, 2));
  EXPECT_THAT(values_of(g.run(d[1])), ElementsAre(1));
}

TEST(Where, ConditionCarriesNoGradient) {
  Graph g;
  const Expr cond = parameter_of(g, "cond", {1, 0}, Shape{2});
  const Expr a = parameter_of(g, "a", {1, 2}, Shape{2});
  EXPECT_THAT([&] { grad(sum(where(cond, a, a)), {cond}); },
              ::testing::ThrowsMessage<Error>(HasSubstr("not differentiable")));
}

TEST(Where, MaskOfAParameterCanBeTheCondition) {
  // relu written with where: the mask depends on x, but a mask takes no gradient.
  Graph g;
  const Expr x = parameter_of(g, "x", {-1, 2, -3, 4}, Shape{4});
  const Expr zero = g.constant(0.0);
  const Expr y = where(greater(x, zero), x * x, zero);
  EXPECT_THAT(values_of(g.run(grad(sum(y), x))), ElementsAre(0, 4, 0, 8));
}

TEST(Where, ShapesThatDoNotBroadcastAreAnError) {
  Graph g;
  const Expr cond = g.input("c", Shape{3});
  EXPECT_THAT(
      [&] { where(cond, g.input("a", Shape{2}), g.input("b", Shape{3})); },
      ::testing::ThrowsMessage<Error>(AllOf(HasSubstr("op where"), HasSubstr("[3] and [2]"))));
}

}  // namespace
}  // namespace dagprop::testing
