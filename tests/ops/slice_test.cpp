// slice: Python's ranges (negative bounds, clamping, steps), empty slices, the gradient written
// back into zeros, and the errors.
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "tensor_ops_support.hpp"

namespace dagprop::testing {
namespace {

using ::testing::ElementsAre;
using ::testing::HasSubstr;

Expr arange(Graph& g, std::int64_t n) {
  std::vector<double> v;
  for (std::int64_t i = 0; i < n; ++i) v.push_back(static_cast<double>(i));
  return g.parameter("x", Tensor::from(v, Shape{n}));
}

TEST(Slice, TakesPythonRangesWithSteps) {
  Graph g;
  const Expr x = arange(g, 10);
  EXPECT_THAT(values_of(g.run(slice(x, 0, -7, 100, 3))), ElementsAre(3, 6, 9));
  EXPECT_THAT(values_of(g.run(slice(x, 0, 8, 2))), ElementsAre());
  EXPECT_EQ(slice(x, 0, 8, 2).shape(), (Shape{0}));
}

TEST(Slice, CutsSeveralAxesOfAMatrix) {
  Graph g;
  const Expr x =
      g.parameter("m", Tensor::from({0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11}, Shape{3, 4}));
  EXPECT_THAT(values_of(g.run(slice(x, {{1, 3}, {0, 4, 2}}))), ElementsAre(4, 6, 8, 10));
}

TEST(Slice, GradientWritesTheUpstreamGradientIntoZeros) {
  Graph g;
  const Expr x = arange(g, 6);
  const Expr dx = grad(sum(slice(x, 0, 1, 6, 2) * 5.0), x);
  EXPECT_THAT(values_of(g.run(dx)), ElementsAre(0, 5, 0, 5, 0, 5));
  // Second order: the gradient of slice_grad is a slice again.
  EXPECT_EQ(g.run(grad(sum(dx * dx), x)).numel(), 6);
}

TEST(Slice, NonPositiveStepIsAnErrorNamingTheAxis) {
  Graph g;
  const Expr x = g.input("x", Shape{4, 5});
  EXPECT_THAT([&] { slice(x, 1, 0, 5, 0); },
              ::testing::ThrowsMessage<Error>(HasSubstr("step 0 on axis 1 of [4, 5]")));
}

TEST(Slice, BadRangesFromAGraphFileAreAnErrorNamingTheNode) {
  Graph g;
  const Expr x = g.input("x", Shape{4});
  OpAttrs attrs;
  attrs.ints = {1, 9, 1};
  EXPECT_THAT([&] { g.apply("slice", std::span<const Expr>(&x, 1), attrs, "cut"); },
              ::testing::ThrowsMessage<Error>(
                  AllOf(HasSubstr("node 'cut' (op slice)"), HasSubstr("does not fit shape [4]"))));
}

}  // namespace
}  // namespace dagprop::testing
