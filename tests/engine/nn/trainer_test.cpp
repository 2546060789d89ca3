// Training end to end on generated data: it learns, it is reproducible to the bit, and its probes
// measure what they claim.
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <dagprop/data/synthetic.hpp>
#include <dagprop/nn/trainer.hpp>

namespace dagprop::nn {
namespace {

struct Moons {
  data::Dataset train = data::make_moons({.samples = 800, .noise = 0.1, .seed = 1});
  data::Dataset test = data::make_moons({.samples = 400, .noise = 0.1, .seed = 2});
};

TrainOptions small_options() {
  TrainOptions o;
  o.hidden = {16, 16};
  o.activation = "tanh";
  o.optimizer = "adam";
  o.optimizer_settings.learning_rate = 0.02;
  o.epochs = 15;
  o.batch_size = 32;
  o.eval_batch_size = 150;  // 400 = 2 * 150 + 100: the remainder is evaluated too
  return o;
}

TEST(Trainer, LearnsTwoMoonsToAtLeast95Percent) {
  const Moons data;
  Trainer trainer(data.train, data.test, small_options());
  const TrainHistory history = trainer.fit();
  ASSERT_EQ(history.epochs.size(), 15U);
  EXPECT_LT(history.epochs.back().train_loss, history.epochs.front().train_loss);
  EXPECT_GE(history.epochs.back().test.accuracy, 0.95);
}

TEST(Trainer, SgdWithMomentumAndACosineScheduleAlsoLearnsTwoMoons) {
  const Moons data;
  TrainOptions o = small_options();
  o.activation = "relu";
  o.optimizer = "sgd";
  o.optimizer_settings = {.learning_rate = 0.1, .momentum = 0.9};
  o.schedule = "cosine";
  Trainer trainer(data.train, data.test, o);
  const TrainHistory history = trainer.fit();
  EXPECT_GE(history.epochs.back().test.accuracy, 0.95);
  EXPECT_LT(history.epochs.back().learning_rate, history.epochs.front().learning_rate);
}

TEST(Trainer, SameSeedGivesBitwiseIdenticalMetrics) {
  const Moons data;
  TrainOptions o = small_options();
  o.epochs = 3;
  o.probe_every = 10;
  auto run = [&] {
    Trainer trainer(data.train, data.test, o);
    return trainer.fit();
  };
  const TrainHistory a = run(), b = run();
  ASSERT_EQ(a.epochs.size(), b.epochs.size());
  for (std::size_t e = 0; e < a.epochs.size(); ++e) {
    EXPECT_EQ(a.epochs[e].train_loss, b.epochs[e].train_loss);
    EXPECT_EQ(a.epochs[e].test.loss, b.epochs[e].test.loss);
    EXPECT_EQ(a.epochs[e].test.accuracy, b.epochs[e].test.accuracy);
  }
  ASSERT_EQ(a.probes.size(), b.probes.size());
  EXPECT_EQ(a.probes.back().gradient_norm, b.probes.back().gradient_norm);

  o.seed = 2;
  const TrainHistory c = run();
  EXPECT_NE(a.epochs.back().train_loss, c.epochs.back().train_loss);
}

TEST(Trainer, EvaluatesEveryExampleOfTheTestSet) {
  const Moons data;
  Trainer trainer(data.train, data.test, small_options());
  const Evaluation e = trainer.evaluate(data.test);
  // Accuracy is a count over all 400 examples, remainder batch included.
  EXPECT_DOUBLE_EQ(e.accuracy * 400, std::round(e.accuracy * 400));
  EXPECT_GT(e.loss, 0.0);
}

TEST(Trainer, ProbesReportGradientNormsPerLayerAndUnitHealth) {
  const Moons data;
  TrainOptions o = small_options();
  o.epochs = 2;
  o.activation = "sigmoid";
  o.probe_every = 5;
  o.probe_examples = 64;
  Trainer sigmoid_trainer(data.train, data.test, o);
  const TrainHistory sigmoid_history = sigmoid_trainer.fit();
  ASSERT_EQ(sigmoid_history.probes.size(), 2U * 25 / 5);
  const ProbeRecord& p = sigmoid_history.probes.front();
  EXPECT_EQ(p.step, 5);
  EXPECT_EQ(p.gradient_norm.size(), 3U);  // two hidden layers and the output layer
  EXPECT_GT(p.gradient_norm[0], 0.0);
  ASSERT_EQ(p.saturated_fraction.size(), 2U);
  EXPECT_GE(p.saturated_fraction[0], 0.0);
  EXPECT_LE(p.saturated_fraction[0], 1.0);

  o.activation = "relu";
  Trainer relu_trainer(data.train, data.test, o);
  const ProbeRecord q = relu_trainer.fit().probes.back();
  EXPECT_TRUE(q.saturated_fraction.empty());  // ReLU does not saturate; its units die
  ASSERT_EQ(q.dead_fraction.size(), 2U);
  EXPECT_LE(q.dead_fraction[1], 1.0);
}

TEST(Trainer, RejectsABatchLargerThanTheTrainingSet) {
  const Moons data;
  TrainOptions o = small_options();
  o.batch_size = 1000;
  EXPECT_THAT([&] { Trainer(data.train, data.test, o); },
              ::testing::ThrowsMessage<Error>(::testing::HasSubstr("batch size 1000 for 800")));
}

}  // namespace
}  // namespace dagprop::nn
