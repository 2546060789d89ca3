// conv2d and its gradient ops: against a direct loop in float32 and float64 (stride, padding,
// dilation, groups, bias), errors that name the node, shapes and fix, and second order.
#include <gtest/gtest.h>

#include <cmath>

#include <dagprop/dagprop.hpp>
#include <dagprop/graph_io.hpp>

#include "op_cases.hpp"

namespace dagprop {
namespace {

using testing::random_parameter;

// y[n, o, i, j] by the definition, in double.
Tensor direct_conv2d(const TensorView& x, const TensorView& w, const TensorView* b,
                     const Conv2dOptions& o, const Shape& y_shape) {
  Tensor y(y_shape, DType::f64);
  const Shape& xs = x.shape();
  const Shape& ws = w.shape();
  const std::int64_t cg = ws[1], og = ws[0] / o.groups;
  for (std::int64_t n = 0; n < y_shape[0]; ++n)
    for (std::int64_t oc = 0; oc < y_shape[1]; ++oc)
      for (std::int64_t i = 0; i < y_shape[2]; ++i)
        for (std::int64_t j = 0; j < y_shape[3]; ++j) {
          double total = b != nullptr ? b->at(oc) : 0.0;
          const std::int64_t group = oc / og;
          for (std::int64_t c = 0; c < cg; ++c)
            for (std::int64_t p = 0; p < ws[2]; ++p)
              for (std::int64_t q = 0; q < ws[3]; ++q) {
                const std::int64_t h = i * o.stride[0] - o.padding[0] + p * o.dilation[0];
                const std::int64_t v = j * o.stride[1] - o.padding[1] + q * o.dilation[1];
                if (h < 0 || h >= xs[2] || v < 0 || v >= xs[3]) continue;
                const std::int64_t ic = group * cg + c;
                total += w.at(((oc * cg + c) * ws[2] + p) * ws[3] + q) *
                         x.at(((n * xs[1] + ic) * xs[2] + h) * xs[3] + v);
              }
          y.set(((n * y_shape[1] + oc) * y_shape[2] + i) * y_shape[3] + j, total);
        }
  return y;
}

Tensor converted(const TensorView& v, DType dtype) {
  Tensor t(v.shape(), dtype);
  for (std::int64_t i = 0; i < t.numel(); ++i) t.set(i, v.at(i));
  return t;
}

struct ConvCase {
  Shape x, w;
  Conv2dOptions options;
};

class Conv2dAgainstDirectLoop : public ::testing::TestWithParam<DType> {};

TEST_P(Conv2dAgainstDirectLoop, MatchesTheDefinitionForEveryGeometry) {
  const DType dtype = GetParam();
  const std::vector<ConvCase> cases = {
      {Shape{2, 3, 7, 6}, Shape{4, 3, 3, 3}, {.padding = {1, 1}}},
      {Shape{1, 4, 9, 8}, Shape{6, 2, 3, 2}, {.stride = {2, 3}, .padding = {2, 1}, .groups = 2}},
      {Shape{2, 2, 8, 8}, Shape{3, 2, 3, 3}, {.padding = {0, 3}, .dilation = {2, 3}}},
      {Shape{3, 5, 4, 4}, Shape{2, 5, 1, 1}, {}},
      {Shape{2, 1, 28, 28}, Shape{16, 1, 5, 5}, {.padding = {2, 2}}},
  };
  for (const ConvCase& c : cases) {
    Graph g;
    const Expr x = random_parameter(g, "x", c.x, -2, 2);
    const Expr w = random_parameter(g, "w", c.w, -1, 1);
    const Expr b = random_parameter(g, "b", Shape{c.w[0]}, -1, 1);
    const Expr xd = dtype == DType::f32 ? g.constant(converted(x.value(), DType::f32)) : x;
    const Expr wd = dtype == DType::f32 ? g.constant(converted(w.value(), DType::f32)) : w;
    const Expr bd = dtype == DType::f32 ? g.constant(converted(b.value(), DType::f32)) : b;
    const Tensor y = g.run(conv2d(xd, wd, bd, c.options));
    const TensorView bv = b.value();
    const Tensor expected = direct_conv2d(x.value(), w.value(), &bv, c.options, y.shape());
    const double tolerance = dtype == DType::f32 ? 1e-4 : 1e-12;
    for (std::int64_t i = 0; i < y.numel(); ++i)
      ASSERT_NEAR(y.at(i), expected.at(i), tolerance) << c.x.to_string() << " element " << i;
  }
}

INSTANTIATE_TEST_SUITE_P(BothDTypes, Conv2dAgainstDirectLoop,
                         ::testing::Values(DType::f32, DType::f64));

std::string message_of(const std::function<void()>& f) {
  try {
    f();
  } catch (const Error& e) {
    return e.what();
  }
  return "(no error)";
}

TEST(Conv2d, ChannelMismatchNamesTheNodeShapesAndLayout) {
  Graph g;
  const Expr x = g.input("images", Shape{2, 3, 5, 5}, DType::f32);
  const Expr w = g.parameter("w", Tensor::zeros(Shape{4, 2, 3, 3}, DType::f32));
  const std::string m = message_of([&] { g.set_name(conv2d(x, w), "conv"); });
  EXPECT_NE(m.find("op conv2d"), std::string::npos) << m;
  EXPECT_NE(m.find("[2, 3, 5, 5]"), std::string::npos) << m;
  EXPECT_NE(m.find("[4, 2, 3, 3]"), std::string::npos) << m;
  EXPECT_NE(m.find("[out, in / groups, kh, kw]"), std::string::npos) << m;
}

TEST(Conv2d, KernelLargerThanThePaddedImageThrows) {
  Graph g;
  const Expr x = g.input("x", Shape{1, 1, 3, 3});
  const Expr w = g.parameter("w", Tensor::zeros(Shape{1, 1, 5, 5}));
  const std::string m = message_of([&] { conv2d(x, w, {.padding = {0, 0}}); });
  EXPECT_NE(m.find("does not fit the padded image"), std::string::npos) << m;
  EXPECT_NO_THROW(conv2d(x, w, {.padding = {1, 1}}));
}

TEST(Conv2d, BadBiasAndGeometryAreRejected) {
  Graph g;
  const Expr x = g.input("x", Shape{1, 2, 4, 4});
  const Expr w = g.parameter("w", Tensor::zeros(Shape{3, 2, 3, 3}));
  const Expr b = g.parameter("b", Tensor::zeros(Shape{2}));
  EXPECT_NE(message_of([&] { conv2d(x, w, b); }).find("one value per output channel"),
            std::string::npos);
  EXPECT_NE(message_of([&] {
              conv2d(x, w, {.stride = {0, 1}});
            }).find("at least 1"),
            std::string::npos);
  EXPECT_NE(message_of([&] { conv2d(x, w, {.groups = 2}); }).find("groups 2"), std::string::npos);
  EXPECT_THROW(conv2d(g.input("v", Shape{2, 4, 4}), w), Error);
}

TEST(Conv2d, GradientOpsRejectAnOutputGradientOfTheWrongShape) {
  Graph g;
  const Expr grad = g.input("g", Shape{1, 3, 4, 4});
  const Expr w = g.parameter("w", Tensor::zeros(Shape{3, 2, 3, 3}));
  const Expr x = g.input("x", Shape{1, 2, 4, 4});
  EXPECT_NE(message_of([&] {
              conv2d_input_grad(grad, w, {4, 4});
            }).find("pass the gradient of that convolution's output"),
            std::string::npos);
  EXPECT_NO_THROW(conv2d_input_grad(grad, w, {4, 4}, {.padding = {1, 1}}));
  EXPECT_THROW(conv2d_weight_grad(x, grad, {3, 3}), Error);
  EXPECT_NO_THROW(conv2d_weight_grad(x, grad, {3, 3}, {.padding = {1, 1}}));
}

// d/dx of |dL/dw|^2: the gradient rules of conv2d_weight_grad against central differences.
TEST(Conv2d, SecondOrderGradientMatchesFiniteDifferences) {
  Graph g;
  const Expr x = random_parameter(g, "x", Shape{2, 2, 5, 5}, -1, 1);
  const Expr w = random_parameter(g, "w", Shape{3, 2, 3, 3}, -1, 1);
  const Expr y = conv2d(x, w, {.stride = {2, 2}, .padding = {1, 1}});
  const Expr loss = sum(y * y * y);
  const std::vector<Expr> first = grad(loss, {x, w});
  const Expr second = sum(first[0] * first[0]) + sum(first[1] * first[1]);
  const GradcheckResult result = gradcheck(second, {x, w});
  EXPECT_TRUE(result.ok) << result.report();
}

TEST(Conv2d, LargeInputsStayFinite) {
  Graph g;
  const Expr x = random_parameter(g, "x", Shape{1, 2, 6, 6}, -800, 800);
  const Expr w = random_parameter(g, "w", Shape{2, 2, 3, 3}, -1, 1);
  const Expr y = conv2d(x, w, {.padding = {1, 1}});
  const std::vector<Expr> d = grad(sum(y), {x, w});
  for (const Tensor& t : g.run({y, d[0], d[1]})) {
    for (std::int64_t i = 0; i < t.numel(); ++i) ASSERT_TRUE(std::isfinite(t.at(i)));
  }
}

// The geometry travels in the graph file's "ints": a loaded graph computes the same bits.
TEST(Conv2d, GeometrySurvivesAGraphFileRoundTrip) {
  Graph original;
  const Expr x = random_parameter(original, "x", Shape{2, 2, 7, 7}, -1, 1);
  const Expr w = random_parameter(original, "w", Shape{4, 1, 3, 3}, -1, 1);
  const Expr y = max_pool2d(conv2d(x, w, {.stride = {2, 1}, .padding = {1, 2}, .groups = 2}),
                            {.kernel = {3, 2}, .stride = {1, 2}, .padding = {1, 1}});
  const Expr z = avg_pool2d(y, {.kernel = {2, 2}, .stride = {1, 1}});
  const Expr loss = original.set_name(sum(z * z), "loss");
  original.set_name(grad(loss, w), "dw");
  const Tensor expected = original.run(original.find("dw"));
  LoadedGraph loaded = read_graph(write_graph(original));
  EXPECT_TRUE(bitwise_equal(loaded.graph->run(loaded.graph->find("dw")), expected));
}

// OpenBLAS's kernels and the im2col copies keep subnormal floats: nothing sets flush-to-zero.
TEST(Conv2d, SubnormalFloatsAreNotFlushedToZero) {
  Graph g;
  const float tiny = 1e-40F;  // subnormal in float32
  ASSERT_EQ(std::fpclassify(tiny), FP_SUBNORMAL);
  const Expr x = g.parameter("x", Tensor::full(Shape{1, 1, 3, 3}, tiny, DType::f32));
  const Expr w = g.parameter("w", Tensor::full(Shape{1, 1, 1, 1}, 0.5, DType::f32));
  const Expr y = conv2d(x, w);
  const Tensor value = g.run(y);
  EXPECT_EQ(std::fpclassify(value.data<float>()[4]), FP_SUBNORMAL);
  const Tensor dw = g.run(grad(sum(conv2d(x, w, {.padding = {1, 1}})), w));
  EXPECT_NE(dw.data<float>()[0], 0.0F);
}

}  // namespace
}  // namespace dagprop
