// add, sub, mul, div (numpy broadcasting), neg and scale. A broadcast operand's gradient is summed
// back to its shape with sum_to.
#include "op_helpers.hpp"

namespace dagprop {
namespace ops {
namespace {

// scale's factor, in the scalar field.
constexpr AttrSpec kScaleAttributes[] = {{.name = "factor",
                                          .kind = AttrKind::number,
                                          .slot = {.field = AttrField::scalar},
                                          .default_value = 1.0,
                                          .doc = "y = factor * x"}};

template <class T>
void add_forward(const KernelCall& c) {
  binary_kernel<T>(c, [](T a, T b) { return a + b; });
}
template <class T>
void sub_forward(const KernelCall& c) {
  binary_kernel<T>(c, [](T a, T b) { return a - b; });
}
template <class T>
void mul_forward(const KernelCall& c) {
  binary_kernel<T>(c, [](T a, T b) { return a * b; });
}
template <class T>
void div_forward(const KernelCall& c) {
  binary_kernel<T>(c, [](T a, T b) { return a / b; });
}
template <class T>
void neg_forward(const KernelCall& c) {
  unary_kernel<T>(c, [](T x) { return -x; });
}
template <class T>
void scale_forward(const KernelCall& c) {
  const T factor = static_cast<T>(c.attrs.scalar);
  unary_kernel<T>(c, [factor](T x) { return factor * x; });
}

void add_vjp(GradContext& c) {
  if (c.wanted(0)) c.set(0, sum_to(c.grad_output(), c.input(0).shape()));
  if (c.wanted(1)) c.set(1, sum_to(c.grad_output(), c.input(1).shape()));
}
void sub_vjp(GradContext& c) {
  if (c.wanted(0)) c.set(0, sum_to(c.grad_output(), c.input(0).shape()));
  if (c.wanted(1)) c.set(1, sum_to(neg(c.grad_output()), c.input(1).shape()));
}
void mul_vjp(GradContext& c) {
  if (c.wanted(0)) c.set(0, sum_to(mul(c.grad_output(), c.input(1)), c.input(0).shape()));
  if (c.wanted(1)) c.set(1, sum_to(mul(c.grad_output(), c.input(0)), c.input(1).shape()));
}
void div_vjp(GradContext& c) {
  const Expr g = c.grad_output(), b = c.input(1);
  if (c.wanted(0)) c.set(0, sum_to(div(g, b), c.input(0).shape()));
  // d(a/b)/db = -(a/b)/b, written with the output y = a/b.
  if (c.wanted(1)) c.set(1, sum_to(neg(div(mul(g, c.output()), b)), b.shape()));
}
void neg_vjp(GradContext& c) {
  c.set(0, neg(c.grad_output()));
}
void scale_vjp(GradContext& c) {
  c.set(0, scale(c.grad_output(), c.attrs().scalar));
}

}  // namespace

const OpDef& op_def_add() {
  static constexpr OpDef def{.name = "add",
                             .arity = 2,
                             .shape = broadcast_inputs,
                             DAGPROP_KERNELS(add_forward),
                             .vjp = add_vjp,
                             .forward_doc = "y = a + b",
                             .gradient_doc = "da = sum_to(g), db = sum_to(g)",
                             .commutative = true};
  static_assert(op_definition_is_complete(def));
  return def;
}
const OpDef& op_def_sub() {
  static constexpr OpDef def{.name = "sub",
                             .arity = 2,
                             .shape = broadcast_inputs,
                             DAGPROP_KERNELS(sub_forward),
                             .vjp = sub_vjp,
                             .forward_doc = "y = a - b",
                             .gradient_doc = "da = sum_to(g), db = -sum_to(g)",
                             .operand_names = "+, \xE2\x88\x92"};
  static_assert(op_definition_is_complete(def));
  return def;
}
const OpDef& op_def_mul() {
  static constexpr OpDef def{.name = "mul",
                             .arity = 2,
                             .shape = broadcast_inputs,
                             DAGPROP_KERNELS(mul_forward),
                             .vjp = mul_vjp,
                             .forward_doc = "y = a * b",
                             .gradient_doc = "da = sum_to(g * b), db = sum_to(g * a)",
                             .commutative = true};
  static_assert(op_definition_is_complete(def));
  return def;
}
const OpDef& op_def_div() {
  static constexpr OpDef def{.name = "div",
                             .arity = 2,
                             .shape = broadcast_inputs,
                             DAGPROP_KERNELS(div_forward),
                             .vjp = div_vjp,
                             .cost_per_element = 2,
                             .forward_doc = "y = a / b",
                             .gradient_doc = "da = sum_to(g / b), db = -sum_to(g * y / b)",
                             .notes_doc = "b = 0 gives +-Inf or NaN, as IEEE division does",
                             .operand_names = "numerator, denominator"};
  static_assert(op_definition_is_complete(def));
  return def;
}
const OpDef& op_def_neg() {
  static constexpr OpDef def{.name = "neg",
                             .arity = 1,
                             .shape = same_shape_as_first,
                             DAGPROP_KERNELS(neg_forward),
                             .vjp = neg_vjp,
                             .forward_doc = "y = -x",
                             .gradient_doc = "dx = -g"};
  static_assert(op_definition_is_complete(def));
  return def;
}
const OpDef& op_def_scale() {
  static constexpr OpDef def{.name = "scale",
                             .arity = 1,
                             .shape = same_shape_as_first,
                             DAGPROP_KERNELS(scale_forward),
                             .vjp = scale_vjp,
                             .forward_doc = "y = alpha * x",
                             .gradient_doc = "dx = alpha * g",
                             .attributes = kScaleAttributes};
  static_assert(op_definition_is_complete(def));
  return def;
}

}  // namespace ops

Expr add(Expr a, Expr b) {
  return ops::make(OpCode::add, {a, b});
}
Expr sub(Expr a, Expr b) {
  return ops::make(OpCode::sub, {a, b});
}
Expr mul(Expr a, Expr b) {
  return ops::make(OpCode::mul, {a, b});
}
Expr div(Expr a, Expr b) {
  return ops::make(OpCode::div, {a, b});
}
Expr neg(Expr x) {
  return ops::make(OpCode::neg, {x});
}
Expr scale(Expr x, double factor) {
  OpAttrs attrs;
  attrs.scalar = factor;
  return ops::make(OpCode::scale, {x}, attrs);
}

Expr operator+(Expr a, Expr b) {
  return add(a, b);
}
Expr operator-(Expr a, Expr b) {
  return sub(a, b);
}
Expr operator*(Expr a, Expr b) {
  return mul(a, b);
}
Expr operator/(Expr a, Expr b) {
  return div(a, b);
}
Expr operator-(Expr a) {
  return neg(a);
}
Expr operator+(Expr a, double b) {
  return add(a, ops::scalar_like(a, b));
}
Expr operator+(double a, Expr b) {
  return add(ops::scalar_like(b, a), b);
}
Expr operator-(Expr a, double b) {
  return sub(a, ops::scalar_like(a, b));
}
Expr operator-(double a, Expr b) {
  return sub(ops::scalar_like(b, a), b);
}
Expr operator*(Expr a, double b) {
  return mul(a, ops::scalar_like(a, b));
}
Expr operator*(double a, Expr b) {
  return mul(ops::scalar_like(b, a), b);
}
Expr operator/(Expr a, double b) {
  return div(a, ops::scalar_like(a, b));
}
Expr operator/(double a, Expr b) {
  return div(ops::scalar_like(b, a), b);
}

}  // namespace dagprop
