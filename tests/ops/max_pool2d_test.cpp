// max_pool2d: the gradient goes to the first maximal element at ties, padding never wins, NaN
// propagates, and bad windows are clear errors.
#include <gtest/gtest.h>

#include <cmath>
#include <limits>

#include <dagprop/dagprop.hpp>

namespace dagprop {
namespace {

TEST(MaxPool2d, GradientGoesToTheFirstMaximalElementAtTies) {
  for (const DType dtype : {DType::f32, DType::f64}) {
    Graph g;
    // One 2x4 map, two 2x2 windows: the left one all equal, the right one with a tie of 5 at
    // (0, 3) and (1, 2): row-major order makes (0, 3) first.
    const Expr x =
        g.parameter("x", Tensor::from({1, 1, 2, 5, 1, 1, 5, 0}, Shape{1, 1, 2, 4}, dtype));
    const Expr y = max_pool2d(x);
    const Expr dx = grad(sum(y * g.constant(Tensor::from({3, 7}, Shape{1, 1, 1, 2}, dtype))), x);
    const Tensor value = g.run(y);
    EXPECT_EQ(value.at(0), 1);
    EXPECT_EQ(value.at(1), 5);
    const Tensor d = g.run(dx);
    const std::vector<double> expected{3, 0, 0, 7, 0, 0, 0, 0};
    for (std::int64_t i = 0; i < 8; ++i)
      EXPECT_EQ(d.at(i), expected[static_cast<std::size_t>(i)]) << i;
  }
}

TEST(MaxPool2d, PaddingNeverWinsOverNegativeValues) {
  Graph g;
  const Expr x = g.parameter("x", Tensor::from({-5, -4, -3, -2}, Shape{1, 1, 2, 2}));
  const Tensor y = g.run(max_pool2d(x, {.kernel = {2, 2}, .stride = {1, 1}, .padding = {1, 1}}));
  ASSERT_EQ(y.shape(), (Shape{1, 1, 3, 3}));
  EXPECT_EQ(y.at(0), -5);  // the corner window sees padding and one element
  EXPECT_EQ(y.at(4), -2);
  EXPECT_EQ(y.at(8), -2);
}

TEST(MaxPool2d, NaNPropagatesAndTakesTheGradient) {
  Graph g;
  const double nan = std::numeric_limits<double>::quiet_NaN();
  const Expr x = g.parameter("x", Tensor::from({1, nan, 9, 2}, Shape{1, 1, 2, 2}));
  const Expr y = max_pool2d(x);
  EXPECT_TRUE(std::isnan(g.run(y).at(0)));
  const Tensor d = g.run(grad(sum(y), x));
  EXPECT_EQ(d.at(1), 1);
  EXPECT_EQ(d.at(2), 0);
}

TEST(MaxPool2d, OverlappingWindowsAddTheirGradients) {
  Graph g;
  // 1x3 map, windows of 1x2 with stride 1: the middle maximum wins both windows.
  const Expr x = g.parameter("x", Tensor::from({0, 4, 1}, Shape{1, 1, 1, 3}));
  const Tensor d = g.run(grad(sum(max_pool2d(x, {.kernel = {1, 2}, .stride = {1, 1}})), x));
  EXPECT_EQ(d.at(0), 0);
  EXPECT_EQ(d.at(1), 2);
  EXPECT_EQ(d.at(2), 0);
}

TEST(MaxPool2d, LargeValuesStayExact) {
  Graph g;
  const Expr x = g.parameter("x", Tensor::from({-800, 800, 799, -1}, Shape{1, 1, 2, 2}));
  EXPECT_EQ(g.run(max_pool2d(x)).at(0), 800);
}

TEST(MaxPool2d, BadWindowsNameTheShapeAndTheFix) {
  Graph g;
  const Expr x = g.input("maps", Shape{1, 2, 4, 4});
  try {
    g.set_name(max_pool2d(x, {.kernel = {2, 2}, .padding = {2, 0}}), "pool");
    FAIL() << "no error";
  } catch (const Error& e) {
    const std::string m = e.what();
    EXPECT_NE(m.find("op max_pool2d"), std::string::npos) << m;
    EXPECT_NE(m.find("[1, 2, 4, 4]"), std::string::npos) << m;
    EXPECT_NE(m.find("half the kernel"), std::string::npos) << m;
  }
  EXPECT_THROW(max_pool2d(x, {.kernel = {5, 5}}), Error);
  EXPECT_THROW(max_pool2d(g.input("flat", Shape{4, 4})), Error);
  EXPECT_THROW(max_pool2d_grad(x, g.input("g", Shape{1, 2, 3, 3})), Error);
}

}  // namespace
}  // namespace dagprop
