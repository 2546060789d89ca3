// softmax and log_softmax over the last axis, with their fused local gradients. The row maximum is
// subtracted before exp, so no input magnitude overflows.
#include "op_helpers.hpp"

namespace dagprop {
namespace ops {
namespace {

Shape last_axis_shape(const ShapeQuery& q) {
  if (q.inputs[0].rank() == 0) throw Error("softmax needs an axis of classes; got a scalar");
  for (std::size_t i = 1; i < q.inputs.size(); ++i) {
    if (!(q.inputs[i] == q.inputs[0])) {
      throw Error("inputs must have the same shape, got " + q.inputs[0].to_string() + " and " +
                  q.inputs[i].to_string());
    }
  }
  return q.inputs[0];
}

template <class T, class F>
void for_each_row(const KernelCall& c, F f) {
  const Shape& shape = *c.output.shape;
  const std::int64_t n = shape[shape.rank() - 1];
  const std::int64_t rows = n == 0 ? 0 : shape.numel() / n;
  for_each_chunk(
      rows,
      [&](std::int64_t begin, std::int64_t end) {
        for (std::int64_t r = begin; r < end; ++r) f(r * n, n);
      },
      n);
}

template <class T>
void softmax_forward(const KernelCall& c) {
  const T* x = c.inputs[0].as<T>();
  T* y = c.output.as<T>();
  for_each_row<T>(c, [&](std::int64_t o, std::int64_t n) {
    T max = x[o];
    for (std::int64_t j = 1; j < n; ++j) max = std::max(max, x[o + j]);
    double total = 0;
    for (std::int64_t j = 0; j < n; ++j) {
      y[o + j] = std::exp(x[o + j] - max);
      total += y[o + j];
    }
    const T inv = static_cast<T>(1.0 / total);
    for (std::int64_t j = 0; j < n; ++j) y[o + j] *= inv;
  });
}
template <class T>
void log_softmax_forward(const KernelCall& c) {
  const T* x = c.inputs[0].as<T>();
  T* y = c.output.as<T>();
  for_each_row<T>(c, [&](std::int64_t o, std::int64_t n) {
    T max = x[o];
    for (std::int64_t j = 1; j < n; ++j) max = std::max(max, x[o + j]);
    double total = 0;
    for (std::int64_t j = 0; j < n; ++j) total += std::exp(static_cast<double>(x[o + j] - max));
    const T log_total = static_cast<T>(std::log(total));
    for (std::int64_t j = 0; j < n; ++j) y[o + j] = x[o + j] - max - log_total;
  });
}
// z = y * (g - sum(g * y))
template <class T>
void softmax_grad_forward(const KernelCall& c) {
  const T* y = c.inputs[0].as<T>();
  const T* g = c.inputs[1].as<T>();
  T* z = c.output.as<T>();
  for_each_row<T>(c, [&](std::int64_t o, std::int64_t n) {
    double dot = 0;
    for (std::int64_t j = 0; j < n; ++j) dot += static_cast<double>(g[o + j]) * y[o + j];
    for (std::int64_t j = 0; j < n; ++j) z[o + j] = y[o + j] * (g[o + j] - static_cast<T>(dot));
  });
}
// z = g - exp(y) * sum(g)
template <class T>
void log_softmax_grad_forward(const KernelCall& c) {
  const T* y = c.inputs[0].as<T>();
  const T* g = c.inputs[1].as<T>();
  T* z = c.output.as<T>();
  for_each_row<T>(c, [&](std::int64_t o, std::int64_t n) {
    double total = 0;
    for (std::int64_t j = 0; j < n; ++j) total += g[o + j];
    for (std::int64_t j = 0; j < n; ++j)
      z[o + j] = g[o + j] - std::exp(y[o + j]) * static_cast<T>(total);
  });
}

void softmax_vjp(GradContext& c) {
  c.set(0, softmax_grad(c.output(), c.grad_output()));
}
void log_softmax_vjp(GradContext& c) {
  c.set(0, log_softmax_grad(c.output(), c.grad_output()));
}
void softmax_grad_vjp(GradContext& c) {
  const Expr y = c.input(0), g = c.input(1), u = c.grad_output();
  if (c.wanted(0)) {
    const Expr s = sum(mul(g, y), -1, true);
    c.set(0, sub(mul(u, sub(g, s)), mul(g, sum(mul(u, y), -1, true))));
  }
  if (c.wanted(1)) c.set(1, softmax_grad(y, u));
}
void log_softmax_grad_vjp(GradContext& c) {
  const Expr y = c.input(0), g = c.input(1), u = c.grad_output();
  const Expr p = exp(y);
  if (c.wanted(0)) c.set(0, neg(mul(mul(u, p), sum(g, -1, true))));
  if (c.wanted(1)) c.set(1, sub(u, sum(mul(u, p), -1, true)));
}

}  // namespace

const OpDef& op_def_softmax() {
  static constexpr OpDef def{
      .name = "softmax",
      .arity = 1,
      .shape = last_axis_shape,
      DAGPROP_KERNELS(softmax_forward),
      .vjp = softmax_vjp,
      .cost_per_element = 6,
      .forward_doc = "y_j = exp(x_j) / sum_k exp(x_k) (last axis)",
      .gradient_doc = "dx = softmax_grad(y, g) = y * (g - sum(g * y))",
      .notes_doc = "the row maximum is subtracted first: finite for any finite input"};
  static_assert(op_definition_is_complete(def));
  return def;
}
const OpDef& op_def_log_softmax() {
  static constexpr OpDef def{
      .name = "log_softmax",
      .arity = 1,
      .shape = last_axis_shape,
      DAGPROP_KERNELS(log_softmax_forward),
      .vjp = log_softmax_vjp,
      .cost_per_element = 6,
      .forward_doc = "y_j = x_j - max - ln(sum_k exp(x_k - max)) (last axis)",
      .gradient_doc = "dx = log_softmax_grad(y, g) = g - exp(y) * sum(g)",
      .notes_doc = "finite for any finite input: [800, -800] gives [0, -1600]"};
  static_assert(op_definition_is_complete(def));
  return def;
}
const OpDef& op_def_softmax_grad() {
  static constexpr OpDef def{
      .name = "softmax_grad",
      .arity = 2,
      .shape = last_axis_shape,
      DAGPROP_KERNELS(softmax_grad_forward),
      .vjp = softmax_grad_vjp,
      .cost_per_element = 3,
      .forward_doc = "z = y * (g - sum(g * y))",
      .gradient_doc = "dy = u * (g - sum(g y)) - g * sum(u y), dg = softmax_grad(y, u)",
      .operand_names = "y, g"};
  static_assert(op_definition_is_complete(def));
  return def;
}
const OpDef& op_def_log_softmax_grad() {
  static constexpr OpDef def{.name = "log_softmax_grad",
                             .arity = 2,
                             .shape = last_axis_shape,
                             DAGPROP_KERNELS(log_softmax_grad_forward),
                             .vjp = log_softmax_grad_vjp,
                             .cost_per_element = 5,
                             .forward_doc = "z = g - exp(y) * sum(g)",
                             .gradient_doc = "dy = -u * exp(y) * sum(g), dg = u - sum(u * exp(y))",
                             .operand_names = "y, g"};
  static_assert(op_definition_is_complete(def));
  return def;
}

}  // namespace ops

Expr softmax(Expr x) {
  return ops::make(OpCode::softmax, {x});
}
Expr log_softmax(Expr x) {
  return ops::make(OpCode::log_softmax, {x});
}
Expr softmax_grad(Expr y, Expr g) {
  return ops::make(OpCode::softmax_grad, {y, g});
}
Expr log_softmax_grad(Expr y, Expr g) {
  return ops::make(OpCode::log_softmax_grad, {y, g});
}

}  // namespace dagprop
