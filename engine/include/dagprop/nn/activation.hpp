// The activations a layer can be built with, by name, each with the initializer that suits it.
// (What the activation study measures of their units is the study's: tools/dagprop/unit_probe.hpp.)
#pragma once

#include <span>
#include <string_view>

#include <dagprop/export.hpp>
#include <dagprop/expr.hpp>
#include <dagprop/nn/init.hpp>

DAGPROP_API_BEGIN
namespace dagprop::nn {

struct Activation {
  std::string_view name;
  Expr (*apply)(Expr);
  Init init;  // He for rectifier-like units, Glorot for the symmetric saturating ones
};

// step_ste, sigmoid, tanh, relu, leaky_relu, elu, gelu, silu, softplus: in that order.
std::span<const Activation> activations();
std::span<const std::string_view> activation_names();
// Throws dagprop::Error listing the valid names.
const Activation& activation_by_name(std::string_view name);

}  // namespace dagprop::nn
DAGPROP_API_END
