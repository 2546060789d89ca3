// Learning-rate schedules: a rate for each epoch, given to Optimizer::set_learning_rate.
#pragma once

#include <cstdint>
#include <span>
#include <string_view>

#include <dagprop/export.hpp>

DAGPROP_API_BEGIN
namespace dagprop::nn {

class LrSchedule {
 public:
  // The same rate every epoch.
  static LrSchedule constant(double base);
  // base * gamma^(epoch / step_epochs): divided by 1/gamma every step_epochs epochs.
  static LrSchedule step(double base, std::int64_t step_epochs, double gamma);
  // Half a cosine from base at epoch 0 down to minimum at epoch total_epochs (SGDR without
  // restarts, Loshchilov and Hutter).
  static LrSchedule cosine(double base, std::int64_t total_epochs, double minimum = 0.0);

  // The rate for epoch `epoch` (0-based).
  double at(std::int64_t epoch) const;

 private:
  enum class Kind : std::uint8_t { constant, step, cosine };
  LrSchedule(Kind kind, double base, std::int64_t period, double factor)
      : kind_(kind), base_(base), period_(period), factor_(factor) {}
  Kind kind_;
  double base_;
  std::int64_t period_;  // step: epochs per decay; cosine: total epochs
  double factor_;        // step: gamma; cosine: minimum rate
};

// "constant", "step", "cosine".
std::span<const std::string_view> schedule_names();

struct ScheduleSettings {
  double base = 1e-3;
  std::int64_t epochs = 10;      // cosine: the length of the half period
  std::int64_t step_epochs = 5;  // step: epochs between decays
  double gamma = 0.1;            // step: the factor
};
// Throws dagprop::Error listing the valid names.
LrSchedule make_schedule(std::string_view name, const ScheduleSettings& settings);

}  // namespace dagprop::nn
DAGPROP_API_END
