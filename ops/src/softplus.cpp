// softplus, written so that it neither overflows nor loses the small tail.
#include <dagprop/activation_formulas.hpp>

#include "op_helpers.hpp"

namespace dagprop {
namespace ops {
namespace {

template <class T>
void softplus_forward(const KernelCall& c) {
  unary_kernel<T>(c, [](T x) { return formulas::softplus(x); });
}

void softplus_vjp(GradContext& c) {
  c.set(0, mul(c.grad_output(), sigmoid(c.input(0))));
}

}  // namespace

const OpDef& op_def_softplus() {
  static constexpr OpDef def{
      .name = "softplus",
      .arity = 1,
      .shape = same_shape_as_first,
      DAGPROP_KERNELS(softplus_forward),
      .vjp = softplus_vjp,
      .cost_per_element = 8,
      .forward_doc = "y = ln(1 + exp(x)) = max(x, 0) + log1p(exp(-|x|))",
      .gradient_doc = "dx = g * sigmoid(x)",
      .notes_doc = "finite for any finite x: softplus(800) = 800, softplus(-800) = 0"};
  static_assert(op_definition_is_complete(def));
  return def;
}

}  // namespace ops

Expr softplus(Expr x) {
  return ops::make(OpCode::softplus, {x});
}

}  // namespace dagprop
