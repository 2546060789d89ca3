// gelu (the exact erf form) and its fused local gradient.
#include <numbers>

#include "op_helpers.hpp"

namespace dagprop {
namespace ops {
namespace {

template <class T>
T normal_cdf(T x) {
  return T(0.5) * std::erfc(-x * static_cast<T>(std::numbers::sqrt2 / 2));
}
template <class T>
T normal_pdf(T x) {
  return std::exp(T(-0.5) * x * x) * static_cast<T>(std::numbers::inv_sqrtpi / std::numbers::sqrt2);
}

template <class T>
void gelu_forward(const KernelCall& c) {
  unary_kernel<T>(c, [](T x) { return x * normal_cdf(x); });
}
template <class T>
void gelu_grad_forward(const KernelCall& c) {
  binary_kernel<T>(c, [](T x, T g) { return g * (normal_cdf(x) + x * normal_pdf(x)); });
}

void gelu_vjp(GradContext& c) {
  c.set(0, gelu_grad(c.input(0), c.grad_output()));
}
// gelu''(x) = pdf(x) * (2 - x^2).
void gelu_grad_vjp(GradContext& c) {
  const Expr x = c.input(0), g = c.input(1), u = c.grad_output();
  if (c.wanted(0)) {
    const Expr x2 = mul(x, x);
    const Expr pdf = scale(exp(scale(x2, -0.5)), std::numbers::inv_sqrtpi / std::numbers::sqrt2);
    c.set(0, mul(mul(mul(u, g), pdf), 2.0 - x2));
  }
  if (c.wanted(1)) c.set(1, gelu_grad(x, u));
}

}  // namespace

const OpDef& op_def_gelu() {
  static constexpr OpDef def{
      .name = "gelu",
      .arity = 1,
      .shape = same_shape_as_first,
      DAGPROP_KERNELS(gelu_forward),
      .vjp = gelu_vjp,
      .cost_per_element = 10,
      .forward_doc = "y = x * Phi(x), Phi(x) = (1 + erf(x / sqrt 2)) / 2",
      .gradient_doc = "dx = gelu_grad(x, g) = g * (Phi(x) + x * phi(x))",
      .notes_doc = "Phi is computed with erfc, accurate in the far negative tail"};
  static_assert(op_definition_is_complete(def));
  return def;
}
const OpDef& op_def_gelu_grad() {
  static constexpr OpDef def{
      .name = "gelu_grad",
      .arity = 2,
      .shape = equal_shapes,
      DAGPROP_KERNELS(gelu_grad_forward),
      .vjp = gelu_grad_vjp,
      .cost_per_element = 12,
      .forward_doc = "z = g * (Phi(x) + x * phi(x))",
      .gradient_doc = "dx = u * g * phi(x) * (2 - x^2), dg = gelu_grad(x, u)",
      .operand_names = "x, g"};
  static_assert(op_definition_is_complete(def));
  return def;
}

}  // namespace ops

Expr gelu(Expr x) {
  return ops::make(OpCode::gelu, {x});
}
Expr gelu_grad(Expr x, Expr g) {
  return ops::make(OpCode::gelu_grad, {x, g});
}

}  // namespace dagprop
