// avg_pool2d counts zero padding towards the mean (count_include_pad); global_avg_pool2d is the
// mean of each map.
#include <gtest/gtest.h>

#include <dagprop/dagprop.hpp>

namespace dagprop {
namespace {

TEST(AvgPool2d, ZeroPaddingCountsTowardsTheMean) {
  for (const DType dtype : {DType::f32, DType::f64}) {
    Graph g;
    const Expr x = g.parameter("x", Tensor::from({1, 2, 3, 4}, Shape{1, 1, 2, 2}, dtype));
    const Tensor y = g.run(avg_pool2d(x, {.kernel = {2, 2}, .stride = {1, 1}, .padding = {1, 1}}));
    ASSERT_EQ(y.shape(), (Shape{1, 1, 3, 3}));
    EXPECT_EQ(y.at(0), 0.25);  // (0 + 0 + 0 + 1) / 4
    EXPECT_EQ(y.at(4), 2.5);   // the whole image
    EXPECT_EQ(y.at(8), 1.0);   // (4 + 0 + 0 + 0) / 4
  }
}

TEST(AvgPool2d, GradientSpreadsOverTheWindow) {
  Graph g;
  const Expr x = g.parameter("x", Tensor::from({1, 2, 3, 4, 5, 6}, Shape{1, 1, 2, 3}));
  const Tensor d = g.run(grad(sum(avg_pool2d(x, {.kernel = {2, 2}, .stride = {1, 1}})), x));
  const std::vector<double> expected{0.25, 0.5, 0.25, 0.25, 0.5, 0.25};
  for (std::int64_t i = 0; i < 6; ++i) EXPECT_EQ(d.at(i), expected[static_cast<std::size_t>(i)]);
}

TEST(AvgPool2d, GradientOpRejectsAMismatchedGradient) {
  Graph g;
  const Expr grad_out = g.input("g", Shape{1, 1, 3, 3});
  EXPECT_THROW(avg_pool2d_grad(grad_out, {4, 4}), Error);  // 4x4 pools to 2x2
  EXPECT_NO_THROW(avg_pool2d_grad(grad_out, {6, 7}));
}

TEST(GlobalAvgPool2d, MeanOfEveryFeatureMap) {
  Graph g;
  const Expr x =
      g.parameter("x", Tensor::from({1, 2, 3, 4, 10, 20, 30, 800}, Shape{1, 2, 2, 2}, DType::f32));
  const Tensor y = g.run(global_avg_pool2d(x));
  ASSERT_EQ(y.shape(), (Shape{1, 2}));
  EXPECT_EQ(y.at(0), 2.5);
  EXPECT_EQ(y.at(1), 215);
  const Tensor d = g.run(grad(sum(global_avg_pool2d(x)), x));
  EXPECT_EQ(d.at(7), 0.25);
}

TEST(GlobalAvgPool2d, RejectsNonImages) {
  Graph g;
  try {
    global_avg_pool2d(g.input("v", Shape{3, 4}));
    FAIL() << "no error";
  } catch (const Error& e) {
    EXPECT_NE(std::string(e.what()).find("[N, C, H, W]"), std::string::npos) << e.what();
  }
}

}  // namespace
}  // namespace dagprop
