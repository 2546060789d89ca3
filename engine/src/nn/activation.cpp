// The activation table.
#include <dagprop/nn/activation.hpp>

#include <array>

#include <dagprop/ops.hpp>

#include "../unknown_name.hpp"

namespace dagprop::nn {
namespace {

// The ops with extra parameters, at their usual defaults, as plain functions of one input.
Expr leaky_relu_default(Expr x) {
  return leaky_relu(x);
}
Expr elu_default(Expr x) {
  return elu(x);
}

const std::array<Activation, 9> kActivations{{
    {"step_ste", dagprop::step_ste, Init::glorot_uniform},
    {"sigmoid", dagprop::sigmoid, Init::glorot_uniform},
    {"tanh", dagprop::tanh, Init::glorot_uniform},
    {"relu", dagprop::relu, Init::he_uniform},
    {"leaky_relu", leaky_relu_default, Init::he_uniform},
    {"elu", elu_default, Init::he_uniform},
    {"gelu", dagprop::gelu, Init::he_uniform},
    {"silu", dagprop::silu, Init::he_uniform},
    {"softplus", dagprop::softplus, Init::he_uniform},
}};

const std::array<std::string_view, 9> kNames = [] {
  std::array<std::string_view, 9> names{};
  for (std::size_t i = 0; i < names.size(); ++i) names[i] = kActivations[i].name;
  return names;
}();

}  // namespace

std::span<const Activation> activations() {
  return kActivations;
}

std::span<const std::string_view> activation_names() {
  return kNames;
}

const Activation& activation_by_name(std::string_view name) {
  for (const Activation& a : kActivations) {
    if (a.name == name) return a;
  }
  throw_unknown_name("activation", name, kNames);
}

}  // namespace dagprop::nn
