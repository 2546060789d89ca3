// max, min, argmax, argmin along an axis: the first extreme element wins ties and takes the
// gradient; NaN propagates; an empty axis is an error.
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <cmath>
#include <limits>

#include "tensor_ops_support.hpp"

namespace dagprop::testing {
namespace {

using ::testing::ElementsAre;
using ::testing::HasSubstr;

TEST(Max, GradientGoesToTheFirstMaximalElement) {
  Graph g;
  const Expr x = parameter_of(g, "x", {1, 3, 3, 2, 7, 7, 7, 0}, Shape{2, 4});
  EXPECT_THAT(values_of(g.run(max(x, 1))), ElementsAre(3, 7));
  EXPECT_THAT(values_of(g.run(argmax(x, 1))), ElementsAre(1, 0));
  EXPECT_THAT(values_of(g.run(grad(sum(max(x, 1)), x))), ElementsAre(0, 1, 0, 0, 1, 0, 0, 0));
  EXPECT_THAT(values_of(g.run(grad(sum(min(x, 1)), x))), ElementsAre(1, 0, 0, 0, 0, 0, 0, 1));
}

TEST(Max, AlongTheFirstAxisWithKeepdim) {
  Graph g;
  const Expr x = parameter_of(g, "x", {1, 5, 4, 2, 4, 6}, Shape{3, 2});
  const Expr y = max(x, 0, true);
  EXPECT_EQ(y.shape(), (Shape{1, 2}));
  EXPECT_THAT(values_of(g.run(y)), ElementsAre(4, 6));
  EXPECT_THAT(values_of(g.run(argmin(x, 0))), ElementsAre(0, 1));
}

TEST(Max, NaNPropagatesAndLargeValuesStayFinite) {
  Graph g;
  const double nan = std::numeric_limits<double>::quiet_NaN();
  const Expr x = parameter_of(g, "x", {1, nan, 3, -800, 800, 799}, Shape{2, 3});
  const auto y = values_of(g.run(max(x, 1)));
  EXPECT_TRUE(std::isnan(y[0]));
  EXPECT_EQ(y[1], 800);
  EXPECT_THAT(values_of(g.run(argmax(x, 1))), ElementsAre(1, 1));
}

TEST(Max, SecondOrderGradientGoesThroughArgmax) {
  Graph g;
  const Expr x = parameter_of(g, "x", {1, 3, 2, 5, 4, 0}, Shape{2, 3});
  const Expr peaks = max(x, 1);
  const Expr dx = grad(sum(peaks * peaks), x);  // 2 max at the maximal element
  EXPECT_THAT(values_of(g.run(dx)), ElementsAre(0, 6, 0, 10, 0, 0));
  EXPECT_THAT(values_of(g.run(grad(sum(dx), x))), ElementsAre(0, 2, 0, 2, 0, 0));
}

TEST(Max, EmptyAxisIsAnError) {
  Graph g;
  const Expr x = g.input("x", Shape{2, 0});
  EXPECT_THAT([&] { max(x, 1); },
              ::testing::ThrowsMessage<Error>(AllOf(HasSubstr("op max"), HasSubstr("empty"))));
}

}  // namespace
}  // namespace dagprop::testing
