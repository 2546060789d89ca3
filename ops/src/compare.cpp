// maximum, minimum and where (elementwise choices, numpy broadcasting) and the comparisons that
// produce masks of 1 and 0 in the operands' dtype: greater, greater_equal, less, less_equal,
// equal, not_equal. A mask's derivative is zero wherever it exists, and the table says so.
#include <cmath>

#include "op_helpers.hpp"

namespace dagprop {
namespace ops {
namespace {

// ---- comparisons (NaN compares false, except not_equal)

template <class T>
void greater_forward(const KernelCall& c) {
  binary_kernel<T>(c, [](T a, T b) { return a > b ? T(1) : T(0); });
}
template <class T>
void greater_equal_forward(const KernelCall& c) {
  binary_kernel<T>(c, [](T a, T b) { return a >= b ? T(1) : T(0); });
}
template <class T>
void less_forward(const KernelCall& c) {
  binary_kernel<T>(c, [](T a, T b) { return a < b ? T(1) : T(0); });
}
template <class T>
void less_equal_forward(const KernelCall& c) {
  binary_kernel<T>(c, [](T a, T b) { return a <= b ? T(1) : T(0); });
}
template <class T>
void equal_forward(const KernelCall& c) {
  binary_kernel<T>(c, [](T a, T b) { return a == b ? T(1) : T(0); });
}
template <class T>
void not_equal_forward(const KernelCall& c) {
  binary_kernel<T>(c, [](T a, T b) { return a != b ? T(1) : T(0); });
}

constexpr OpDef comparison(std::string_view name, ForwardKernel f32, ForwardKernel f64,
                           std::string_view forward_doc) {
  return OpDef{.name = name,
               .arity = 2,
               .shape = broadcast_inputs,
               .forward_f32 = f32,
               .forward_f64 = f64,
               .grad_kind = GradKind::zero,
               .forward_doc = forward_doc,
               .gradient_doc = "zero (a mask is piecewise constant)",
               .notes_doc =
                   "a mask of 1 and 0 in the operands' dtype; NaN compares false (true "
                   "for not_equal)",
               .operand_names = "a, b"};
}

// ---- maximum and minimum: NaN in either operand gives NaN

template <class T>
void maximum_forward(const KernelCall& c) {
  binary_kernel<T>(c, [](T a, T b) { return (a >= b || std::isnan(a)) ? a : b; });
}
template <class T>
void minimum_forward(const KernelCall& c) {
  binary_kernel<T>(c, [](T a, T b) { return (a <= b || std::isnan(a)) ? a : b; });
}

// At a tie the whole gradient goes to the first operand: the masks a >= b and a < b (for minimum
// a <= b and a > b) cover every element exactly once.
void maximum_vjp(GradContext& c) {
  const Expr a = c.input(0), b = c.input(1), g = c.grad_output();
  if (c.wanted(0)) c.set(0, sum_to(mul(g, greater_equal(a, b)), a.shape()));
  if (c.wanted(1)) c.set(1, sum_to(mul(g, less(a, b)), b.shape()));
}
void minimum_vjp(GradContext& c) {
  const Expr a = c.input(0), b = c.input(1), g = c.grad_output();
  if (c.wanted(0)) c.set(0, sum_to(mul(g, less_equal(a, b)), a.shape()));
  if (c.wanted(1)) c.set(1, sum_to(mul(g, greater(a, b)), b.shape()));
}

// ---- where(condition, a, b) = condition != 0 ? a : b

Shape where_shape(const ShapeQuery& q) {
  return broadcast_shapes(broadcast_shapes(q.inputs[0], q.inputs[1]), q.inputs[2]);
}

template <class T>
void where_forward(const KernelCall& c) {
  const Shape& out = *c.output.shape;
  const auto sc = broadcast_strides(*c.inputs[0].shape, out);
  const auto sa = broadcast_strides(*c.inputs[1].shape, out);
  const auto sb = broadcast_strides(*c.inputs[2].shape, out);
  const T* cond = c.inputs[0].as<T>();
  const T* a = c.inputs[1].as<T>();
  const T* b = c.inputs[2].as<T>();
  T* y = c.output.as<T>();
  const int rank = out.rank();
  for_each_element_chunk(out.numel(), [&](std::int64_t begin, std::int64_t end) {
    for (std::int64_t p = begin; p < end; ++p) {
      std::int64_t oc = 0, oa = 0, ob = 0, rest = p;
      for (int d = rank - 1; d >= 0; --d) {
        const std::int64_t index = rest % out[d];
        rest /= out[d];
        const auto k = static_cast<std::size_t>(d);
        oc += index * sc[k];
        oa += index * sa[k];
        ob += index * sb[k];
      }
      y[p] = cond[oc] != T(0) ? a[oa] : b[ob];
    }
  });
}

void where_vjp(GradContext& c) {
  const Expr cond = c.input(0), g = c.grad_output();
  const Expr zero = scalar_like(g, 0.0);
  if (c.wanted(1)) c.set(1, sum_to(where(cond, g, zero), c.input(1).shape()));
  if (c.wanted(2)) c.set(2, sum_to(where(cond, zero, g), c.input(2).shape()));
}

}  // namespace

const OpDef& op_def_maximum() {
  static constexpr OpDef def{
      .name = "maximum",
      .arity = 2,
      .shape = broadcast_inputs,
      DAGPROP_KERNELS(maximum_forward),
      .vjp = maximum_vjp,
      .forward_doc = "y = max(a, b) elementwise",
      .gradient_doc = "da = sum_to(g (a >= b)), db = sum_to(g (a < b))",
      .notes_doc = "at a tie (a == b) the whole gradient goes to a; NaN in either gives NaN",
      .operand_names = "a, b"};
  static_assert(op_definition_is_complete(def));
  return def;
}
const OpDef& op_def_minimum() {
  static constexpr OpDef def{
      .name = "minimum",
      .arity = 2,
      .shape = broadcast_inputs,
      DAGPROP_KERNELS(minimum_forward),
      .vjp = minimum_vjp,
      .forward_doc = "y = min(a, b) elementwise",
      .gradient_doc = "da = sum_to(g (a <= b)), db = sum_to(g (a > b))",
      .notes_doc = "at a tie (a == b) the whole gradient goes to a; NaN in either gives NaN",
      .operand_names = "a, b"};
  static_assert(op_definition_is_complete(def));
  return def;
}
const OpDef& op_def_where() {
  static constexpr OpDef def{
      .name = "where",
      .arity = 3,
      .shape = where_shape,
      DAGPROP_KERNELS(where_forward),
      .vjp = where_vjp,
      .nondifferentiable_inputs = 0b001,
      .forward_doc = "y = condition != 0 ? a : b (the three broadcast)",
      .gradient_doc = "da = sum_to(where(condition, g, 0)), db = sum_to(where(condition, 0, g))",
      .notes_doc =
          "the condition is a mask (any nonzero is true; NaN is true) and carries no "
          "gradient; the branch not taken gets exactly zero, even where it is NaN",
      .operand_names = "condition, a, b"};
  static_assert(op_definition_is_complete(def));
  return def;
}
const OpDef& op_def_greater() {
  static constexpr OpDef def =
      comparison("greater", &greater_forward<float>, &greater_forward<double>, "y = a > b ? 1 : 0");
  static_assert(op_definition_is_complete(def));
  return def;
}
const OpDef& op_def_greater_equal() {
  static constexpr OpDef def = comparison("greater_equal", &greater_equal_forward<float>,
                                          &greater_equal_forward<double>, "y = a >= b ? 1 : 0");
  static_assert(op_definition_is_complete(def));
  return def;
}
const OpDef& op_def_less() {
  static constexpr OpDef def =
      comparison("less", &less_forward<float>, &less_forward<double>, "y = a < b ? 1 : 0");
  static_assert(op_definition_is_complete(def));
  return def;
}
const OpDef& op_def_less_equal() {
  static constexpr OpDef def = comparison("less_equal", &less_equal_forward<float>,
                                          &less_equal_forward<double>, "y = a <= b ? 1 : 0");
  static_assert(op_definition_is_complete(def));
  return def;
}
const OpDef& op_def_equal() {
  static constexpr OpDef def =
      comparison("equal", &equal_forward<float>, &equal_forward<double>, "y = a == b ? 1 : 0");
  static_assert(op_definition_is_complete(def));
  return def;
}
const OpDef& op_def_not_equal() {
  static constexpr OpDef def = comparison("not_equal", &not_equal_forward<float>,
                                          &not_equal_forward<double>, "y = a != b ? 1 : 0");
  static_assert(op_definition_is_complete(def));
  return def;
}

}  // namespace ops

Expr maximum(Expr a, Expr b) {
  return ops::make(OpCode::maximum, {a, b});
}
Expr minimum(Expr a, Expr b) {
  return ops::make(OpCode::minimum, {a, b});
}
Expr where(Expr condition, Expr a, Expr b) {
  return ops::make(OpCode::where, {condition, a, b});
}
Expr greater(Expr a, Expr b) {
  return ops::make(OpCode::greater, {a, b});
}
Expr greater_equal(Expr a, Expr b) {
  return ops::make(OpCode::greater_equal, {a, b});
}
Expr less(Expr a, Expr b) {
  return ops::make(OpCode::less, {a, b});
}
Expr less_equal(Expr a, Expr b) {
  return ops::make(OpCode::less_equal, {a, b});
}
Expr equal(Expr a, Expr b) {
  return ops::make(OpCode::equal, {a, b});
}
Expr not_equal(Expr a, Expr b) {
  return ops::make(OpCode::not_equal, {a, b});
}

}  // namespace dagprop
