// relu and leaky_relu with their fused local gradients (masks on the input).
#include <dagprop/activation_formulas.hpp>

#include "op_helpers.hpp"

namespace dagprop {
namespace ops {
namespace {

// leaky_relu's and leaky_relu_grad's slope, in the scalar field.
constexpr AttrSpec kLeakyReluAttributes[] = {{.name = "slope",
                                              .kind = AttrKind::number,
                                              .slot = {.field = AttrField::scalar},
                                              .default_value = 0.01,
                                              .doc = "dy/dx for x < 0"}};

template <class T>
void relu_forward(const KernelCall& c) {
  unary_kernel<T>(c, [](T x) { return formulas::relu(x); });
}
template <class T>
void relu_grad_forward(const KernelCall& c) {
  binary_kernel<T>(c, [](T x, T g) { return formulas::relu_backward(x, g); });
}
template <class T>
void leaky_relu_forward(const KernelCall& c) {
  const T slope = static_cast<T>(c.attrs.scalar);
  unary_kernel<T>(c, [slope](T x) { return x > T(0) ? x : slope * x; });
}
template <class T>
void leaky_relu_grad_forward(const KernelCall& c) {
  const T slope = static_cast<T>(c.attrs.scalar);
  binary_kernel<T>(c, [slope](T x, T g) { return x > T(0) ? g : slope * g; });
}

void relu_vjp(GradContext& c) {
  c.set(0, relu_grad(c.input(0), c.grad_output()));
}
// The mask is piecewise constant in x: its derivative in x is zero wherever it exists.
void relu_grad_vjp(GradContext& c) {
  if (c.wanted(1)) c.set(1, relu_grad(c.input(0), c.grad_output()));
}
void leaky_relu_vjp(GradContext& c) {
  c.set(0, leaky_relu_grad(c.input(0), c.grad_output(), c.attrs().scalar));
}
void leaky_relu_grad_vjp(GradContext& c) {
  if (c.wanted(1)) c.set(1, leaky_relu_grad(c.input(0), c.grad_output(), c.attrs().scalar));
}

}  // namespace

const OpDef& op_def_relu() {
  static constexpr OpDef def{
      .name = "relu",
      .arity = 1,
      .shape = same_shape_as_first,
      DAGPROP_KERNELS(relu_forward),
      .vjp = relu_vjp,
      .forward_doc = "y = max(x, 0)",
      .gradient_doc = "dx = relu_grad(x, g) = g * (x > 0)",
      .notes_doc = "the derivative at 0 is taken as 0 (PyTorch's convention)",
      .units = UnitKind::rectifier};
  static_assert(op_definition_is_complete(def));
  return def;
}
const OpDef& op_def_relu_grad() {
  static constexpr OpDef def{.name = "relu_grad",
                             .arity = 2,
                             .shape = equal_shapes,
                             DAGPROP_KERNELS(relu_grad_forward),
                             .vjp = relu_grad_vjp,
                             .forward_doc = "z = g * (x > 0)",
                             .gradient_doc = "dx = 0 (piecewise constant), dg = u * (x > 0)",
                             .operand_names = "x, g"};
  static_assert(op_definition_is_complete(def));
  return def;
}
const OpDef& op_def_leaky_relu() {
  static constexpr OpDef def{
      .name = "leaky_relu",
      .arity = 1,
      .shape = same_shape_as_first,
      DAGPROP_KERNELS(leaky_relu_forward),
      .vjp = leaky_relu_vjp,
      .forward_doc = "y = x if x > 0 else slope * x",
      .gradient_doc = "dx = leaky_relu_grad(x, g) = g * (1 if x > 0 else slope)",
      .notes_doc = "the derivative at 0 is taken as slope",
      .attributes = kLeakyReluAttributes};
  static_assert(op_definition_is_complete(def));
  return def;
}
const OpDef& op_def_leaky_relu_grad() {
  static constexpr OpDef def{
      .name = "leaky_relu_grad",
      .arity = 2,
      .shape = equal_shapes,
      DAGPROP_KERNELS(leaky_relu_grad_forward),
      .vjp = leaky_relu_grad_vjp,
      .forward_doc = "z = g * (1 if x > 0 else slope)",
      .gradient_doc = "dx = 0 (piecewise constant), dg = u * (1 if x > 0 else slope)",
      .operand_names = "x, g",
      .attributes = kLeakyReluAttributes};
  static_assert(op_definition_is_complete(def));
  return def;
}

}  // namespace ops

Expr relu(Expr x) {
  return ops::make(OpCode::relu, {x});
}
Expr relu_grad(Expr x, Expr g) {
  return ops::make(OpCode::relu_grad, {x, g});
}
Expr leaky_relu(Expr x, double slope) {
  OpAttrs attrs;
  attrs.scalar = slope;
  return ops::make(OpCode::leaky_relu, {x}, attrs);
}
Expr leaky_relu_grad(Expr x, Expr g, double slope) {
  OpAttrs attrs;
  attrs.scalar = slope;
  return ops::make(OpCode::leaky_relu_grad, {x, g}, attrs);
}

}  // namespace dagprop
