// max, min, argmax and argmin along one axis (keepdim keeps it as size 1). The gradient of max
// and min goes to the first extreme element along the axis (the one argmax/argmin names), like
// PyTorch's max(dim); positions are stored as whole numbers in the input's dtype.
#include <cmath>

#include "op_helpers.hpp"

namespace dagprop {
namespace ops {
namespace {

// max's, min's, argmax's and argmin's: the axis searched.
constexpr AttrSpec kExtremumAttributes[] = {{.name = "axis",
                                             .kind = AttrKind::integer,
                                             .slot = {.field = AttrField::axis},
                                             .default_value = -1,
                                             .doc = "the axis searched (negative: from the end)"},
                                            {.name = "keepdim",
                                             .kind = AttrKind::boolean,
                                             .slot = {.field = AttrField::keepdim},
                                             .doc = "keep the reduced axis, of size 1"}};

Shape extremum_shape(const ShapeQuery& q) {
  const Shape& x = q.inputs[0];
  if (x.rank() == 0) throw Error("a reduction over an axis needs rank 1 or more, got a scalar");
  const int axis = x.normalize_axis(q.attrs.axis);
  if (x[axis] == 0) {
    throw Error("max/min/argmax/argmin over axis " + std::to_string(axis) + " of " + x.to_string() +
                ": the axis is empty, so there is no extreme element");
  }
  std::vector<std::int64_t> dims;
  for (int d = 0; d < x.rank(); ++d) {
    if (d != axis) {
      dims.push_back(x[d]);
    } else if (q.attrs.keepdim) {
      dims.push_back(1);
    }
  }
  return Shape(dims);
}

// The position of the first extreme element of each line; the first NaN wins over any number, so
// a NaN propagates to max and min.
template <class T, bool kMax, bool kIndex>
void extremum_forward(const KernelCall& c) {
  const Shape& xs = *c.inputs[0].shape;
  const int axis = xs.normalize_axis(c.attrs.axis);
  std::int64_t outer = 1, inner = 1;
  for (int d = 0; d < axis; ++d) outer *= xs[d];
  for (int d = axis + 1; d < xs.rank(); ++d) inner *= xs[d];
  const std::int64_t extent = xs[axis];
  const T* x = c.inputs[0].as<T>();
  T* y = c.output.as<T>();
  for_each_chunk(
      outer * inner,
      [&](std::int64_t begin, std::int64_t end) {
        for (std::int64_t p = begin; p < end; ++p) {
          const T* line = x + (p / inner) * extent * inner + p % inner;
          std::int64_t best = 0;
          for (std::int64_t k = 1; k < extent; ++k) {
            const T v = line[k * inner], b = line[best * inner];
            if (std::isnan(b)) break;
            if (std::isnan(v) || (kMax ? v > b : v < b)) best = k;
          }
          y[p] = kIndex ? static_cast<T>(best) : line[best * inner];
        }
      },
      extent);
}
template <class T>
void max_forward(const KernelCall& c) {
  extremum_forward<T, true, false>(c);
}
template <class T>
void min_forward(const KernelCall& c) {
  extremum_forward<T, false, false>(c);
}
template <class T>
void argmax_forward(const KernelCall& c) {
  extremum_forward<T, true, true>(c);
}
template <class T>
void argmin_forward(const KernelCall& c) {
  extremum_forward<T, false, true>(c);
}

OpAttrs axis_attrs(int axis, bool keepdim) {
  OpAttrs attrs;
  attrs.axis = axis;
  attrs.keepdim = keepdim;
  return attrs;
}

// dx = scatter_add of g (with the axis kept) to the position of the first extreme element.
void extremum_vjp(GradContext& c, OpCode position_op) {
  const Expr x = c.input(0);
  const int axis = x.shape().normalize_axis(c.attrs().axis);
  std::vector<std::int64_t> kept(x.shape().dims().begin(), x.shape().dims().end());
  kept[static_cast<std::size_t>(axis)] = 1;
  const Expr position = make(position_op, {x}, axis_attrs(axis, true));
  OpAttrs scatter;
  scatter.axis = axis;
  scatter.shape = x.shape();
  c.set(0, make(OpCode::scatter_add, {reshape(c.grad_output(), kept), position}, scatter));
}
void max_vjp(GradContext& c) {
  extremum_vjp(c, OpCode::argmax);
}
void min_vjp(GradContext& c) {
  extremum_vjp(c, OpCode::argmin);
}

constexpr OpDef position_def(std::string_view name, ForwardKernel f32, ForwardKernel f64,
                             std::string_view forward_doc) {
  return OpDef{.name = name,
               .arity = 1,
               .shape = extremum_shape,
               .forward_f32 = f32,
               .forward_f64 = f64,
               .grad_kind = GradKind::zero,
               .forward_doc = forward_doc,
               .gradient_doc = "zero (a position is piecewise constant)",
               .notes_doc =
                   "the first extreme element wins (the first NaN, if any); the position "
                   "is a whole number in the input's dtype",
               .attributes = kExtremumAttributes};
}

}  // namespace

const OpDef& op_def_max() {
  static constexpr OpDef def{
      .name = "max",
      .arity = 1,
      .shape = extremum_shape,
      DAGPROP_KERNELS(max_forward),
      .vjp = max_vjp,
      .forward_doc = "y = max of x along an axis",
      .gradient_doc = "dx = scatter_add(g, argmax(x)): all of g to the first maximal element",
      .notes_doc =
          "ties: the first maximal element along the axis gets the gradient, the others "
          "zero; NaN propagates",
      .attributes = kExtremumAttributes};
  static_assert(op_definition_is_complete(def));
  return def;
}
const OpDef& op_def_min() {
  static constexpr OpDef def{
      .name = "min",
      .arity = 1,
      .shape = extremum_shape,
      DAGPROP_KERNELS(min_forward),
      .vjp = min_vjp,
      .forward_doc = "y = min of x along an axis",
      .gradient_doc = "dx = scatter_add(g, argmin(x)): all of g to the first minimal element",
      .notes_doc =
          "ties: the first minimal element along the axis gets the gradient, the others "
          "zero; NaN propagates",
      .attributes = kExtremumAttributes};
  static_assert(op_definition_is_complete(def));
  return def;
}
const OpDef& op_def_argmax() {
  static constexpr OpDef def =
      position_def("argmax", &argmax_forward<float>, &argmax_forward<double>,
                   "y = position of the first maximum along an axis");
  static_assert(op_definition_is_complete(def));
  return def;
}
const OpDef& op_def_argmin() {
  static constexpr OpDef def =
      position_def("argmin", &argmin_forward<float>, &argmin_forward<double>,
                   "y = position of the first minimum along an axis");
  static_assert(op_definition_is_complete(def));
  return def;
}

}  // namespace ops

Expr max(Expr x, int axis, bool keepdim) {
  return ops::make(OpCode::max, {x}, ops::axis_attrs(axis, keepdim));
}
Expr min(Expr x, int axis, bool keepdim) {
  return ops::make(OpCode::min, {x}, ops::axis_attrs(axis, keepdim));
}
Expr argmax(Expr x, int axis, bool keepdim) {
  return ops::make(OpCode::argmax, {x}, ops::axis_attrs(axis, keepdim));
}
Expr argmin(Expr x, int axis, bool keepdim) {
  return ops::make(OpCode::argmin, {x}, ops::axis_attrs(axis, keepdim));
}

}  // namespace dagprop
