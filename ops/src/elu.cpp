// elu(x; alpha) and its fused local gradient.
#include "op_helpers.hpp"

namespace dagprop {
namespace ops {
namespace {

// elu's and elu_grad's alpha, in the scalar field.
constexpr AttrSpec kEluAttributes[] = {{.name = "alpha",
                                        .kind = AttrKind::number,
                                        .slot = {.field = AttrField::scalar},
                                        .default_value = 1.0,
                                        .doc = "the value y approaches for x to -inf is -alpha"}};

template <class T>
void elu_forward(const KernelCall& c) {
  const T alpha = static_cast<T>(c.attrs.scalar);
  unary_kernel<T>(c, [alpha](T x) { return x > T(0) ? x : alpha * std::expm1(x); });
}
template <class T>
void elu_grad_forward(const KernelCall& c) {
  const T alpha = static_cast<T>(c.attrs.scalar);
  binary_kernel<T>(c, [alpha](T x, T g) { return x > T(0) ? g : g * alpha * std::exp(x); });
}

void elu_vjp(GradContext& c) {
  c.set(0, elu_grad(c.input(0), c.grad_output(), c.attrs().scalar));
}
void elu_grad_vjp(GradContext& c) {
  const Expr x = c.input(0), g = c.input(1), u = c.grad_output();
  const double alpha = c.attrs().scalar;
  // d/dx [g * alpha * e^x] on x <= 0 is the same expression; on x > 0 it is 0. elu_grad minus the
  // relu mask leaves exactly the x <= 0 part.
  if (c.wanted(0)) {
    const Expr ug = mul(u, g);
    c.set(0, sub(elu_grad(x, ug, alpha), relu_grad(x, ug)));
  }
  if (c.wanted(1)) c.set(1, elu_grad(x, u, alpha));
}

}  // namespace

const OpDef& op_def_elu() {
  static constexpr OpDef def{
      .name = "elu",
      .arity = 1,
      .shape = same_shape_as_first,
      DAGPROP_KERNELS(elu_forward),
      .vjp = elu_vjp,
      .cost_per_element = 6,
      .forward_doc = "y = x if x > 0 else alpha * (exp(x) - 1)",
      .gradient_doc = "dx = elu_grad(x, g) = g * (1 if x > 0 else alpha * exp(x))",
      .notes_doc = "expm1 keeps small negative x accurate",
      .attributes = kEluAttributes};
  static_assert(op_definition_is_complete(def));
  return def;
}
const OpDef& op_def_elu_grad() {
  static constexpr OpDef def{
      .name = "elu_grad",
      .arity = 2,
      .shape = equal_shapes,
      DAGPROP_KERNELS(elu_grad_forward),
      .vjp = elu_grad_vjp,
      .cost_per_element = 6,
      .forward_doc = "z = g * (1 if x > 0 else alpha * exp(x))",
      .gradient_doc = "dx = u * g * (0 if x > 0 else alpha * exp(x)), dg = elu_grad(x, u)",
      .operand_names = "x, g",
      .attributes = kEluAttributes};
  static_assert(op_definition_is_complete(def));
  return def;
}

}  // namespace ops

Expr elu(Expr x, double alpha) {
  OpAttrs attrs;
  attrs.scalar = alpha;
  return ops::make(OpCode::elu, {x}, attrs);
}
Expr elu_grad(Expr x, Expr g, double alpha) {
  OpAttrs attrs;
  attrs.scalar = alpha;
  return ops::make(OpCode::elu_grad, {x, g}, attrs);
}

}  // namespace dagprop
