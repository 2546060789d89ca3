// The activations a layer can be built with, by name, each with the initializer that suits it and
// what the activation study measures for its units.
#pragma once

#include <span>
#include <string_view>

#include <dagprop/export.hpp>
#include <dagprop/expr.hpp>
#include <dagprop/nn/init.hpp>

DAGPROP_API_BEGIN
namespace dagprop::nn {

// Which failure of hidden units the activation is prone to, and hence what the study reports.
enum class UnitFailure : std::uint8_t {
  dead,       // rectifier-like: a unit negative on every example outputs a constant (ReLU: and
              // gets no gradient again)
  saturated,  // sigmoid, tanh: outputs near the asymptotes have a vanishing local derivative
};

struct Activation {
  std::string_view name;
  Expr (*apply)(Expr);
  Init init;  // He for rectifier-like units, Glorot for the symmetric saturating ones
  UnitFailure failure;
  // For saturating activations: the local derivative as a function of the output y (sigmoid:
  // y (1 - y), tanh: 1 - y^2) and its peak, to tell how close to flat a unit is. Null otherwise.
  double (*derivative_from_output)(double y) = nullptr;
  double peak_derivative = 0.0;
};

// step_ste, sigmoid, tanh, relu, leaky_relu, elu, gelu, silu, softplus: in that order.
std::span<const Activation> activations();
std::span<const std::string_view> activation_names();
// Throws dagprop::Error listing the valid names.
const Activation& activation_by_name(std::string_view name);

}  // namespace dagprop::nn
DAGPROP_API_END
