// weighted_sum(x, w, b) = sum over the last axis of x * w, plus b: the seed's neuron
// (x1 w1 + x2 w2 + b), on one example or a batch. Products are added left to right and b last.
#include "op_helpers.hpp"

namespace dagprop {
namespace ops {
namespace {

Shape weighted_sum_shape(const ShapeQuery& q) {
  const Shape product = broadcast_shapes(q.inputs[0], q.inputs[1]);
  if (product.rank() == 0) {
    throw Error("weighted_sum needs x and w with a last axis to sum over, got " +
                q.inputs[0].to_string() + " and " + q.inputs[1].to_string());
  }
  const Shape out(product.dims().first(static_cast<std::size_t>(product.rank() - 1)));
  if (!(broadcast_shapes(out, q.inputs[2]) == out)) {
    throw Error("weighted_sum: the bias of shape " + q.inputs[2].to_string() +
                " must broadcast to the output shape " + out.to_string());
  }
  return out;
}

template <class T>
void weighted_sum_forward(const KernelCall& c) {
  const Shape& sx = *c.inputs[0].shape;
  const Shape& sw = *c.inputs[1].shape;
  const Shape product = broadcast_shapes(sx, sw);
  const auto stride_x = broadcast_strides(sx, product);
  const auto stride_w = broadcast_strides(sw, product);
  const auto stride_b = broadcast_strides(*c.inputs[2].shape, *c.output.shape);
  const int rank = product.rank();
  const std::int64_t n = product[rank - 1];
  const std::int64_t ix = stride_x[static_cast<std::size_t>(rank - 1)];
  const std::int64_t iw = stride_w[static_cast<std::size_t>(rank - 1)];
  const T* x = c.inputs[0].as<T>();
  const T* w = c.inputs[1].as<T>();
  const T* b = c.inputs[2].as<T>();
  T* y = c.output.as<T>();
  for_each_chunk(
      c.output.numel(),
      [&](std::int64_t begin, std::int64_t end) {
        for (std::int64_t row = begin; row < end; ++row) {
          std::int64_t off_x = 0, off_w = 0, off_b = 0, rest = row;
          for (int d = rank - 2; d >= 0; --d) {
            const std::int64_t index = rest % product[d];
            rest /= product[d];
            off_x += index * stride_x[static_cast<std::size_t>(d)];
            off_w += index * stride_w[static_cast<std::size_t>(d)];
            off_b += index * stride_b[static_cast<std::size_t>(d)];
          }
          T acc = T(0);
          for (std::int64_t j = 0; j < n; ++j) acc += x[off_x + j * ix] * w[off_w + j * iw];
          y[row] = acc + b[off_b];
        }
      },
      n);
}

void weighted_sum_vjp(GradContext& c) {
  const Expr x = c.input(0), w = c.input(1), b = c.input(2), g = c.grad_output();
  std::vector<std::int64_t> with_unit(g.shape().dims().begin(), g.shape().dims().end());
  with_unit.push_back(1);
  const Expr g_column = reshape(g, with_unit);  // g against the summed axis
  if (c.wanted(0)) c.set(0, sum_to(mul(g_column, w), x.shape()));
  if (c.wanted(1)) c.set(1, sum_to(mul(g_column, x), w.shape()));
  if (c.wanted(2)) c.set(2, sum_to(g, b.shape()));
}

}  // namespace

const OpDef& op_def_weighted_sum() {
  static constexpr OpDef def{
      .name = "weighted_sum",
      .arity = 3,
      .shape = weighted_sum_shape,
      DAGPROP_KERNELS(weighted_sum_forward),
      .vjp = weighted_sum_vjp,
      .cost_per_element = 2,
      .forward_doc = "y = sum_j x[..., j] * w[..., j] + b",
      .gradient_doc = "dx = g * w, dw = sum over the batch of g * x, db = sum_to(g)",
      .operand_names = "x, w, b"};
  static_assert(op_definition_is_complete(def));
  return def;
}

}  // namespace ops

Expr weighted_sum(Expr x, Expr w, Expr b) {
  return ops::make(OpCode::weighted_sum, {x, w, b});
}

}  // namespace dagprop
