// Conv2d, MaxPool2d, AvgPool2d and Flatten layers: parameter layout and PyTorch's default bounds,
// shapes through a small CNN, and errors that name the layer.
#include <gtest/gtest.h>

#include <cmath>

#include <dagprop/dagprop.hpp>
#include <dagprop/nn/layers.hpp>

namespace dagprop::nn {
namespace {

TEST(Conv2dLayer, ParametersHavePyTorchLayoutAndFanInBounds) {
  Graph g;
  SplitMix64 random(5);
  const Conv2d conv(g, "conv1", 6, 8, {3, 5}, random, {.padding = {1, 2}, .groups = 2});
  EXPECT_EQ(conv.weight().shape(), (Shape{8, 3, 3, 5}));
  EXPECT_EQ(conv.bias().shape(), (Shape{8}));
  EXPECT_EQ(conv.weight().name(), "conv1/W");
  EXPECT_EQ(conv.bias().name(), "conv1/b");
  const double bound = 1.0 / std::sqrt(3.0 * 3 * 5);
  double largest = 0;
  for (const Expr p : {conv.weight(), conv.bias()}) {
    const TensorView v = p.value();
    for (std::int64_t i = 0; i < v.numel(); ++i) largest = std::max(largest, std::abs(v.at(i)));
  }
  EXPECT_LE(largest, bound);
  EXPECT_GT(largest, 0.8 * bound);  // the draws use the whole range
}

TEST(Conv2dLayer, ASmallCnnHasTheExpectedShapes) {
  Graph g;
  SplitMix64 random(7);
  const Conv2d conv1(g, "conv1", 1, 4, {5, 5}, random, {.padding = {2, 2}});
  const Conv2d conv2(g, "conv2", 4, 6, {3, 3}, random, {}, /*bias=*/false);
  const MaxPool2d pool({.kernel = {2, 2}});
  const AvgPool2d average({.kernel = {3, 3}, .stride = {1, 1}, .padding = {1, 1}});
  const Flatten flat;
  const Expr x = g.input("x", Shape{2, 1, 12, 12}, DType::f32);
  const Expr h1 = pool(relu(conv1(x)));
  EXPECT_EQ(h1.shape(), (Shape{2, 4, 6, 6}));
  const Expr h2 = average(conv2(h1));
  EXPECT_EQ(h2.shape(), (Shape{2, 6, 4, 4}));
  EXPECT_FALSE(conv2.bias().valid());
  EXPECT_EQ(flat(h2).shape(), (Shape{2, 96}));
  EXPECT_EQ(conv1(x).name(), "conv1/z");
}

TEST(Conv2dLayer, WrongChannelsNameTheLayer) {
  Graph g;
  SplitMix64 random(1);
  const Conv2d conv(g, "conv2", 16, 32, {5, 5}, random);
  const Expr x = g.input("maps", Shape{4, 8, 14, 14}, DType::f32);
  try {
    conv(x);
    FAIL() << "no error";
  } catch (const Error& e) {
    const std::string m = e.what();
    EXPECT_NE(m.find("layer 'conv2'"), std::string::npos) << m;
    EXPECT_NE(m.find("[batch, 16, height, width]"), std::string::npos) << m;
  }
  EXPECT_THROW(Conv2d(g, "bad", 3, 4, {3, 3}, random, {.groups = 2}), Error);
}

}  // namespace
}  // namespace dagprop::nn
