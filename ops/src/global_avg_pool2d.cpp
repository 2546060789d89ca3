// global_avg_pool2d: [N, C, H, W] -> [N, C], the mean of each feature map (accumulated in double,
// like the other reductions). Its gradient spreads g / (H W) back over the map with existing ops.
#include "op_helpers.hpp"

namespace dagprop {
namespace ops {
namespace {

Shape global_avg_pool2d_shape(const ShapeQuery& q) {
  const Shape& x = q.inputs[0];
  if (x.rank() != 4 || x[2] * x[3] == 0) {
    throw Error("global_avg_pool2d takes images [N, C, H, W] with H, W >= 1, got " + x.to_string() +
                "; reshape a single image to [1, C, H, W]");
  }
  return Shape{x[0], x[1]};
}

template <class T>
void global_avg_pool2d_forward(const KernelCall& c) {
  const Shape& x_shape = *c.inputs[0].shape;
  const std::int64_t plane = x_shape[2] * x_shape[3];
  const T* x = c.inputs[0].as<T>();
  T* y = c.output.as<T>();
  for_each_chunk(
      c.output.numel(),
      [&](std::int64_t begin, std::int64_t end) {
        for (std::int64_t p = begin; p < end; ++p) {
          Accumulator<T> total = 0;
          for (std::int64_t i = 0; i < plane; ++i) total += x[p * plane + i];
          y[p] = static_cast<T>(total / static_cast<double>(plane));
        }
      },
      plane);
}

void global_avg_pool2d_vjp(GradContext& c) {
  const Shape& x = c.input(0).shape();
  const Expr per_map = reshape(c.grad_output(), {x[0], x[1], 1, 1});
  c.set(0, broadcast_to(scale(per_map, 1.0 / static_cast<double>(x[2] * x[3])), x));
}

}  // namespace

const OpDef& op_def_global_avg_pool2d() {
  static constexpr OpDef def{.name = "global_avg_pool2d",
                             .arity = 1,
                             .shape = global_avg_pool2d_shape,
                             DAGPROP_KERNELS(global_avg_pool2d_forward),
                             .vjp = global_avg_pool2d_vjp,
                             .cost_per_element = kFloat64AccumulationCost,
                             .forward_doc = "y[n, c] = mean of x[n, c, :, :]",
                             .gradient_doc = "dx = broadcast_to(g[n, c] / (H W), x's shape)",
                             .notes_doc = "float sums are carried in double"};
  static_assert(op_definition_is_complete(def));
  return def;
}

}  // namespace ops

Expr global_avg_pool2d(Expr x) {
  return ops::make(OpCode::global_avg_pool2d, {x});
}

}  // namespace dagprop
