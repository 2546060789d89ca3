// Export then import: the model read back computes the same values and gradients, bit for bit,
// and the written files pass onnx.checker (tests/onnx/check_exported.py reads them afterwards).
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <filesystem>
#include <functional>

#include <dagprop/dagprop.hpp>
#include <dagprop/onnx.hpp>

namespace dagprop {
namespace {

Tensor filled(Shape shape, DType dtype, std::uint64_t seed, double scale = 1.0) {
  Tensor t(shape, dtype);
  SplitMix64 rng(seed);
  for (std::int64_t i = 0; i < t.numel(); ++i) t.set(i, (rng.uniform() * 2 - 1) * scale);
  return t;
}

struct Built {
  std::vector<Expr> inputs;
  std::vector<Tensor> feeds;
  Expr output;
};

// The written file, the dagprop model it came from, and the model read back must agree exactly.
void expect_round_trip(const std::string& name, const std::function<Built(Graph&)>& build) {
  SCOPED_TRACE(name);
  Graph original;
  const Built b = build(original);
  const std::string bytes =
      write_onnx(original, {b.output}, {.graph_name = name, .output_names = {"y"}});
  std::filesystem::create_directories(DAGPROP_ONNX_EXPORT_DIR);
  save_onnx(original, {b.output}, std::string(DAGPROP_ONNX_EXPORT_DIR) + "/" + name + ".onnx",
            {.graph_name = name, .output_names = {"y"}});

  OnnxModel back = read_onnx(bytes);
  ASSERT_EQ(back.inputs.size(), b.inputs.size());
  ASSERT_EQ(back.output_names, std::vector<std::string>{"y"});
  std::vector<Feed> feeds_a, feeds_b;
  for (std::size_t i = 0; i < b.inputs.size(); ++i) {
    feeds_a.push_back({b.inputs[i], b.feeds[i]});
    feeds_b.push_back({back.inputs[i], b.feeds[i]});
    EXPECT_EQ(back.inputs[i].shape(), b.inputs[i].shape());
  }
  const Tensor want = original.run(b.output, feeds_a);
  const Tensor got = back.graph->run(back.outputs[0], feeds_b);
  EXPECT_TRUE(bitwise_equal(got, want)) << "the values differ";

  const Tensor seed = filled(want.shape(), want.dtype(), 99);
  original.backward(b.output, seed, feeds_a);
  back.graph->backward(back.outputs[0], seed, feeds_b);
  const auto params = original.parameters();
  EXPECT_EQ(back.graph->parameters().size(), params.size());
  for (const Expr& p : params) {
    EXPECT_TRUE(bitwise_equal(back.graph->find(p.name()).grad(), p.grad()))
        << "gradient of " << p.name();
  }
}

TEST(OnnxRoundTrip, MlpWithEveryExportedActivationIsBitwiseEqual) {
  for (const DType dtype : {DType::f32, DType::f64}) {
    expect_round_trip(dtype == DType::f32 ? "mlp_f32" : "mlp_f64", [dtype](Graph& g) {
      const Expr x = g.input("x", {4, 6}, dtype);
      const Expr w1 = g.parameter("fc1.weight", filled({6, 8}, dtype, 1));
      const Expr b1 = g.parameter("fc1.bias", filled({8}, dtype, 2));
      const Expr w2 = g.parameter("fc2.weight", filled({5, 8}, dtype, 3));
      Expr h = matmul(x, w1) + b1;
      h = concat(
          {gelu(h), elu(h, 0.5), leaky_relu(h, 0.2), softplus(h), sigmoid(h) * tanh(h), relu(h)},
          1);
      h = slice(h, 1, 0, 48, 6);       // [4, 8]
      h = matmul(h, w2, {.b = true});  // Gemm with transB
      h = scale(h, 0.5) + pow(abs(h), 2.0) - sqrt(exp(neg(h)) + 1.0) / log(abs(h) + 2.0);
      h = transpose(reshape(h, {2, 2, 5}), 0, 2);  // [5, 2, 2]
      h = mean(h, 1, true) + sum(h, 2, true);
      return Built{{x},
                   {filled({4, 6}, dtype, 4)},
                   log_softmax(reshape(h, {5, 4})) + softmax(reshape(h, {5, 4}))};
    });
  }
}

TEST(OnnxRoundTrip, ConvolutionalNetIsBitwiseEqual) {
  expect_round_trip("cnn_f32", [](Graph& g) {
    const DType f = DType::f32;
    const Expr x = g.input("x", {2, 2, 8, 8}, f);
    const Expr w = g.parameter("conv.weight", filled({4, 2, 3, 3}, f, 5));
    const Expr b = g.parameter("conv.bias", filled({4}, f, 6));
    Expr h = relu(conv2d(x, w, b, {.padding = {1, 1}}));
    h = max_pool2d(h, {.kernel = {2, 2}});
    std::vector<float> moments;
    for (int k = 0; k < 8; ++k)
      moments.push_back(k < 4 ? 0.1f * static_cast<float>(k) : 1.0f + 0.2f * static_cast<float>(k));
    h = batch_norm(h, g.constant(Tensor::from(moments, Shape{2, 4}), "bn.moments"),
                   g.parameter("bn.weight", filled({4}, f, 7)),
                   g.parameter("bn.bias", filled({4}, f, 8)));
    const Expr w2 = g.parameter("conv2.weight", filled({6, 2, 3, 3}, f, 9));
    h = conv2d(h, w2, {.stride = {1, 1}, .groups = 2});  // [2, 6, 2, 2]
    const Expr a = flatten(avg_pool2d(h, {.kernel = {2, 2}, .stride = {1, 1}, .padding = {1, 1}}));
    const Expr c = global_avg_pool2d(h);
    return Built{{x}, {filled({2, 2, 8, 8}, f, 10)}, concat({a, c}, 1)};
  });
}

TEST(OnnxRoundTrip, EmbeddingAndLayerNormAreBitwiseEqual) {
  expect_round_trip("embed_f64", [](Graph& g) {
    const Expr ids = g.input("ids", {2, 3});
    const Expr table = g.parameter("embedding.weight", filled({7, 4}, DType::f64, 11));
    const Expr e = embedding(table, ids);  // [2, 3, 4]
    const Expr ln = layer_norm(e, g.parameter("ln.weight", filled({4}, DType::f64, 12)),
                               g.parameter("ln.bias", filled({4}, DType::f64, 13)));
    return Built{{ids}, {Tensor::from({0, 6, 2, 3, 3, 1}, Shape{2, 3})}, ln};
  });
}

TEST(OnnxExport, AnOpWithoutAnOnnxFormIsNamed) {
  Graph g;
  const Expr x = g.input("x", {3});
  const Expr y = step_ste(x);
  try {
    write_onnx(g, {y});
    FAIL() << "exported step_ste";
  } catch (const Error& e) {
    EXPECT_THAT(e.what(), ::testing::AllOf(::testing::HasSubstr("step_ste"),
                                           ::testing::HasSubstr("cannot export"),
                                           ::testing::HasSubstr("the exporter writes add")));
  }
}

}  // namespace
}  // namespace dagprop
