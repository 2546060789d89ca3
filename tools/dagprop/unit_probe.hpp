// Unit probes for the activation study (`dagprop study`): every few training steps, the mean
// gradient norm of each layer's weights since the last probe, and the dead and saturated hidden
// units of an Mlp on a fixed sample of training examples. Study machinery, so it lives with the
// command that uses it; the trainer only offers the step callback it hooks into.
#pragma once

#include <cstdint>
#include <string_view>
#include <vector>

#include <dagprop/dagprop.hpp>

namespace dagprop::study {

// Which failure of hidden units an activation is prone to, and hence what the study reports.
enum class UnitFailure : std::uint8_t {
  dead,       // rectifier-like: a unit negative on every example outputs a constant (ReLU: and
              // gets no gradient again)
  saturated,  // sigmoid, tanh: outputs near the asymptotes have a vanishing local derivative
};

struct UnitHealth {
  UnitFailure failure = UnitFailure::dead;
  // For saturating activations: the local derivative as a function of the output y (sigmoid:
  // y (1 - y), tanh: 1 - y^2) and its peak, to tell how close to flat a unit is. Null otherwise.
  double (*derivative_from_output)(double y) = nullptr;
  double peak_derivative = 0.0;
};
// Of every activation of nn::activations(); throws dagprop::Error for another name.
const UnitHealth& unit_health_of(std::string_view activation);

struct ProbeRecord {
  std::int64_t step = 0;              // training steps done so far
  double epoch = 0.0;                 // the same in epochs (fractional)
  double train_loss = 0.0;            // mean batch loss since the previous probe
  std::vector<double> gradient_norm;  // per layer (hidden layers, then the output layer)
  // Per hidden layer: the share of units whose pre-activation is <= 0 on every probe example (for
  // ReLU they get no gradient again: dead).
  std::vector<double> dead_fraction;
  // Per hidden layer, only for saturating activations (sigmoid, tanh): the share of (unit,
  // example) pairs whose local derivative is below 10% of its peak.
  std::vector<double> saturated_fraction;
};

// Hooks into a trainer of an Mlp (TrainOptions::model empty): call on_step from
// TrainCallbacks::on_step. The sample is drawn from the training set with the trainer's seed (its
// stream 2), so the same seed probes the same examples.
class UnitProbe {
 public:
  UnitProbe(nn::Trainer& trainer, const data::Dataset& train, std::int64_t every,
            std::int64_t examples);
  void on_step(const nn::StepReport& report);
  const std::vector<ProbeRecord>& records() const { return records_; }

 private:
  ProbeRecord probe(const nn::StepReport& report);

  nn::Trainer& trainer_;
  std::int64_t every_;
  const UnitHealth& health_;
  std::vector<Expr> weights_;
  Tensor features_;
  Expr x_;
  nn::MlpNodes nodes_;
  Function hidden_;  // the hidden layers' pre-activations and outputs on the sample
  std::vector<double> norm_sums_;
  double loss_sum_ = 0.0;
  std::int64_t steps_ = 0;
  std::vector<ProbeRecord> records_;
};

}  // namespace dagprop::study
