// sigmoid and its fused local gradient sigmoid_grad(y, g) = g * y * (1 - y), taken from the output
// as the seed text says (sigmoid' = s(1 - s)).
#include <dagprop/activation_formulas.hpp>

#include "op_helpers.hpp"
#include "vector_math.hpp"

namespace dagprop {
namespace ops {
namespace {

// float: the branch-free logistic of vector_math.hpp, vectorized for this CPU (std::exp is a call
// and the sign test a branch, which keep the loop scalar: ~20x slower on W5). double: std::exp.
DAGPROP_FLOAT_MAP(logistic_floats, [](float x) { return logistic(x); })

template <class T>
void sigmoid_forward(const KernelCall& c) {
  if constexpr (std::is_same_v<T, float>) {
    map_float_kernel(c, logistic_floats());
  } else {
    unary_kernel<T>(c, [](T x) { return formulas::sigmoid(x); });
  }
}
template <class T>
void sigmoid_grad_forward(const KernelCall& c) {
  binary_kernel<T>(c, [](T y, T g) { return formulas::sigmoid_backward(y, g); });
}

void sigmoid_vjp(GradContext& c) {
  c.set(0, sigmoid_grad(c.output(), c.grad_output()));
}
// sigmoid_grad is linear in g; in y its derivative is g * (1 - 2y).
void sigmoid_grad_vjp(GradContext& c) {
  const Expr y = c.input(0), g = c.input(1), u = c.grad_output();
  if (c.wanted(0)) c.set(0, mul(mul(u, g), 1.0 - scale(y, 2.0)));
  if (c.wanted(1)) c.set(1, sigmoid_grad(y, u));
}

}  // namespace

const OpDef& op_def_sigmoid() {
  static constexpr OpDef def{
      .name = "sigmoid",
      .arity = 1,
      .shape = same_shape_as_first,
      DAGPROP_KERNELS(sigmoid_forward),
      .vjp = sigmoid_vjp,
      .cost_per_element = 6,
      .forward_doc = "y = 1 / (1 + exp(-x))",
      .gradient_doc = "dx = sigmoid_grad(y, g) = g * y * (1 - y)",
      .notes_doc = "exp is taken of -|x| only, so |x| = 800 gives exactly 0 or 1 and no NaN",
      .units = UnitKind::sigmoid};
  static_assert(op_definition_is_complete(def));
  return def;
}
const OpDef& op_def_sigmoid_grad() {
  static constexpr OpDef def{.name = "sigmoid_grad",
                             .arity = 2,
                             .shape = equal_shapes,
                             DAGPROP_KERNELS(sigmoid_grad_forward),
                             .vjp = sigmoid_grad_vjp,
                             .cost_per_element = 2,
                             .forward_doc = "z = g * y * (1 - y)",
                             .gradient_doc = "dy = u * g * (1 - 2y), dg = u * y * (1 - y)",
                             .operand_names = "y, g"};
  static_assert(op_definition_is_complete(def));
  return def;
}

}  // namespace ops

Expr sigmoid(Expr x) {
  return ops::make(OpCode::sigmoid, {x});
}
Expr sigmoid_grad(Expr y, Expr g) {
  return ops::make(OpCode::sigmoid_grad, {y, g});
}

}  // namespace dagprop
