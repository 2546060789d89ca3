// BatchNorm, LayerNorm, Dropout and Embedding layers: parameters, the training and evaluation
// forms, running statistics and the dropout step counter.
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <dagprop/dagprop.hpp>

namespace dagprop::nn {
namespace {

using ::testing::HasSubstr;

Tensor random_batch(Shape shape, std::uint64_t seed, double offset) {
  SplitMix64 random(seed);
  Tensor t(shape, DType::f32);
  for (std::int64_t i = 0; i < t.numel(); ++i) t.set(i, offset + 2 * random.uniform() - 1);
  return t;
}

TEST(BatchNormLayer, TrainingUsesBatchStatisticsAndEvaluationTheRunningOnes) {
  Graph g;
  BatchNorm2d bn(g, "bn1", 3, DType::f32, 0.5);
  EXPECT_EQ(bn.gamma().name(), "bn1/gamma");
  EXPECT_EQ(bn.running_moments().name(), "bn1/running_moments");
  EXPECT_EQ(g.parameters().size(), 2U);  // the running moments are not optimized
  const Expr x = g.input("x", Shape{4, 3, 2, 2}, DType::f32);
  const Expr train = bn.apply(x, Mode::train);
  const Expr eval = bn.apply(x, Mode::eval);
  const Tensor batch = random_batch(Shape{4, 3, 2, 2}, 1, 5.0);
  // Fresh running moments (mean 0, variance 1): evaluation is gamma x + beta = x.
  const auto out = g.run({train, eval}, {{x, batch}});
  EXPECT_NEAR(out[1].at(7), batch.at(7), 1e-4);  // x / sqrt(1 + eps)
  // After one update with momentum 0.5 the running mean is half the batch mean (about 2.5).
  g.run({bn.batch_statistics()}, {{x, batch}});
  bn.update_running_statistics();
  const TensorView running = bn.running_moments().value();
  for (int c = 0; c < 3; ++c) {
    EXPECT_NEAR(running.at(c), 2.5, 0.3);
    EXPECT_GT(running.at(3 + c), 0.5 * 1.0);  // half the old 1 plus half the (unbiased) variance
  }
  // The evaluation subgraph reads the updated constant.
  const Tensor after = g.run(eval, {{x, batch}});
  EXPECT_LT(std::abs(after.at(0)), std::abs(batch.at(0)));
}

TEST(BatchNormLayer, UpdateWithoutTheBatchStatisticsIsAClearError) {
  Graph g;
  BatchNorm1d bn(g, "bn", 2);
  EXPECT_THAT([&] { bn.update_running_statistics(); },
              ::testing::ThrowsMessage<Error>(HasSubstr("apply the layer in Mode::train first")));
  const Expr x = g.input("x", Shape{5, 2}, DType::f32);
  const Expr y = bn(x);
  g.run(sum(y), {{x, random_batch(Shape{5, 2}, 2, 0)}});
  EXPECT_THAT([&] { bn.update_running_statistics(); },
              ::testing::ThrowsMessage<Error>(HasSubstr("keep batch_statistics()")));
  EXPECT_THAT(
      [&] {
        bn(g.input("bad", Shape{5, 3}, DType::f32));
      },
      ::testing::ThrowsMessage<Error>(HasSubstr("BatchNorm 'bn' takes inputs [batch, 2")));
}

TEST(LayerNormLayer, NormalizesTheLastAxis) {
  Graph g;
  const LayerNorm ln(g, "ln", 4);
  const Expr x = g.input("x", Shape{2, 4}, DType::f32);
  const Tensor y = g.run(ln(x), {{x, random_batch(Shape{2, 4}, 3, 100)}});
  double mean = 0;
  for (int i = 0; i < 4; ++i) mean += y.at(i) / 4;
  EXPECT_NEAR(mean, 0, 1e-5);
  EXPECT_EQ(ln.gamma().name(), "ln/gamma");
}

TEST(DropoutLayer, EvaluationIsTheIdentityAndAdvanceChangesTheMask) {
  Graph g;
  SplitMix64 random(4);
  Dropout drop(g, "drop", 0.5, random);
  const Expr x = g.input("x", Shape{64}, DType::f32);
  EXPECT_EQ(drop.apply(x, Mode::eval), x);
  const Expr y = drop.apply(x, Mode::train);
  const Tensor ones = Tensor::full(Shape{64}, 1.0, DType::f32);
  const Tensor first = g.run(y, {{x, ones}});
  EXPECT_TRUE(bitwise_equal(first, g.run(y, {{x, ones}})));
  drop.advance();
  EXPECT_EQ(drop.step().value().item(), 1.0);
  EXPECT_FALSE(bitwise_equal(first, g.run(y, {{x, ones}})));
  EXPECT_THAT([&] { Dropout(g, "bad", 1.0, random); },
              ::testing::ThrowsMessage<Error>(HasSubstr("outside [0, 1)")));
}

TEST(EmbeddingLayer, LooksUpRowsOfItsTable) {
  Graph g;
  SplitMix64 random(5);
  const Embedding emb(g, "emb", 10, 3, random, DType::f64);
  const Expr ids = g.input("ids", Shape{2, 2});
  const Tensor y = g.run(emb(ids), {{ids, Tensor::from({9, 0, 9, 1}, Shape{2, 2})}});
  EXPECT_EQ(y.shape(), (Shape{2, 2, 3}));
  const TensorView table = emb.weight().value();
  EXPECT_EQ(y.at(0), table.at(27));
  EXPECT_EQ(y.at(6), table.at(27));
  EXPECT_EQ(y.at(9), table.at(3));
}

}  // namespace
}  // namespace dagprop::nn
