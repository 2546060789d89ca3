// Training end to end on generated data: it learns and it is reproducible to the bit.
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

TEST(Trainer, RejectsABatchLargerThanTheTrainingSet) {
  const Moons data;
  TrainOptions o = small_options();
  o.batch_size = 1000;
  EXPECT_THAT([&] { Trainer(data.train, data.test, o); },
              ::testing::ThrowsMessage<Error>(::testing::HasSubstr("batch size 1000 for 800")));
}

}  // namespace
}  // namespace dagprop::nn
