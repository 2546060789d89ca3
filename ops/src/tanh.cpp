// tanh and its fused local gradient tanh_grad(y, g) = g * (1 - y^2), from the output.
#include <dagprop/activation_formulas.hpp>

#include "op_helpers.hpp"
#include "vector_math.hpp"

namespace dagprop {
namespace ops {
namespace {

// float: the branch-free tanh of vector_math.hpp, vectorized for this CPU (glibc's tanhf is a call
// per element: 60 % of W3's time went to it). double: std::tanh.
DAGPROP_FLOAT_MAP(tanh_floats, [](float x) { return hyperbolic_tangent(x); })

template <class T>
void tanh_forward(const KernelCall& c) {
  if constexpr (std::is_same_v<T, float>) {
    map_float_kernel(c, tanh_floats());
  } else {
    unary_kernel<T>(c, [](T x) { return std::tanh(x); });
  }
}
template <class T>
void tanh_grad_forward(const KernelCall& c) {
  binary_kernel<T>(c, [](T y, T g) { return formulas::tanh_backward(y, g); });
}

void tanh_vjp(GradContext& c) {
  c.set(0, tanh_grad(c.output(), c.grad_output()));
}
void tanh_grad_vjp(GradContext& c) {
  const Expr y = c.input(0), g = c.input(1), u = c.grad_output();
  if (c.wanted(0)) c.set(0, scale(mul(mul(u, g), y), -2.0));
  if (c.wanted(1)) c.set(1, tanh_grad(y, u));
}

}  // namespace

const OpDef& op_def_tanh() {
  static constexpr OpDef def{.name = "tanh",
                             .arity = 1,
                             .shape = same_shape_as_first,
                             DAGPROP_KERNELS(tanh_forward),
                             .vjp = tanh_vjp,
                             .cost_per_element = 8,
                             .forward_doc = "y = tanh(x)",
                             .gradient_doc = "dx = tanh_grad(y, g) = g * (1 - y^2)",
                             .units = UnitKind::tanh};
  static_assert(op_definition_is_complete(def));
  return def;
}
const OpDef& op_def_tanh_grad() {
  static constexpr OpDef def{.name = "tanh_grad",
                             .arity = 2,
                             .shape = equal_shapes,
                             DAGPROP_KERNELS(tanh_grad_forward),
                             .vjp = tanh_grad_vjp,
                             .cost_per_element = 2,
                             .forward_doc = "z = g * (1 - y^2)",
                             .gradient_doc = "dy = -2 u g y, dg = u * (1 - y^2)",
                             .operand_names = "y, g"};
  static_assert(op_definition_is_complete(def));
  return def;
}

}  // namespace ops

Expr tanh(Expr x) {
  return ops::make(OpCode::tanh, {x});
}
Expr tanh_grad(Expr y, Expr g) {
  return ops::make(OpCode::tanh_grad, {y, g});
}

}  // namespace dagprop
