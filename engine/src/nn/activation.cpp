// The activation table.
#include <dagprop/nn/activation.hpp>

#include <array>

#include <dagprop/activation_formulas.hpp>
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

// The local derivatives the ops use, for an incoming gradient of 1.
double sigmoid_derivative(double y) {
  return formulas::sigmoid_backward(y, 1.0);
}
double tanh_derivative(double y) {
  return formulas::tanh_backward(y, 1.0);
}

const std::array<Activation, 9> kActivations{{
    {"step_ste", dagprop::step_ste, Init::glorot_uniform, UnitFailure::dead},
    {"sigmoid", dagprop::sigmoid, Init::glorot_uniform, UnitFailure::saturated, sigmoid_derivative,
     0.25},
    {"tanh", dagprop::tanh, Init::glorot_uniform, UnitFailure::saturated, tanh_derivative, 1.0},
    {"relu", dagprop::relu, Init::he_uniform, UnitFailure::dead},
    {"leaky_relu", leaky_relu_default, Init::he_uniform, UnitFailure::dead},
    {"elu", elu_default, Init::he_uniform, UnitFailure::dead},
    {"gelu", dagprop::gelu, Init::he_uniform, UnitFailure::dead},
    {"silu", dagprop::silu, Init::he_uniform, UnitFailure::dead},
    {"softplus", dagprop::softplus, Init::he_uniform, UnitFailure::dead},
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
