// Layers: shapes, names, the seed's neuron as a Dense layer, and the initializers' statistics.
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <cmath>

#include <dagprop/dagprop.hpp>
#include <dagprop/nn/layers.hpp>
#include <dagprop/nn/metrics.hpp>

namespace dagprop::nn {
namespace {

struct Moments {
  double mean, variance, max_abs;
};

Moments moments_of(const Tensor& t) {
  double sum = 0, sum_sq = 0, max_abs = 0;
  for (std::int64_t i = 0; i < t.numel(); ++i) {
    sum += t.at(i);
    sum_sq += t.at(i) * t.at(i);
    max_abs = std::max(max_abs, std::abs(t.at(i)));
  }
  const double n = static_cast<double>(t.numel());
  return {sum / n, sum_sq / n - (sum / n) * (sum / n), max_abs};
}

TEST(Initializers, GlorotUniformHasVarianceTwoOverFanInPlusFanOutWithinItsLimit) {
  SplitMix64 random(1);
  const Moments m = moments_of(initialize(Init::glorot_uniform, 400, 600, random));
  EXPECT_NEAR(m.mean, 0.0, 0.001);
  EXPECT_NEAR(m.variance, 2.0 / 1000, 0.02 * 2.0 / 1000);
  EXPECT_LE(m.max_abs, std::sqrt(6.0 / 1000));
}

TEST(Initializers, HeNormalHasVarianceTwoOverFanIn) {
  SplitMix64 random(2);
  const Moments m = moments_of(initialize(Init::he_normal, 500, 300, random, DType::f64));
  EXPECT_NEAR(m.mean, 0.0, 0.001);
  EXPECT_NEAR(m.variance, 2.0 / 500, 0.02 * 2.0 / 500);
}

TEST(Initializers, GlorotNormalAndHeUniformMatchTheirVariances) {
  SplitMix64 random(3);
  EXPECT_NEAR(moments_of(initialize(Init::glorot_normal, 300, 300, random)).variance, 2.0 / 600,
              0.03 * 2.0 / 600);
  EXPECT_NEAR(moments_of(initialize(Init::he_uniform, 300, 300, random)).variance, 2.0 / 300,
              0.03 * 2.0 / 300);
}

TEST(Initializers, UnknownNameListsTheValidOnes) {
  EXPECT_THAT([] { init_by_name("xavier"); },
              ::testing::ThrowsMessage<Error>(::testing::HasSubstr(
                  "valid names: glorot_uniform, glorot_normal, he_uniform, he_normal, zeros")));
}

TEST(Linear, BuildsNamedParametersAndBatchOutputs) {
  Graph g;
  SplitMix64 random(1);
  const Linear layer(g, "layer1", 3, 5, Init::glorot_uniform, random);
  EXPECT_EQ(layer.weight().name(), "layer1/W");
  EXPECT_EQ(layer.weight().shape(), (Shape{3, 5}));
  EXPECT_EQ(layer.bias().name(), "layer1/b");
  EXPECT_EQ(moments_of(Tensor(layer.bias().value())).max_abs, 0.0);
  const Expr y = layer(g.input("x", Shape{7, 3}, DType::f32));
  EXPECT_EQ(y.shape(), (Shape{7, 5}));
  EXPECT_EQ(y.name(), "layer1/z");
}

TEST(Linear, RejectsAnInputOfTheWrongWidth) {
  Graph g;
  SplitMix64 random(1);
  const Linear layer(g, "layer1", 3, 5, Init::glorot_uniform, random);
  EXPECT_THAT(
      [&] {
        layer(g.input("x", Shape{7, 4}, DType::f32));
      },
      ::testing::ThrowsMessage<Error>(
          ::testing::HasSubstr("layer 'layer1' takes inputs [batch, 3]")));
}

TEST(Dense, IsTheSeedNeuronOnABatch) {
  // relu(matmul(x, W) + b) with the seed's x = (0.5, 0.6), w = (0.1, 0.2), b = 0.3: 0.47.
  Graph g;
  SplitMix64 random(1);
  const Dense layer(g, "neuron", 2, 1, activation_by_name("relu"), random, DType::f64);
  g.set_value(layer.linear().weight(), Tensor::from(std::vector<double>{0.1, 0.2}, Shape{2, 1}));
  g.set_value(layer.linear().bias(), Tensor::from(std::vector<double>{0.3}, Shape{1}));
  const Expr x = g.input("x", Shape{2, 2});
  const DenseNodes nodes = layer.apply(x);
  const Tensor batch = Tensor::from(std::vector<double>{0.5, 0.6, -5.0, 0.0}, Shape{2, 2});
  const auto values = g.run({nodes.pre_activation, nodes.output}, {{x, batch}});
  EXPECT_DOUBLE_EQ(values[1].at(0), 0.47);
  EXPECT_DOUBLE_EQ(values[0].at(1), -0.2);  // 0.1 * -5 + 0.3
  EXPECT_EQ(values[1].at(1), 0.0);
}

TEST(Mlp, StacksDenseLayersAndEndsWithLogits) {
  Graph g;
  SplitMix64 random(1);
  const Mlp mlp(g, {.sizes = {784, 256, 128, 10}, .activation = "tanh"}, random);
  ASSERT_EQ(mlp.parameters().size(), 6U);
  EXPECT_EQ(mlp.parameters()[4].name(), "layer3/W");
  EXPECT_EQ(mlp.parameters()[4].shape(), (Shape{128, 10}));
  const MlpNodes nodes = mlp.apply(g.input("x", Shape{32, 784}, DType::f32));
  EXPECT_EQ(nodes.output.shape(), (Shape{32, 10}));
  ASSERT_EQ(nodes.hidden.size(), 2U);
  EXPECT_EQ(nodes.hidden[1].output.op_name(), "tanh");
  EXPECT_EQ(nodes.output.op_name(), "add");  // no activation on the logits
}

TEST(Mlp, UsesTheActivationsInitializerAndTheSameSeedGivesTheSameWeights) {
  Graph g, other;
  SplitMix64 a(9), b(9);
  const Mlp relu_net(g, {.sizes = {1000, 200, 10}, .activation = "relu"}, a);
  const Mlp same(other, {.sizes = {1000, 200, 10}, .activation = "relu"}, b);
  EXPECT_TRUE(bitwise_equal(relu_net.weights()[0].value(), same.weights()[0].value()));
  // He: variance 2 / 1000.
  EXPECT_NEAR(moments_of(Tensor(relu_net.weights()[0].value())).variance, 0.002, 0.0001);
}

TEST(Mlp, UnknownActivationListsTheValidOnes) {
  Graph g;
  SplitMix64 random(1);
  try {
    Mlp(g, {.sizes = {2, 2}, .activation = "rectifier"}, random);
    FAIL() << "expected an error";
  } catch (const Error& e) {
    EXPECT_STREQ(e.what(),
                 "no activation is called 'rectifier'; valid names: step_ste, sigmoid, tanh, "
                 "relu, leaky_relu, elu, gelu, silu, softplus");
  }
}

TEST(Mlp, EveryActivationBuildsAndRuns) {
  for (const Activation& activation : activations()) {
    Graph g;
    SplitMix64 random(1);
    const Mlp mlp(g, {.sizes = {3, 4, 2}, .activation = std::string(activation.name)}, random);
    const Expr x = g.input("x", Shape{2, 3}, DType::f32);
    const Tensor batch = Tensor::from(std::vector<float>{1, -1, 0.5F, 0, 2, -3}, Shape{2, 3});
    EXPECT_EQ(g.run(mlp(x), {{x, batch}}).shape(), (Shape{2, 2})) << activation.name;
  }
}

TEST(Accuracy, CountsRowsWhoseLargestLogitIsTheLabelFirstOnTies) {
  const Tensor logits =
      Tensor::from(std::vector<double>{0.1, 0.9, 2.0, -1.0, 0.5, 0.5}, Shape{3, 2});
  const Tensor labels = Tensor::from(std::vector<double>{1.0, 0.0, 1.0}, Shape{3});
  EXPECT_EQ(count_correct(logits, labels), 2);
  EXPECT_DOUBLE_EQ(accuracy(logits, labels), 2.0 / 3.0);
}

}  // namespace
}  // namespace dagprop::nn
