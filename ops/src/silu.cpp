// silu (swish): x * sigmoid(x), and its fused local gradient.
#include <dagprop/activation_formulas.hpp>

#include "op_helpers.hpp"

namespace dagprop {
namespace ops {
namespace {

template <class T>
void silu_forward(const KernelCall& c) {
  unary_kernel<T>(c, [](T x) { return x * formulas::sigmoid(x); });
}
template <class T>
void silu_grad_forward(const KernelCall& c) {
  binary_kernel<T>(c, [](T x, T g) {
    const T s = formulas::sigmoid(x);
    return g * s * (T(1) + x * (T(1) - s));
  });
}

void silu_vjp(GradContext& c) {
  c.set(0, silu_grad(c.input(0), c.grad_output()));
}
// silu''(x) = s(1 - s) * (2 + x(1 - 2s)) with s = sigmoid(x).
void silu_grad_vjp(GradContext& c) {
  const Expr x = c.input(0), g = c.input(1), u = c.grad_output();
  if (c.wanted(0)) {
    const Expr s = sigmoid(x);
    c.set(0, mul(sigmoid_grad(s, mul(u, g)), 2.0 + mul(x, 1.0 - scale(s, 2.0))));
  }
  if (c.wanted(1)) c.set(1, silu_grad(x, u));
}

}  // namespace

const OpDef& op_def_silu() {
  static constexpr OpDef def{
      .name = "silu",
      .arity = 1,
      .shape = same_shape_as_first,
      DAGPROP_KERNELS(silu_forward),
      .vjp = silu_vjp,
      .cost_per_element = 7,
      .forward_doc = "y = x * sigmoid(x)",
      .gradient_doc = "dx = silu_grad(x, g) = g * s * (1 + x * (1 - s)), s = sigmoid(x)"};
  static_assert(op_definition_is_complete(def));
  return def;
}
const OpDef& op_def_silu_grad() {
  static constexpr OpDef def{
      .name = "silu_grad",
      .arity = 2,
      .shape = equal_shapes,
      DAGPROP_KERNELS(silu_grad_forward),
      .vjp = silu_grad_vjp,
      .cost_per_element = 8,
      .forward_doc = "z = g * s * (1 + x * (1 - s)), s = sigmoid(x)",
      .gradient_doc = "dx = u * g * s(1 - s) * (2 + x(1 - 2s)), dg = silu_grad(x, u)",
      .operand_names = "x, g"};
  static_assert(op_definition_is_complete(def));
  return def;
}

}  // namespace ops

Expr silu(Expr x) {
  return ops::make(OpCode::silu, {x});
}
Expr silu_grad(Expr x, Expr g) {
  return ops::make(OpCode::silu_grad, {x, g});
}

}  // namespace dagprop
