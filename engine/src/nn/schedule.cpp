// Learning-rate schedules.
#include <dagprop/nn/schedule.hpp>

#include <algorithm>
#include <array>
#include <cmath>
#include <numbers>
#include <string>

#include <dagprop/error.hpp>

#include "../unknown_name.hpp"

namespace dagprop::nn {
namespace {

constexpr std::array<std::string_view, 3> kNames{"constant", "step", "cosine"};

void check_base(double base) {
  if (!(base > 0.0) || !std::isfinite(base)) {
    throw Error("learning-rate schedule: base rate " + std::to_string(base) +
                " must be a positive number such as 1e-3");
  }
}

}  // namespace

LrSchedule LrSchedule::constant(double base) {
  check_base(base);
  return {Kind::constant, base, 1, 1.0};
}

LrSchedule LrSchedule::step(double base, std::int64_t step_epochs, double gamma) {
  check_base(base);
  if (step_epochs < 1 || !(gamma > 0.0 && gamma <= 1.0)) {
    throw Error("step schedule: step_epochs = " + std::to_string(step_epochs) +
                " and gamma = " + std::to_string(gamma) +
                "; use step_epochs >= 1 and gamma in (0, 1], e.g. 5 and 0.1");
  }
  return {Kind::step, base, step_epochs, gamma};
}

LrSchedule LrSchedule::cosine(double base, std::int64_t total_epochs, double minimum) {
  check_base(base);
  if (total_epochs < 1 || !(minimum >= 0.0 && minimum <= base)) {
    throw Error("cosine schedule: total_epochs = " + std::to_string(total_epochs) +
                " and minimum = " + std::to_string(minimum) +
                "; use total_epochs >= 1 and a minimum rate in [0, base]");
  }
  return {Kind::cosine, base, total_epochs, minimum};
}

double LrSchedule::at(std::int64_t epoch) const {
  switch (kind_) {
    case Kind::constant:
      return base_;
    case Kind::step:
      return base_ * std::pow(factor_, static_cast<double>(epoch / period_));
    case Kind::cosine: {
      const double progress =
          static_cast<double>(std::min(epoch, period_)) / static_cast<double>(period_);
      const double rate =
          factor_ + (base_ - factor_) * 0.5 * (1.0 + std::cos(std::numbers::pi * progress));
      // From total_epochs on the rate stays at the minimum; a minimum of 0 is kept slightly above
      // zero because an optimizer refuses a rate of 0 (it would be a silent no-op).
      return std::max(rate, base_ * 1e-6);
    }
  }
  return base_;
}

std::span<const std::string_view> schedule_names() {
  return kNames;
}

LrSchedule make_schedule(std::string_view name, const ScheduleSettings& settings) {
  if (name == "constant") return LrSchedule::constant(settings.base);
  if (name == "step") return LrSchedule::step(settings.base, settings.step_epochs, settings.gamma);
  if (name == "cosine") return LrSchedule::cosine(settings.base, settings.epochs);
  throw_unknown_name("learning-rate schedule", name, kNames);
}

}  // namespace dagprop::nn
