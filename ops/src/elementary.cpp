// pow (scalar exponent), exp, log, sqrt and abs.
#include "op_helpers.hpp"

namespace dagprop {
namespace ops {
namespace {

// pow's exponent, in the scalar field.
constexpr AttrSpec kPowAttributes[] = {{.name = "exponent",
                                        .kind = AttrKind::number,
                                        .slot = {.field = AttrField::scalar},
                                        .default_value = 1.0,
                                        .doc = "p in y = x^p"}};

template <class T>
void pow_forward(const KernelCall& c) {
  const T p = static_cast<T>(c.attrs.scalar);
  unary_kernel<T>(c, [p](T x) { return std::pow(x, p); });
}
template <class T>
void exp_forward(const KernelCall& c) {
  unary_kernel<T>(c, [](T x) { return std::exp(x); });
}
template <class T>
void log_forward(const KernelCall& c) {
  unary_kernel<T>(c, [](T x) { return std::log(x); });
}
template <class T>
void sqrt_forward(const KernelCall& c) {
  unary_kernel<T>(c, [](T x) { return std::sqrt(x); });
}
template <class T>
void abs_forward(const KernelCall& c) {
  unary_kernel<T>(c, [](T x) { return std::abs(x); });
}

void pow_vjp(GradContext& c) {
  const double p = c.attrs().scalar;
  if (p == 0.0) return;  // x^0 is constant: no contribution
  const Expr dydx = p == 1.0 ? scalar_like(c.input(0), 1.0) : scale(pow(c.input(0), p - 1.0), p);
  c.set(0, mul(c.grad_output(), dydx));
}
void exp_vjp(GradContext& c) {
  c.set(0, mul(c.grad_output(), c.output()));
}
void log_vjp(GradContext& c) {
  c.set(0, div(c.grad_output(), c.input(0)));
}
void sqrt_vjp(GradContext& c) {
  c.set(0, div(c.grad_output(), scale(c.output(), 2.0)));
}
void abs_vjp(GradContext& c) {
  c.set(0, mul(c.grad_output(), sign(c.input(0))));
}

}  // namespace

const OpDef& op_def_pow() {
  static constexpr OpDef def{.name = "pow",
                             .arity = 1,
                             .shape = same_shape_as_first,
                             DAGPROP_KERNELS(pow_forward),
                             .vjp = pow_vjp,
                             .cost_per_element = 8,
                             .forward_doc = "y = x^p (p a constant)",
                             .gradient_doc = "dx = g * p * x^(p-1)",
                             .notes_doc = "x < 0 with a non-integer p gives NaN, as std::pow does",
                             .attributes = kPowAttributes};
  static_assert(op_definition_is_complete(def));
  return def;
}
const OpDef& op_def_exp() {
  static constexpr OpDef def{
      .name = "exp",
      .arity = 1,
      .shape = same_shape_as_first,
      DAGPROP_KERNELS(exp_forward),
      .vjp = exp_vjp,
      .cost_per_element = 4,
      .forward_doc = "y = exp(x)",
      .gradient_doc = "dx = g * y",
      .notes_doc = "overflows to +Inf above about 88 (float32) or 709 (float64)"};
  static_assert(op_definition_is_complete(def));
  return def;
}
const OpDef& op_def_log() {
  static constexpr OpDef def{.name = "log",
                             .arity = 1,
                             .shape = same_shape_as_first,
                             DAGPROP_KERNELS(log_forward),
                             .vjp = log_vjp,
                             .cost_per_element = 4,
                             .forward_doc = "y = ln(x)",
                             .gradient_doc = "dx = g / x",
                             .notes_doc = "x = 0 gives -Inf, x < 0 gives NaN"};
  static_assert(op_definition_is_complete(def));
  return def;
}
const OpDef& op_def_sqrt() {
  static constexpr OpDef def{.name = "sqrt",
                             .arity = 1,
                             .shape = same_shape_as_first,
                             DAGPROP_KERNELS(sqrt_forward),
                             .vjp = sqrt_vjp,
                             .cost_per_element = 2,
                             .forward_doc = "y = sqrt(x)",
                             .gradient_doc = "dx = g / (2 y)",
                             .notes_doc = "x < 0 gives NaN; the gradient at 0 is +Inf"};
  static_assert(op_definition_is_complete(def));
  return def;
}
const OpDef& op_def_abs() {
  static constexpr OpDef def{
      .name = "abs",
      .arity = 1,
      .shape = same_shape_as_first,
      DAGPROP_KERNELS(abs_forward),
      .vjp = abs_vjp,
      .forward_doc = "y = |x|",
      .gradient_doc = "dx = g * sign(x)",
      .notes_doc = "the derivative at 0 is taken as 0 (PyTorch's convention)"};
  static_assert(op_definition_is_complete(def));
  return def;
}

}  // namespace ops

Expr pow(Expr x, double exponent) {
  OpAttrs attrs;
  attrs.scalar = exponent;
  return ops::make(OpCode::pow, {x}, attrs);
}
Expr exp(Expr x) {
  return ops::make(OpCode::exp, {x});
}
Expr log(Expr x) {
  return ops::make(OpCode::log, {x});
}
Expr sqrt(Expr x) {
  return ops::make(OpCode::sqrt, {x});
}
Expr abs(Expr x) {
  return ops::make(OpCode::abs, {x});
}

}  // namespace dagprop
