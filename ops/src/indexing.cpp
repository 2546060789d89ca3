// index_select and gather, with their scatter-add gradients index_add and scatter_add; embedding
// is index_select of rows. Indices are whole numbers stored in the data's dtype (exact up to 2^24
// in float32, 2^53 in float64) and checked when the kernel runs: a fraction, a NaN or an index out
// of range is an error naming the node, the position and the value. The scatter-adds add the
// contributions to one element in index order, whatever the thread count: repeated indices give
// one result.
#include <algorithm>
#include <cmath>

#include "op_helpers.hpp"

namespace dagprop {
namespace ops {
namespace {

// index_select's and gather's axis.
constexpr AttrSpec kSelectAttributes[] = {{.name = "axis",
                                           .kind = AttrKind::integer,
                                           .slot = {.field = AttrField::axis},
                                           .default_value = 0,
                                           .doc = "the axis indexed (negative: from the end)"}};

// index_add's and scatter_add's: the axis and the shape of the tensor written into.
constexpr AttrSpec kScatterAttributes[] = {
    {.name = "axis",
     .kind = AttrKind::integer,
     .slot = {.field = AttrField::axis},
     .default_value = 0,
     .doc = "the axis indexed (negative: from the end)"},
    {.name = "shape",
     .kind = AttrKind::shape,
     .slot = {.field = AttrField::shape},
     .doc = "the output shape, that of the tensor the gradient is for"}};

// x viewed as [outer, extent, inner] around `axis`.
struct AxisLayout {
  std::int64_t outer = 1, extent = 1, inner = 1;
};
AxisLayout layout_around(const Shape& shape, int axis) {
  AxisLayout l;
  for (int d = 0; d < axis; ++d) l.outer *= shape[d];
  l.extent = shape[axis];
  for (int d = axis + 1; d < shape.rank(); ++d) l.inner *= shape[d];
  return l;
}

// Every index must be a whole number in [0, extent); checked before any parallel loop.
template <class T>
void check_indices(const T* indices, std::int64_t count, std::int64_t extent, const char* op) {
  for (std::int64_t i = 0; i < count; ++i) {
    const T v = indices[i];
    if (!(v >= T(0)) || v >= static_cast<T>(extent) || v != std::floor(v)) {
      throw Error(std::string(op) + ": index " + std::to_string(static_cast<double>(v)) +
                  " at position " + std::to_string(i) + " is not a whole number in [0, " +
                  std::to_string(extent) + "); indices are stored as numbers and must be exact");
    }
  }
}

// Items of a scatter loop: (outer, block of inner) pairs, so that a long inner axis (an embedding
// row) is still split; each item sees every index in order.
constexpr std::int64_t kInnerBlock = 256;

// ---- index_select(x, indices): y[o, j, i] = x[o, indices[j], i]

Shape index_select_shape(const ShapeQuery& q) {
  const Shape& x = q.inputs[0];
  const Shape& indices = q.inputs[1];
  if (x.rank() == 0) throw Error("index_select needs x of rank 1 or more, got a scalar");
  const int axis = x.normalize_axis(q.attrs.axis);
  if (indices.rank() != 1) {
    throw Error("index_select needs indices of rank 1, got " + indices.to_string() +
                "; reshape them to [-1] (embedding() does this for you)");
  }
  Shape out = x;
  out[axis] = indices[0];
  return out;
}

template <class T>
void index_select_forward(const KernelCall& c) {
  const Shape& xs = *c.inputs[0].shape;
  const int axis = xs.normalize_axis(c.attrs.axis);
  const AxisLayout l = layout_around(xs, axis);
  const T* x = c.inputs[0].as<T>();
  const T* indices = c.inputs[1].as<T>();
  const std::int64_t k = c.inputs[1].numel();
  check_indices(indices, k, l.extent, "index_select");
  T* y = c.output.as<T>();
  for_each_chunk(
      l.outer * k,
      [&](std::int64_t begin, std::int64_t end) {
        for (std::int64_t row = begin; row < end; ++row) {
          const std::int64_t o = row / k, j = row % k;
          const T* src = x + (o * l.extent + static_cast<std::int64_t>(indices[j])) * l.inner;
          std::copy(src, src + l.inner, y + row * l.inner);
        }
      },
      l.inner);
}

// ---- index_add(g, indices): dx = zeros(shape); dx[o, indices[j], i] += g[o, j, i]

Shape index_add_shape(const ShapeQuery& q) {
  const Shape& full = q.attrs.shape;
  const int axis = full.normalize_axis(q.attrs.axis);
  const Shape operands[2] = {full, q.inputs[1]};
  const Shape expected = index_select_shape(ShapeQuery{operands, q.dtypes, q.attrs});
  if (!(expected == q.inputs[0])) {
    throw Error("index_add: g is " + q.inputs[0].to_string() + " but selecting " +
                std::to_string(q.inputs[1].numel()) + " indices on axis " + std::to_string(axis) +
                " of " + full.to_string() + " gives " + expected.to_string());
  }
  return full;
}

template <class T>
void index_add_forward(const KernelCall& c) {
  const Shape& full = *c.output.shape;
  const int axis = full.normalize_axis(c.attrs.axis);
  const AxisLayout l = layout_around(full, axis);
  const T* g = c.inputs[0].as<T>();
  const T* indices = c.inputs[1].as<T>();
  const std::int64_t k = c.inputs[1].numel();
  check_indices(indices, k, l.extent, "index_add");
  T* dx = c.output.as<T>();
  std::fill(dx, dx + c.output.numel(), T(0));
  const std::int64_t blocks = (l.inner + kInnerBlock - 1) / kInnerBlock;
  for_each_chunk(
      l.outer * blocks,
      [&](std::int64_t begin, std::int64_t end) {
        for (std::int64_t item = begin; item < end; ++item) {
          const std::int64_t o = item / blocks, b = item % blocks;
          const std::int64_t i0 = b * kInnerBlock, i1 = std::min(l.inner, i0 + kInnerBlock);
          for (std::int64_t j = 0; j < k; ++j) {
            T* dst = dx + (o * l.extent + static_cast<std::int64_t>(indices[j])) * l.inner;
            const T* src = g + (o * k + j) * l.inner;
            for (std::int64_t i = i0; i < i1; ++i) dst[i] += src[i];
          }
        }
      },
      k * kInnerBlock);
}

OpAttrs scatter_attrs(int axis, const Shape& full) {
  OpAttrs attrs;
  attrs.axis = axis;
  attrs.shape = full;
  return attrs;
}

void index_select_vjp(GradContext& c) {
  const int axis = c.input(0).shape().normalize_axis(c.attrs().axis);
  c.set(0, make(OpCode::index_add, {c.grad_output(), c.input(1)},
                scatter_attrs(axis, c.input(0).shape())));
}
void index_add_vjp(GradContext& c) {
  c.set(0, index_select(c.grad_output(), c.attrs().axis, c.input(1)));
}

// ---- gather(x, index): y[o, j, i] = x[o, index[o, j, i], i]

Shape gather_shape(const ShapeQuery& q) {
  const Shape& x = q.inputs[0];
  const Shape& index = q.inputs[1];
  if (x.rank() == 0) throw Error("gather needs x of rank 1 or more, got a scalar");
  const int axis = x.normalize_axis(q.attrs.axis);
  bool agrees = index.rank() == x.rank();
  for (int d = 0; agrees && d < x.rank(); ++d) agrees = d == axis || index[d] == x[d];
  if (!agrees) {
    throw Error("gather along axis " + std::to_string(axis) +
                " needs an index of x's rank that "
                "agrees with x on every other axis: x is " +
                x.to_string() + ", index is " + index.to_string() +
                "; broadcast_to the index or use index_select");
  }
  return index;
}

template <class T>
void gather_forward(const KernelCall& c) {
  const Shape& xs = *c.inputs[0].shape;
  const int axis = xs.normalize_axis(c.attrs.axis);
  const AxisLayout lx = layout_around(xs, axis);
  const std::int64_t k = (*c.inputs[1].shape)[axis];
  const T* x = c.inputs[0].as<T>();
  const T* index = c.inputs[1].as<T>();
  check_indices(index, c.inputs[1].numel(), lx.extent, "gather");
  T* y = c.output.as<T>();
  for_each_element_chunk(c.output.numel(), [&](std::int64_t begin, std::int64_t end) {
    for (std::int64_t p = begin; p < end; ++p) {
      const std::int64_t i = p % lx.inner, o = p / lx.inner / k;
      y[p] = x[(o * lx.extent + static_cast<std::int64_t>(index[p])) * lx.inner + i];
    }
  });
}

// ---- scatter_add(g, index): dx = zeros(shape); dx[o, index[o, j, i], i] += g[o, j, i]

Shape scatter_add_shape(const ShapeQuery& q) {
  const Shape& full = q.attrs.shape;
  const Shape operands[2] = {full, q.inputs[1]};
  const Shape expected = gather_shape(ShapeQuery{operands, q.dtypes, q.attrs});
  if (!(expected == q.inputs[0])) {
    throw Error("scatter_add: g is " + q.inputs[0].to_string() + " but the index is " +
                q.inputs[1].to_string() + "; they must have one shape");
  }
  return full;
}

template <class T>
void scatter_add_forward(const KernelCall& c) {
  const Shape& full = *c.output.shape;
  const int axis = full.normalize_axis(c.attrs.axis);
  const AxisLayout l = layout_around(full, axis);
  const std::int64_t k = (*c.inputs[1].shape)[axis];
  const T* g = c.inputs[0].as<T>();
  const T* index = c.inputs[1].as<T>();
  check_indices(index, c.inputs[1].numel(), l.extent, "scatter_add");
  T* dx = c.output.as<T>();
  std::fill(dx, dx + c.output.numel(), T(0));
  const std::int64_t blocks = (l.inner + kInnerBlock - 1) / kInnerBlock;
  for_each_chunk(
      l.outer * blocks,
      [&](std::int64_t begin, std::int64_t end) {
        for (std::int64_t item = begin; item < end; ++item) {
          const std::int64_t o = item / blocks, b = item % blocks;
          const std::int64_t i0 = b * kInnerBlock, i1 = std::min(l.inner, i0 + kInnerBlock);
          for (std::int64_t j = 0; j < k; ++j) {
            const std::int64_t row = (o * k + j) * l.inner;
            for (std::int64_t i = i0; i < i1; ++i) {
              dx[(o * l.extent + static_cast<std::int64_t>(index[row + i])) * l.inner + i] +=
                  g[row + i];
            }
          }
        }
      },
      k * kInnerBlock);
}

void gather_vjp(GradContext& c) {
  const int axis = c.input(0).shape().normalize_axis(c.attrs().axis);
  c.set(0, make(OpCode::scatter_add, {c.grad_output(), c.input(1)},
                scatter_attrs(axis, c.input(0).shape())));
}
void scatter_add_vjp(GradContext& c) {
  c.set(0, gather(c.grad_output(), c.attrs().axis, c.input(1)));
}

constexpr std::string_view kIndexNotes =
    "indices are whole numbers stored in the data's dtype, checked at run time (an error names "
    "the position and value); not differentiable with respect to them";

}  // namespace

const OpDef& op_def_index_select() {
  static constexpr OpDef def{
      .name = "index_select",
      .arity = 2,
      .shape = index_select_shape,
      DAGPROP_KERNELS(index_select_forward),
      .vjp = index_select_vjp,
      .nondifferentiable_inputs = 0b10,
      .forward_doc = "y[o, j, i] = x[o, indices[j], i] along an axis",
      .gradient_doc = "dx = index_add(g, indices): zeros, then += in index order",
      .notes_doc = kIndexNotes,
      .operand_names = "x, indices",
      .attributes = kSelectAttributes};
  static_assert(op_definition_is_complete(def));
  return def;
}
const OpDef& op_def_index_add() {
  static constexpr OpDef def{
      .name = "index_add",
      .arity = 2,
      .shape = index_add_shape,
      DAGPROP_KERNELS(index_add_forward),
      .vjp = index_add_vjp,
      .nondifferentiable_inputs = 0b10,
      .forward_doc = "y = zeros(shape); y[o, indices[j], i] += g[o, j, i] for j in order",
      .gradient_doc = "dg = index_select(u, indices)",
      .notes_doc = "repeated indices add up in index order: the same bits at any thread count",
      .operand_names = "g, indices",
      .attributes = kScatterAttributes};
  static_assert(op_definition_is_complete(def));
  return def;
}
const OpDef& op_def_gather() {
  static constexpr OpDef def{.name = "gather",
                             .arity = 2,
                             .shape = gather_shape,
                             DAGPROP_KERNELS(gather_forward),
                             .vjp = gather_vjp,
                             .nondifferentiable_inputs = 0b10,
                             .forward_doc = "y[o, j, i] = x[o, index[o, j, i], i] along an axis",
                             .gradient_doc = "dx = scatter_add(g, index)",
                             .notes_doc = kIndexNotes,
                             .operand_names = "x, index",
                             .attributes = kSelectAttributes};
  static_assert(op_definition_is_complete(def));
  return def;
}
const OpDef& op_def_scatter_add() {
  static constexpr OpDef def{
      .name = "scatter_add",
      .arity = 2,
      .shape = scatter_add_shape,
      DAGPROP_KERNELS(scatter_add_forward),
      .vjp = scatter_add_vjp,
      .nondifferentiable_inputs = 0b10,
      .forward_doc = "y = zeros(shape); y[o, index[o, j, i], i] += g[o, j, i] for j in order",
      .gradient_doc = "dg = gather(u, index)",
      .notes_doc = "repeated indices add up in index order: the same bits at any thread count",
      .operand_names = "g, index",
      .attributes = kScatterAttributes};
  static_assert(op_definition_is_complete(def));
  return def;
}

}  // namespace ops

Expr index_select(Expr x, int axis, Expr indices) {
  OpAttrs attrs;
  attrs.axis = axis;
  return ops::make(OpCode::index_select, {x, indices}, attrs);
}

Expr gather(Expr x, int axis, Expr index) {
  OpAttrs attrs;
  attrs.axis = axis;
  return ops::make(OpCode::gather, {x, index}, attrs);
}

Expr embedding(Expr weight, Expr indices) {
  if (!weight.valid() || !indices.valid()) throw Error("embedding called with an empty Expr");
  if (weight.shape().rank() != 2) {
    throw Error("embedding needs a weight table [num_embeddings, dim], got " +
                weight.shape().to_string());
  }
  const Expr rows = index_select(weight, 0, reshape(indices, {-1}));
  std::vector<std::int64_t> dims(indices.shape().dims().begin(), indices.shape().dims().end());
  dims.push_back(weight.shape()[1]);
  return reshape(rows, dims);
}

}  // namespace dagprop
