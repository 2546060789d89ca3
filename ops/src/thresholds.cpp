// step, step_ste, sign and stop_gradient: ops whose gradient is a stated choice, not a derivative.
#include "op_helpers.hpp"

namespace dagprop {
namespace ops {
namespace {

template <class T>
void step_forward(const KernelCall& c) {
  unary_kernel<T>(c, [](T x) { return x > T(0) ? T(1) : T(0); });
}
template <class T>
void sign_forward(const KernelCall& c) {
  unary_kernel<T>(c, [](T x) { return x > T(0) ? T(1) : (x < T(0) ? T(-1) : T(0)); });
}
template <class T>
void identity_forward(const KernelCall& c) {
  unary_kernel<T>(c, [](T x) { return x; });
}

// The straight-through estimator: backward treats the step as the identity.
void step_ste_vjp(GradContext& c) {
  c.set(0, c.grad_output());
}

}  // namespace

const OpDef& op_def_step() {
  static constexpr OpDef def{
      .name = "step",
      .arity = 1,
      .shape = same_shape_as_first,
      DAGPROP_KERNELS(step_forward),
      .grad_kind = GradKind::zero,
      .forward_doc = "y = 1 if x > 0 else 0 (Heaviside)",
      .gradient_doc =
          "dx = 0 (zero wherever the derivative exists; use step_ste to train through it)",
      .units = UnitKind::rectifier};
  static_assert(op_definition_is_complete(def));
  return def;
}
const OpDef& op_def_step_ste() {
  static constexpr OpDef def{.name = "step_ste",
                             .arity = 1,
                             .shape = same_shape_as_first,
                             DAGPROP_KERNELS(step_forward),
                             .vjp = step_ste_vjp,
                             .grad_kind = GradKind::straight_through,
                             .forward_doc = "y = 1 if x > 0 else 0 (Heaviside)",
                             .gradient_doc = "dx = g (straight-through estimator)",
                             .units = UnitKind::rectifier};
  static_assert(op_definition_is_complete(def));
  return def;
}
const OpDef& op_def_sign() {
  static constexpr OpDef def{.name = "sign",
                             .arity = 1,
                             .shape = same_shape_as_first,
                             DAGPROP_KERNELS(sign_forward),
                             .grad_kind = GradKind::zero,
                             .forward_doc = "y = 1 if x > 0, -1 if x < 0, else 0",
                             .gradient_doc = "dx = 0"};
  static_assert(op_definition_is_complete(def));
  return def;
}
const OpDef& op_def_stop_gradient() {
  static constexpr OpDef def{.name = "stop_gradient",
                             .arity = 1,
                             .shape = same_shape_as_first,
                             DAGPROP_KERNELS(identity_forward),
                             .grad_kind = GradKind::zero,
                             .forward_doc = "y = x",
                             .gradient_doc = "dx = 0 (detach: no gradient flows back)"};
  static_assert(op_definition_is_complete(def));
  return def;
}

}  // namespace ops

Expr step(Expr x) {
  return ops::make(OpCode::step, {x});
}
Expr step_ste(Expr x) {
  return ops::make(OpCode::step_ste, {x});
}
Expr sign(Expr x) {
  return ops::make(OpCode::sign, {x});
}
Expr stop_gradient(Expr x) {
  return ops::make(OpCode::stop_gradient, {x});
}

}  // namespace dagprop
