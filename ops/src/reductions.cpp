// sum and mean, over all elements or along one axis (keepdim keeps it as size 1).
#include "op_helpers.hpp"

namespace dagprop {
namespace ops {
namespace {

// sum's and mean's: one axis or all of them.
constexpr AttrSpec kReductionAttributes[] = {
    {.name = "axis",
     .kind = AttrKind::integer,
     .slot = {.field = AttrField::axis},
     .default_value = -1,
     .doc = "the axis reduced when all_axes is false (negative: from the end)"},
    {.name = "keepdim",
     .kind = AttrKind::boolean,
     .slot = {.field = AttrField::keepdim},
     .doc = "keep the reduced axis, of size 1"},
    {.name = "all_axes",
     .kind = AttrKind::boolean,
     .slot = {.field = AttrField::all_axes},
     .default_value = 1,
     .doc = "reduce every axis to a scalar (axis is then not read)"}};

struct ReductionLayout {
  std::int64_t outer = 1, extent = 1, inner = 1;
};

ReductionLayout layout_of(const Shape& shape, const OpAttrs& attrs) {
  ReductionLayout layout;
  if (attrs.all_axes) {
    layout.extent = shape.numel();
    return layout;
  }
  const int axis = shape.normalize_axis(attrs.axis);
  for (int d = 0; d < axis; ++d) layout.outer *= shape[d];
  layout.extent = shape[axis];
  for (int d = axis + 1; d < shape.rank(); ++d) layout.inner *= shape[d];
  return layout;
}

Shape reduced_shape(const ShapeQuery& q) {
  const Shape& x = q.inputs[0];
  std::vector<std::int64_t> dims;
  if (q.attrs.all_axes) {
    if (q.attrs.keepdim) dims.assign(static_cast<std::size_t>(x.rank()), 1);
    return Shape(dims);
  }
  const int axis = x.normalize_axis(q.attrs.axis);
  for (int d = 0; d < x.rank(); ++d) {
    if (d != axis) {
      dims.push_back(x[d]);
    } else if (q.attrs.keepdim) {
      dims.push_back(1);
    }
  }
  return Shape(dims);
}

// Sums in double (float inputs too), left to right within fixed chunks: the bits do not depend on
// threads.
template <class T>
void reduce(const KernelCall& c, bool average) {
  const T* x = c.inputs[0].as<T>();
  T* y = c.output.as<T>();
  const ReductionLayout l = layout_of(*c.inputs[0].shape, c.attrs);
  const double divisor = average ? static_cast<double>(l.extent) : 1.0;
  if (l.outer == 1 && l.inner == 1) {
    const double total = chunked_sum<double>(l.extent, [x](std::int64_t begin, std::int64_t end) {
      double acc = 0;
      for (std::int64_t i = begin; i < end; ++i) acc += x[i];
      return acc;
    });
    y[0] = static_cast<T>(total / divisor);
    return;
  }
  for_each_chunk(
      l.outer * l.inner,
      [&](std::int64_t begin, std::int64_t end) {
        for (std::int64_t o = begin; o < end; ++o) {
          const std::int64_t outer = o / l.inner, inner = o % l.inner;
          const T* base = x + outer * l.extent * l.inner + inner;
          double acc = 0;
          for (std::int64_t k = 0; k < l.extent; ++k) acc += base[k * l.inner];
          y[o] = static_cast<T>(acc / divisor);
        }
      },
      l.extent);
}

template <class T>
void sum_forward(const KernelCall& c) {
  reduce<T>(c, false);
}
template <class T>
void mean_forward(const KernelCall& c) {
  reduce<T>(c, true);
}

// The gradient of a reduction spreads g back over the reduced axis.
Expr spread_back(GradContext& c) {
  const Shape& x = c.input(0).shape();
  const OpAttrs& a = c.attrs();
  std::vector<std::int64_t> kept(x.dims().begin(), x.dims().end());
  if (a.all_axes) {
    kept.assign(kept.size(), 1);
  } else {
    kept[static_cast<std::size_t>(x.normalize_axis(a.axis))] = 1;
  }
  return broadcast_to(reshape(c.grad_output(), kept), x);
}
void sum_vjp(GradContext& c) {
  c.set(0, spread_back(c));
}
void mean_vjp(GradContext& c) {
  const Shape& x = c.input(0).shape();
  const double count = c.attrs().all_axes
                           ? static_cast<double>(x.numel())
                           : static_cast<double>(x[x.normalize_axis(c.attrs().axis)]);
  c.set(0, scale(spread_back(c), 1.0 / count));
}

OpAttrs reduction_attrs(int axis, bool keepdim, bool all_axes) {
  OpAttrs attrs;
  attrs.axis = axis;
  attrs.keepdim = keepdim;
  attrs.all_axes = all_axes;
  return attrs;
}

}  // namespace

const OpDef& op_def_sum() {
  static constexpr OpDef def{
      .name = "sum",
      .arity = 1,
      .shape = reduced_shape,
      DAGPROP_KERNELS(sum_forward),
      .vjp = sum_vjp,
      .cost_per_element = kFloat64AccumulationCost,
      .forward_doc = "y = sum of x (all elements, or along an axis)",
      .gradient_doc = "dx = broadcast_to(g, x.shape)",
      .notes_doc = "accumulated in float64 in fixed chunks: the same bits for any thread count",
      .attributes = kReductionAttributes};
  static_assert(op_definition_is_complete(def));
  return def;
}
const OpDef& op_def_mean() {
  static constexpr OpDef def{.name = "mean",
                             .arity = 1,
                             .shape = reduced_shape,
                             DAGPROP_KERNELS(mean_forward),
                             .vjp = mean_vjp,
                             .cost_per_element = kFloat64AccumulationCost,
                             .forward_doc = "y = sum of x / count",
                             .gradient_doc = "dx = broadcast_to(g, x.shape) / count",
                             .attributes = kReductionAttributes};
  static_assert(op_definition_is_complete(def));
  return def;
}

}  // namespace ops

Expr sum(Expr x) {
  return ops::make(OpCode::sum, {x}, ops::reduction_attrs(-1, false, true));
}
Expr sum(Expr x, int axis, bool keepdim) {
  return ops::make(OpCode::sum, {x}, ops::reduction_attrs(axis, keepdim, false));
}
Expr mean(Expr x) {
  return ops::make(OpCode::mean, {x}, ops::reduction_attrs(-1, false, true));
}
Expr mean(Expr x, int axis, bool keepdim) {
  return ops::make(OpCode::mean, {x}, ops::reduction_attrs(axis, keepdim, false));
}

}  // namespace dagprop
