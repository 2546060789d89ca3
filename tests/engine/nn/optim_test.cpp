// Optimizers: one or two steps against updates computed by hand; schedules; bad settings.
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <cmath>
#include <numbers>

#include <dagprop/dagprop.hpp>
#include <dagprop/nn/optim.hpp>
#include <dagprop/nn/schedule.hpp>

namespace dagprop::nn {
namespace {

// w = [1, -2] (float64) under the linear loss sum(w * [0.5, -1]): the gradient is [0.5, -1] at
// every step, so each expected value below follows from the update rule with pen and paper.
struct LinearProblem {
  Graph g;
  Expr w = g.parameter("w", Tensor::from(std::vector<double>{1.0, -2.0}, Shape{2}));
  Expr loss = sum(w * g.constant(Tensor::from(std::vector<double>{0.5, -1.0}, Shape{2})));

  // One backward() and one optimizer step; returns w.
  std::vector<double> step(Optimizer& optimizer) {
    g.backward(loss);
    optimizer.step();
    return w.value().to_vector();
  }
};

TEST(Sgd, MomentumAndWeightDecayMatchTwoHandComputedSteps) {
  LinearProblem p;
  Sgd sgd({p.w}, {.learning_rate = 0.1, .momentum = 0.9, .weight_decay = 0.01});
  // Step 1: g = [0.5 + 0.01, -1 - 0.02] = [0.51, -1.02]; v = g; w = w - 0.1 v = [0.949, -1.898].
  const std::vector<double> w1 = p.step(sgd);
  EXPECT_NEAR(w1[0], 0.949, 1e-14);
  EXPECT_NEAR(w1[1], -1.898, 1e-14);
  // Step 2: g = [0.5 + 0.00949, -1 - 0.01898]; v = 0.9 [0.51, -1.02] + g = [0.96849, -1.93698];
  // w = [0.949 - 0.096849, -1.898 + 0.193698].
  const std::vector<double> w2 = p.step(sgd);
  EXPECT_NEAR(w2[0], 0.852151, 1e-14);
  EXPECT_NEAR(w2[1], -1.704302, 1e-14);
}

TEST(Sgd, UpdatesFloat32ParametersInPlace) {
  Graph g;
  Expr w = g.parameter("w", Tensor::from(std::vector<float>{2.0F}, Shape{1}));
  Expr loss = sum(w * w);  // gradient 2w = 4
  const void* storage = w.value().raw();
  Sgd sgd({w}, {.learning_rate = 0.25});
  g.backward(loss);
  sgd.step();
  EXPECT_EQ(w.value().at(0), 1.0);  // 2 - 0.25 * 4
  EXPECT_EQ(w.value().raw(), storage);
}

TEST(Adam, FirstStepWithL2WeightDecayMatchesTheHandComputedUpdate) {
  LinearProblem p;
  Adam adam({p.w}, {.learning_rate = 0.1, .weight_decay = 0.1});
  // g = [0.5 + 0.1, -1 - 0.2] = [0.6, -1.2]. After one step the bias-corrected moments are g and
  // g^2, so w -= 0.1 g / (|g| + 1e-8): 0.1 * 0.6 / 0.60000001 = 0.1 - 1.6666666e-9.
  const std::vector<double> w = p.step(adam);
  EXPECT_NEAR(w[0], 0.9 + 1.6666666389e-9, 1e-14);
  EXPECT_NEAR(w[1], -1.9 - 8.333333264e-10, 1e-14);
}

TEST(Adam, SecondStepUsesBiasCorrectedMoments) {
  // loss = w^2 / 2, gradient w. Step 1 from w = 1: m = 0.1, v = 0.001, w = 1 - 0.1 / (1 + 1e-8).
  // Step 2, g = w1: m = 0.09 + 0.1 g, v = 0.000999 + 0.001 g^2;
  // w2 = w1 - 0.1 (m / 0.19) / (sqrt(v / 0.001999) + 1e-8).
  Graph g;
  Expr w = g.parameter("w", 1.0);
  Expr loss = w * w * 0.5;
  Adam adam({w}, {.learning_rate = 0.1});
  g.backward(loss);
  adam.step();
  const double w1 = 1.0 - 0.1 / (1.0 + 1e-8);
  EXPECT_NEAR(w.item(), w1, 1e-14);
  g.backward(loss);
  adam.step();
  const double m = 0.09 + 0.1 * w1, v = 0.000999 + 0.001 * w1 * w1;
  EXPECT_NEAR(w.item(), w1 - 0.1 * (m / 0.19) / (std::sqrt(v / 0.001999) + 1e-8), 1e-14);
}

TEST(AdamW, DecaysTheWeightOutsideTheAdaptiveStep) {
  LinearProblem p;
  AdamW adamw({p.w}, {.learning_rate = 0.1, .weight_decay = 0.1});
  // w = (1 - 0.1 * 0.1) w - 0.1 g / (|g| + 1e-8) with g = [0.5, -1]:
  // [0.99 - (0.1 - 2e-9), -1.98 + (0.1 - 1e-9)].
  const std::vector<double> w = p.step(adamw);
  EXPECT_NEAR(w[0], 0.89 + 1.99999996e-9, 1e-14);
  EXPECT_NEAR(w[1], -1.88 - 9.9999999e-10, 1e-14);
}

TEST(Optimizer, RejectsNodesThatAreNotParameters) {
  Graph g;
  Expr x = g.input("x", Shape{});
  Expr w = g.parameter("w", 1.0);
  try {
    Sgd({w, x * w}, {});
    FAIL() << "expected an error";
  } catch (const Error& e) {
    EXPECT_THAT(e.what(), ::testing::HasSubstr("which is not a parameter"));
  }
}

TEST(Optimizer, RejectsBadSettingsAndNamesTheValidOptimizers) {
  Graph g;
  Expr w = g.parameter("w", 1.0);
  EXPECT_THROW(Sgd({w}, {.learning_rate = -1}), Error);
  EXPECT_THROW(Sgd({w}, {.momentum = 1.0}), Error);
  EXPECT_THROW(Adam({w}, {.beta2 = 1.5}), Error);
  try {
    make_optimizer("adagrad", {w}, {});
    FAIL() << "expected an error";
  } catch (const Error& e) {
    EXPECT_STREQ(e.what(), "no optimizer is called 'adagrad'; valid names: sgd, adam, adamw");
  }
}

TEST(Optimizer, StepWithoutBackwardSaysWhatToDo) {
  Graph g;
  Expr w = g.parameter("w", 1.0);
  Sgd sgd({w}, {});
  EXPECT_THAT([&] { sgd.step(); },
              ::testing::ThrowsMessage<Error>(::testing::HasSubstr("call graph.backward(loss)")));
}

TEST(LrSchedule, StepDividesEveryStepEpochs) {
  const LrSchedule s = LrSchedule::step(1.0, 2, 0.5);
  EXPECT_EQ(s.at(0), 1.0);
  EXPECT_EQ(s.at(1), 1.0);
  EXPECT_EQ(s.at(2), 0.5);
  EXPECT_EQ(s.at(5), 0.25);
}

TEST(LrSchedule, CosineFallsFromBaseToMinimum) {
  const LrSchedule s = LrSchedule::cosine(1.0, 4, 0.0);
  EXPECT_EQ(s.at(0), 1.0);
  EXPECT_NEAR(s.at(2), 0.5, 1e-14);
  EXPECT_NEAR(s.at(3), 0.5 * (1 + std::cos(0.75 * std::numbers::pi)), 1e-14);
  EXPECT_GT(s.at(4), 0.0);
  EXPECT_LT(s.at(4), 1e-5);
}

TEST(LrSchedule, UnknownNameListsTheValidOnes) {
  EXPECT_THAT([] { make_schedule("linear", {}); },
              ::testing::ThrowsMessage<Error>(::testing::HasSubstr("constant, step, cosine")));
}

}  // namespace
}  // namespace dagprop::nn
