// Initializers. Uniform limits are chosen so the uniform draw has the same variance as the normal
// one (a uniform on [-a, a] has variance a^2 / 3).
#include <dagprop/nn/init.hpp>

#include <array>
#include <cmath>
#include <string>

#include <dagprop/error.hpp>

#include "../unknown_name.hpp"

namespace dagprop::nn {
namespace {

constexpr std::array<std::string_view, 5> kNames{"glorot_uniform", "glorot_normal", "he_uniform",
                                                 "he_normal", "zeros"};

}  // namespace

std::span<const std::string_view> init_names() {
  return kNames;
}

std::string_view name_of(Init init) {
  return kNames[static_cast<std::size_t>(init)];
}

Init init_by_name(std::string_view name) {
  for (std::size_t i = 0; i < kNames.size(); ++i) {
    if (kNames[i] == name) return static_cast<Init>(i);
  }
  throw_unknown_name("initializer", name, kNames);
}

Tensor initialize(Init init, std::int64_t fan_in, std::int64_t fan_out, SplitMix64& random,
                  DType dtype) {
  if (fan_in < 1 || fan_out < 1) {
    throw Error("initialize(" + std::string(name_of(init)) + "): fan_in " + std::to_string(fan_in) +
                " and fan_out " + std::to_string(fan_out) + " must both be at least 1");
  }
  Tensor w(Shape{fan_in, fan_out}, dtype);
  const bool he = init == Init::he_uniform || init == Init::he_normal;
  // Glorot: variance 2 / (fan_in + fan_out); He: 2 / fan_in.
  const auto denominator = static_cast<double>(he ? fan_in : fan_in + fan_out);
  const double std = std::sqrt(2.0 / denominator), limit = std::sqrt(6.0 / denominator);
  for (std::int64_t i = 0; i < w.numel(); ++i) {
    switch (init) {
      case Init::glorot_uniform:
      case Init::he_uniform:
        w.set(i, (2.0 * random.uniform() - 1.0) * limit);
        break;
      case Init::glorot_normal:
      case Init::he_normal:
        w.set(i, std * random.normal());
        break;
      case Init::zeros:
        break;
    }
  }
  return w;
}

}  // namespace dagprop::nn
