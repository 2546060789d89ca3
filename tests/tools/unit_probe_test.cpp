// The activation study's unit probes (tools/dagprop/unit_probe.hpp): gradient norms per layer and
// unit health, reproducible to the bit, with the ops' own derivatives for saturation.
#include <gtest/gtest.h>

#include <dagprop/activation_formulas.hpp>
#include <dagprop/dagprop.hpp>

#include "unit_probe.hpp"

namespace dagprop::study {
namespace {

struct Moons {
  data::Dataset train = data::make_moons({.samples = 800, .noise = 0.1, .seed = 1});
  data::Dataset test = data::make_moons({.samples = 400, .noise = 0.1, .seed = 2});
};

nn::TrainOptions small_options(const char* activation) {
  nn::TrainOptions o;
  o.hidden = {16, 16};
  o.activation = activation;
  o.optimizer = "adam";
  o.optimizer_settings.learning_rate = 0.02;
  o.epochs = 2;
  o.batch_size = 32;
  return o;
}

std::vector<ProbeRecord> probed(const Moons& data, const char* activation, std::int64_t every) {
  nn::Trainer trainer(data.train, data.test, small_options(activation));
  UnitProbe probe(trainer, data.train, every, 64);
  trainer.fit({.on_step = [&](const nn::StepReport& r) { probe.on_step(r); }});
  return probe.records();
}

TEST(UnitProbe, ReportsGradientNormsPerLayerAndUnitHealth) {
  const Moons data;
  const std::vector<ProbeRecord> sigmoid = probed(data, "sigmoid", 5);
  ASSERT_EQ(sigmoid.size(), 2U * 25 / 5);
  const ProbeRecord& p = sigmoid.front();
  EXPECT_EQ(p.step, 5);
  EXPECT_DOUBLE_EQ(p.epoch, 5.0 / 25);
  EXPECT_GT(p.train_loss, 0.0);
  EXPECT_EQ(p.gradient_norm.size(), 3U);  // two hidden layers and the output layer
  EXPECT_GT(p.gradient_norm[0], 0.0);
  ASSERT_EQ(p.saturated_fraction.size(), 2U);
  EXPECT_GE(p.saturated_fraction[0], 0.0);
  EXPECT_LE(p.saturated_fraction[0], 1.0);

  const ProbeRecord q = probed(data, "relu", 5).back();
  EXPECT_TRUE(q.saturated_fraction.empty());  // ReLU does not saturate; its units die
  ASSERT_EQ(q.dead_fraction.size(), 2U);
  EXPECT_LE(q.dead_fraction[1], 1.0);
}

TEST(UnitProbe, TheSameSeedGivesTheSameProbesToTheBit) {
  const Moons data;
  const std::vector<ProbeRecord> a = probed(data, "tanh", 10), b = probed(data, "tanh", 10);
  ASSERT_EQ(a.size(), b.size());
  for (std::size_t i = 0; i < a.size(); ++i) {
    EXPECT_EQ(a[i].gradient_norm, b[i].gradient_norm);
    EXPECT_EQ(a[i].saturated_fraction, b[i].saturated_fraction);
    EXPECT_EQ(a[i].train_loss, b[i].train_loss);
  }
}

TEST(UnitProbe, MeasuresSaturationWithTheOpsDerivatives) {
  for (const double y : {0.0, 0.1, 0.5, 0.9, 1.0}) {
    EXPECT_EQ(unit_health_of("sigmoid").derivative_from_output(y),
              formulas::sigmoid_backward(y, 1.0));
    EXPECT_EQ(unit_health_of("tanh").derivative_from_output(y), formulas::tanh_backward(y, 1.0));
  }
  EXPECT_EQ(formulas::sigmoid_backward(0.5, 1.0), unit_health_of("sigmoid").peak_derivative);
  EXPECT_EQ(formulas::tanh_backward(0.0, 1.0), unit_health_of("tanh").peak_derivative);
  // Every activation a model can be built with has a unit failure the study reports.
  for (const nn::Activation& a : nn::activations()) EXPECT_NO_THROW(unit_health_of(a.name));
}

TEST(UnitProbe, ProbingDoesNotChangeTraining) {
  const Moons data;
  nn::Trainer plain(data.train, data.test, small_options("relu"));
  const nn::TrainHistory without = plain.fit();
  nn::Trainer probed_trainer(data.train, data.test, small_options("relu"));
  UnitProbe probe(probed_trainer, data.train, 3, 32);
  const nn::TrainHistory with =
      probed_trainer.fit({.on_step = [&](const nn::StepReport& r) { probe.on_step(r); }});
  EXPECT_EQ(without.epochs.back().train_loss, with.epochs.back().train_loss);
  EXPECT_EQ(without.epochs.back().test.accuracy, with.epochs.back().test.accuracy);
}

}  // namespace
}  // namespace dagprop::study
