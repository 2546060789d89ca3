// Models from a line of text: the layers, shapes and parameter counts they give, training and
// evaluation forms, gradients, and the messages for specs that do not fit.
#include <gtest/gtest.h>

#include <string>

#include <dagprop/dagprop.hpp>
#include <dagprop/gradcheck.hpp>
#include <dagprop/nn/sequential.hpp>

#include "engine/test_graphs.hpp"

namespace dagprop::nn {
namespace {

constexpr const char* kCnn =
    "conv 32 5 pad 2, relu, maxpool 2, conv 64 5 pad 2, relu, maxpool 2, flatten, dense 128, "
    "relu, dropout 0.25, dense 10";

using dagprop::testing::error_message;

TEST(Sequential, TheIssuesCnnHasPyTorchsShapesAndParameterCount) {
  Graph g;
  SplitMix64 random(1);
  const Sequential model(g, kCnn, {1, 28, 28}, random);
  EXPECT_EQ(model.output_shape(), (std::vector<std::int64_t>{10}));
  // As torch.nn counts them: conv 32*1*25+32, conv 64*32*25+64, dense 3136*128+128, 128*10+10.
  EXPECT_EQ(model.parameter_count(), 832 + 51264 + 401536 + 1290);
  EXPECT_EQ(model.parameters().size(), 8u);
  EXPECT_EQ(model.weights().size(), 4u);
  EXPECT_NE(model.summary().find("3. maxpool 2 -> [32, 14, 14]"), std::string::npos)
      << model.summary();
  EXPECT_NE(model.summary().find("7. flatten -> [3136]"), std::string::npos) << model.summary();
  // The graph holds the parameters (and dropout's step) only: shapes came from a scratch graph.
  EXPECT_EQ(g.full_name_of(model.parameters()[0].id()), "conv1/W");
  EXPECT_EQ(g.full_name_of(model.parameters()[6].id()), "dense2/W");
  EXPECT_LE(g.size(), 10u);
}

TEST(Sequential, AppliedToABatchItTrainsAndEvaluatesWithTheSameParameters) {
  Graph g;
  SplitMix64 random(2);
  Sequential model(g, "conv 4 3 pad 1, batchnorm, relu, maxpool 2, flatten, dropout 0.5, dense 3",
                   {1, 6, 6}, random);
  const Expr x = g.input("x", Shape{5, 1, 6, 6}, DType::f32);
  const Expr labels = g.input("labels", Shape{5}, DType::f32);
  const Expr train = cross_entropy(model.apply(x, Mode::train), labels);
  const Expr eval_logits = model.apply(x, Mode::eval);
  Tensor images(Shape{5, 1, 6, 6}, DType::f32);
  for (std::int64_t i = 0; i < images.numel(); ++i) images.set(i, std::sin(0.37 * i));
  const Tensor label_values = Tensor::from(std::vector<float>{0, 1, 2, 1, 0}, Shape{5});
  std::vector<Expr> keep = model.batch_statistics();
  ASSERT_EQ(keep.size(), 1u);
  g.backward(train, {{x, images}, {labels, label_values}}, {.keep = keep});
  for (const Expr& p : model.parameters()) EXPECT_TRUE(g.has_grad(p)) << g.describe(p.id());
  // Right after the training run, which left the batch statistics readable.
  model.end_training_step();
  // Evaluation: no dropout, the running statistics; the same twice.
  const Tensor a = g.run(eval_logits, {{x, images}});
  const Tensor b = g.run(eval_logits, {{x, images}});
  EXPECT_EQ(a.shape(), (Shape{5, 3}));
  for (std::int64_t i = 0; i < a.numel(); ++i) EXPECT_EQ(a.at(i), b.at(i));
}

TEST(Sequential, GradientsMatchFiniteDifferencesInFloat64) {
  Graph g;
  SplitMix64 random(3);
  const Sequential model(g, "conv 2 3, tanh, avgpool 2, flatten, dense 4, sigmoid, dense 2",
                         {1, 6, 6}, random, DType::f64);
  const Expr x = g.input("x", Shape{2, 1, 6, 6});
  Tensor images(Shape{2, 1, 6, 6}, DType::f64);
  for (std::int64_t i = 0; i < images.numel(); ++i) images.set(i, std::cos(0.21 * i));
  const Expr y = sum(model.apply(x, Mode::eval) * model.apply(x, Mode::eval));
  const GradcheckResult result = gradcheck(y, model.parameters(), {{x, images}});
  EXPECT_TRUE(result.ok) << result.report();
  EXPECT_GT(result.elements_checked, 50);
}

TEST(Sequential, ASpecThatDoesNotFitNamesTheLayerAndSaysWhatToDo) {
  const auto build = [](const std::string& spec, std::vector<std::int64_t> shape) {
    return error_message([&] {
      Graph g;
      SplitMix64 random(4);
      const Sequential model(g, spec, shape, random);
    });
  };
  EXPECT_NE(build("conv 8 3, relu, dense 10", {1, 28, 28})
                .find("layer 3 'dense 10': takes features [batch, features], but its input is "
                      "[1, 8, 26, 26] (batch first); put 'flatten' before it"),
            std::string::npos);
  EXPECT_NE(build("conv 8 3, relu, pool 2", {1, 28, 28})
                .find("layer 3 'pool 2': unknown layer kind 'pool'; the kinds are conv, maxpool"),
            std::string::npos);
  EXPECT_NE(build("conv 8, relu", {1, 28, 28}).find("layer 1 'conv 8': 'conv' needs 2 number(s)"),
            std::string::npos);
  EXPECT_NE(build("conv 8 3 pad x", {1, 28, 28})
                .find("layer 1 'conv 8 3 pad x': pad should be a number, got 'x'"),
            std::string::npos);
  EXPECT_NE(build("dense 10 relu", {784}).find("layer 1 'dense 10 relu': unexpected 'relu'"),
            std::string::npos);
  EXPECT_NE(build("dense 10,, dense 2", {784}).find("has an empty layer at position 2"),
            std::string::npos);
  EXPECT_NE(build("dropout 1.5", {784}).find("layer 1 'dropout 1.5': P should be in [0, 1)"),
            std::string::npos);
  // The op's own shape rule speaks when a kernel is larger than the image.
  const std::string too_large = build("conv 4 9", {1, 5, 5});
  EXPECT_NE(too_large.find("layer 1 'conv 4 9': does not fit its input [1, 1, 5, 5]: "),
            std::string::npos)
      << too_large;
  EXPECT_EQ(build("conv 4 3", {1, 5, 5}), "no error");
}

TEST(Sequential, FeedingAnotherExampleShapeIsRefused) {
  Graph g;
  SplitMix64 random(5);
  const Sequential model(g, "flatten, dense 3", {1, 4, 4}, random);
  const Expr x = g.input("x", Shape{2, 1, 5, 5}, DType::f32);
  EXPECT_NE(error_message([&] {
              (void)model.apply(x, Mode::train);
            }).find("the model takes [batch, 1, 4, 4], got"),
            std::string::npos);
}

}  // namespace
}  // namespace dagprop::nn
