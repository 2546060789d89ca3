// concat and stack: order of the inputs, shapes, the error for inputs that disagree, gradients.
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "tensor_ops_support.hpp"

namespace dagprop::testing {
namespace {

using ::testing::ElementsAre;
using ::testing::HasSubstr;

TEST(Concat, JoinsAlongAnAxisInInputOrder) {
  Graph g;
  const Expr a = parameter_of(g, "a", {1, 2}, Shape{2, 1});
  const Expr b = parameter_of(g, "b", {3, 4, 5, 6}, Shape{2, 2});
  const Expr y = concat({a, b}, 1);
  EXPECT_EQ(y.shape(), (Shape{2, 3}));
  EXPECT_THAT(values_of(g.run(y)), ElementsAre(1, 3, 4, 2, 5, 6));
}

TEST(Concat, StackAddsANewAxis) {
  Graph g;
  const Expr a = parameter_of(g, "a", {1, 2}, Shape{2});
  const Expr b = parameter_of(g, "b", {3, 4}, Shape{2});
  EXPECT_THAT(values_of(g.run(stack({a, b}, 0))), ElementsAre(1, 2, 3, 4));
  const Expr columns = stack({a, b}, -1);
  EXPECT_EQ(columns.shape(), (Shape{2, 2}));
  EXPECT_THAT(values_of(g.run(columns)), ElementsAre(1, 3, 2, 4));
}

TEST(Concat, GradientIsEachInputsSliceOfTheUpstreamGradient) {
  Graph g;
  const Expr a = parameter_of(g, "a", {1, 2}, Shape{1, 2});
  const Expr b = parameter_of(g, "b", {3, 4, 5, 6}, Shape{2, 2});
  const Expr weights = g.constant(Tensor::from({10, 20, 30, 40, 50, 60}, Shape{3, 2}));
  const auto grads = grad(sum(concat({a, b}, 0) * weights), {a, b});
  EXPECT_THAT(values_of(g.run(grads[0])), ElementsAre(10, 20));
  EXPECT_THAT(values_of(g.run(grads[1])), ElementsAre(30, 40, 50, 60));
}

TEST(Concat, InputsThatDisagreeOnAnotherAxisAreAnErrorNamingBoth) {
  Graph g;
  const Expr a = g.input("a", Shape{2, 3});
  const Expr b = g.input("b", Shape{3, 3});
  EXPECT_THAT(
      [&] {
        concat({a, b}, 1);
      },
      ::testing::ThrowsMessage<Error>(AllOf(HasSubstr("op concat"), HasSubstr("input 0 is [2, 3]"),
                                            HasSubstr("input 1 is [3, 3]"))));
  EXPECT_THAT(
      [&] {
        stack({a, b});
      },
      ::testing::ThrowsMessage<Error>(HasSubstr("stack needs inputs of one shape")));
}

}  // namespace
}  // namespace dagprop::testing
