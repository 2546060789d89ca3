#include "unit_probe.hpp"

#include <algorithm>
#include <array>
#include <cmath>
#include <string>
#include <utility>

#include <dagprop/activation_formulas.hpp>

namespace dagprop::study {
namespace {

double sigmoid_derivative(double y) {
  return formulas::sigmoid_backward(y, 1.0);
}
double tanh_derivative(double y) {
  return formulas::tanh_backward(y, 1.0);
}

struct NamedHealth {
  std::string_view activation;
  UnitHealth health;
};
// Rectifier-like units die; the symmetric squashing ones saturate (their peaks: sigmoid' = 1/4 at
// y = 1/2, tanh' = 1 at y = 0).
const std::array<NamedHealth, 9> kUnitHealth{{
    {"step_ste", {UnitFailure::dead}},
    {"sigmoid", {UnitFailure::saturated, sigmoid_derivative, 0.25}},
    {"tanh", {UnitFailure::saturated, tanh_derivative, 1.0}},
    {"relu", {UnitFailure::dead}},
    {"leaky_relu", {UnitFailure::dead}},
    {"elu", {UnitFailure::dead}},
    {"gelu", {UnitFailure::dead}},
    {"silu", {UnitFailure::dead}},
    {"softplus", {UnitFailure::dead}},
}};

// Summed in double, in index order: the same gradient always gives the same norm. Typed loops,
// not TensorView::at (a dtype switch per element): this runs on every weight at every step.
template <class T>
double l2_norm(const T* values, std::int64_t n) {
  double sum = 0.0;
  for (std::int64_t i = 0; i < n; ++i) sum += static_cast<double>(values[i]) * values[i];
  return std::sqrt(sum);
}
double l2_norm(const TensorView& t) {
  return t.dtype() == DType::f32 ? l2_norm(t.data<float>(), t.numel())
                                 : l2_norm(t.data<double>(), t.numel());
}

}  // namespace

const UnitHealth& unit_health_of(std::string_view activation) {
  for (const NamedHealth& entry : kUnitHealth) {
    if (entry.activation == activation) return entry.health;
  }
  throw Error("the activation study knows no unit failure of '" + std::string(activation) +
              "'; add it to kUnitHealth in tools/dagprop/unit_probe.cpp");
}

UnitProbe::UnitProbe(nn::Trainer& trainer, const data::Dataset& train, std::int64_t every,
                     std::int64_t examples)
    : trainer_(trainer),
      every_(every),
      health_(unit_health_of(trainer.model().activation().name)),
      weights_(trainer.model().weights()),
      norm_sums_(weights_.size(), 0.0) {
  if (every < 1 || examples < 1) {
    throw Error("unit probes every " + std::to_string(every) + " steps on " +
                std::to_string(examples) + " examples: both must be at least 1");
  }
  const data::Dataset sample =
      data::sample(train, examples, stream_seed(trainer.options().seed, 2));
  features_ = sample.features;
  x_ = trainer.graph().input("probe_x", features_.shape(), DType::f32);
  nodes_ = trainer.model().apply(x_);
  std::vector<Expr> outputs;
  for (const nn::DenseNodes& layer : nodes_.hidden) {
    outputs.push_back(layer.pre_activation);
    outputs.push_back(layer.output);
  }
  if (!outputs.empty()) hidden_ = trainer.graph().compile(outputs);
}

void UnitProbe::on_step(const nn::StepReport& report) {
  // The step's gradients are still stored (the update reads, never clears them).
  for (std::size_t l = 0; l < weights_.size(); ++l) norm_sums_[l] += l2_norm(weights_[l].grad());
  loss_sum_ += report.loss;
  ++steps_;
  if (report.global_step % every_ != 0) return;
  records_.push_back(probe(report));
  std::fill(norm_sums_.begin(), norm_sums_.end(), 0.0);
  loss_sum_ = 0.0;
  steps_ = 0;
}

ProbeRecord UnitProbe::probe(const nn::StepReport& report) {
  ProbeRecord record;
  record.step = report.global_step;
  record.epoch =
      static_cast<double>(report.global_step) / static_cast<double>(report.steps_per_epoch);
  record.train_loss = loss_sum_ / static_cast<double>(steps_);
  for (const double sum : norm_sums_)
    record.gradient_norm.push_back(sum / static_cast<double>(steps_));
  if (!hidden_.valid()) return record;
  hidden_.run({{x_, features_}});
  for (const nn::DenseNodes& layer : nodes_.hidden) {
    const TensorView z = hidden_.value(layer.pre_activation), a = hidden_.value(layer.output);
    const std::int64_t examples = z.shape()[0], units = z.shape()[1];
    std::int64_t dead = 0;
    for (std::int64_t j = 0; j < units; ++j) {
      bool active = false;
      for (std::int64_t i = 0; i < examples && !active; ++i) active = z.at(i * units + j) > 0.0;
      if (!active) ++dead;
    }
    record.dead_fraction.push_back(static_cast<double>(dead) / static_cast<double>(units));
    if (health_.derivative_from_output != nullptr) {
      const double flat = 0.1 * health_.peak_derivative;
      std::int64_t saturated = 0;
      for (std::int64_t k = 0; k < a.numel(); ++k) {
        if (health_.derivative_from_output(a.at(k)) < flat) ++saturated;
      }
      record.saturated_fraction.push_back(static_cast<double>(saturated) /
                                          static_cast<double>(a.numel()));
    }
  }
  return record;
}

}  // namespace dagprop::study
