// reshape, transpose, broadcast_to and sum_to (its reverse): ops that move elements, not change
// them.
#include <cstring>

#include "op_helpers.hpp"

namespace dagprop {
namespace ops {
namespace {

// ---- reshape

// reshape's target shape; broadcast_to's and sum_to's declare theirs the same way.
constexpr AttrSpec kReshapeAttributes[] = {
    {.name = "shape",
     .kind = AttrKind::shape,
     .slot = {.field = AttrField::shape},
     .doc = "the output shape, of as many elements as the input"}};
constexpr AttrSpec kBroadcastToAttributes[] = {
    {.name = "shape",
     .kind = AttrKind::shape,
     .slot = {.field = AttrField::shape},
     .doc = "the output shape, to which the input broadcasts"}};
constexpr AttrSpec kSumToAttributes[] = {
    {.name = "shape",
     .kind = AttrKind::shape,
     .slot = {.field = AttrField::shape},
     .doc = "the output shape, which broadcasts to the input's"}};
// The two axes transpose swaps, in the two axis fields.
constexpr AttrSpec kTransposeAttributes[] = {{.name = "axis_a",
                                              .kind = AttrKind::integer,
                                              .slot = {.field = AttrField::axis},
                                              .default_value = -2,
                                              .doc = "one axis to swap (negative: from the end)"},
                                             {.name = "axis_b",
                                              .kind = AttrKind::integer,
                                              .slot = {.field = AttrField::axis2},
                                              .default_value = -1,
                                              .doc = "the other axis"}};

Shape reshape_shape(const ShapeQuery& q) {
  if (q.attrs.shape.numel() != q.inputs[0].numel()) {
    throw Error("cannot reshape " + q.inputs[0].to_string() + " (" +
                std::to_string(q.inputs[0].numel()) + " elements) to " + q.attrs.shape.to_string() +
                " (" + std::to_string(q.attrs.shape.numel()) +
                " elements); the element counts must agree");
  }
  return q.attrs.shape;
}
template <class T>
void copy_forward(const KernelCall& c) {
  std::memcpy(c.output.data, c.inputs[0].data,
              static_cast<std::size_t>(c.output.numel()) * sizeof(T));
}
void reshape_vjp(GradContext& c) {
  const Shape& x = c.input(0).shape();
  c.set(0, reshape(c.grad_output(), std::vector<std::int64_t>(x.dims().begin(), x.dims().end())));
}

// ---- transpose

Shape transpose_shape(const ShapeQuery& q) {
  Shape out = q.inputs[0];
  if (out.rank() < 2) throw Error("transpose needs at least 2 axes, got shape " + out.to_string());
  const int a = out.normalize_axis(q.attrs.axis), b = out.normalize_axis(q.attrs.axis2);
  std::swap(out[a], out[b]);
  return out;
}
template <class T>
void transpose_forward(const KernelCall& c) {
  const Shape& in = *c.inputs[0].shape;
  const Shape& out = *c.output.shape;
  const int a = in.normalize_axis(c.attrs.axis), b = in.normalize_axis(c.attrs.axis2);
  auto in_strides = strides_of(in);
  std::swap(in_strides[static_cast<std::size_t>(a)], in_strides[static_cast<std::size_t>(b)]);
  const T* x = c.inputs[0].as<T>();
  T* y = c.output.as<T>();
  const int rank = out.rank();
  const std::int64_t inner = out[rank - 1];
  const std::int64_t inner_stride = in_strides[static_cast<std::size_t>(rank - 1)];
  const std::int64_t rows = inner == 0 ? 0 : out.numel() / inner;
  for_each_chunk(
      rows,
      [&](std::int64_t begin, std::int64_t end) {
        for (std::int64_t row = begin; row < end; ++row) {
          std::int64_t offset = 0, rest = row;
          for (int d = rank - 2; d >= 0; --d) {
            offset += (rest % out[d]) * in_strides[static_cast<std::size_t>(d)];
            rest /= out[d];
          }
          for (std::int64_t j = 0; j < inner; ++j)
            y[row * inner + j] = x[offset + j * inner_stride];
        }
      },
      inner);
}
void transpose_vjp(GradContext& c) {
  c.set(0, transpose(c.grad_output(), c.attrs().axis, c.attrs().axis2));
}

// ---- broadcast_to and sum_to

void check_broadcastable(const Shape& small, const Shape& large) {
  Shape joint;
  try {
    joint = broadcast_shapes(small, large);
  } catch (const Error&) {
    joint = Shape{};
  }
  if (!(joint == large) || small.rank() > large.rank()) {
    throw Error("shape " + small.to_string() + " does not broadcast to " + large.to_string() +
                ": align from the right, each dimension must equal the target's or be 1");
  }
}
Shape broadcast_to_shape(const ShapeQuery& q) {
  check_broadcastable(q.inputs[0], q.attrs.shape);
  return q.attrs.shape;
}
Shape sum_to_shape(const ShapeQuery& q) {
  check_broadcastable(q.attrs.shape, q.inputs[0]);
  return q.attrs.shape;
}

// Visits every element of `large` in row-major order with the offset of the element of `small`
// that it broadcasts from: one strided inner loop per row.
template <class F>
void for_each_broadcast_row(const Shape& small, const Shape& large, F f) {
  const auto strides = broadcast_strides(small, large);
  const int rank = large.rank();
  const std::int64_t inner = rank == 0 ? 1 : large[rank - 1];
  const std::int64_t inner_stride = rank == 0 ? 0 : strides[static_cast<std::size_t>(rank - 1)];
  const std::int64_t rows = inner == 0 ? 0 : large.numel() / inner;
  for (std::int64_t row = 0; row < rows; ++row) {
    std::int64_t offset = 0, rest = row;
    for (int d = rank - 2; d >= 0; --d) {
      offset += (rest % large[d]) * strides[static_cast<std::size_t>(d)];
      rest /= large[d];
    }
    f(row * inner, offset, inner, inner_stride);
  }
}

template <class T>
void broadcast_to_forward(const KernelCall& c) {
  const T* x = c.inputs[0].as<T>();
  T* y = c.output.as<T>();
  for_each_broadcast_row(
      *c.inputs[0].shape, *c.output.shape,
      [&](std::int64_t out, std::int64_t in, std::int64_t n, std::int64_t stride) {
        for (std::int64_t j = 0; j < n; ++j) y[out + j] = x[in + j * stride];
      });
}
// Adds in row-major order of the input: a fixed order, so the same bits every run. The two common
// rows get loops the compiler vectorizes (a bias gradient: stride 1) or keeps in a register (a
// row summed into one element: stride 0); each output element still sees the same additions in
// the same order.
template <class T>
void sum_to_forward(const KernelCall& c) {
  const T* x = c.inputs[0].as<T>();
  T* y = c.output.as<T>();
  std::fill(y, y + c.output.numel(), T(0));
  for_each_broadcast_row(
      *c.output.shape, *c.inputs[0].shape,
      [&](std::int64_t in, std::int64_t out, std::int64_t n, std::int64_t stride) {
        if (stride == 1) {
          T* y_row = y + out;
          const T* x_row = x + in;
          for (std::int64_t j = 0; j < n; ++j) y_row[j] += x_row[j];
        } else if (stride == 0) {
          T total = y[out];
          for (std::int64_t j = 0; j < n; ++j) total += x[in + j];
          y[out] = total;
        } else {
          for (std::int64_t j = 0; j < n; ++j) y[out + j * stride] += x[in + j];
        }
      });
}
void broadcast_to_vjp(GradContext& c) {
  c.set(0, sum_to(c.grad_output(), c.input(0).shape()));
}
void sum_to_vjp(GradContext& c) {
  c.set(0, broadcast_to(c.grad_output(), c.input(0).shape()));
}

}  // namespace

const OpDef& op_def_reshape() {
  static constexpr OpDef def{.name = "reshape",
                             .arity = 1,
                             .shape = reshape_shape,
                             DAGPROP_KERNELS(copy_forward),
                             .vjp = reshape_vjp,
                             .forward_doc = "y = x with a new shape (row-major order kept)",
                             .gradient_doc = "dx = reshape(g, x.shape)",
                             .attributes = kReshapeAttributes};
  static_assert(op_definition_is_complete(def));
  return def;
}
const OpDef& op_def_transpose() {
  static constexpr OpDef def{.name = "transpose",
                             .arity = 1,
                             .shape = transpose_shape,
                             DAGPROP_KERNELS(transpose_forward),
                             .vjp = transpose_vjp,
                             .forward_doc = "y = x with two axes swapped (the last two by default)",
                             .gradient_doc = "dx = transpose(g) over the same axes",
                             .attributes = kTransposeAttributes};
  static_assert(op_definition_is_complete(def));
  return def;
}
const OpDef& op_def_broadcast_to() {
  static constexpr OpDef def{
      .name = "broadcast_to",
      .arity = 1,
      .shape = broadcast_to_shape,
      DAGPROP_KERNELS(broadcast_to_forward),
      .vjp = broadcast_to_vjp,
      .forward_doc = "y = x repeated along its size-1 and missing leading axes",
      .gradient_doc = "dx = sum_to(g, x.shape)",
      .attributes = kBroadcastToAttributes};
  static_assert(op_definition_is_complete(def));
  return def;
}
const OpDef& op_def_sum_to() {
  static constexpr OpDef def{
      .name = "sum_to",
      .arity = 1,
      .shape = sum_to_shape,
      DAGPROP_KERNELS(sum_to_forward),
      .vjp = sum_to_vjp,
      .cost_per_element = kFloat64AccumulationCost,
      .forward_doc = "y = x summed over the axes that broadcast_to would repeat",
      .gradient_doc = "dx = broadcast_to(g, x.shape)",
      .attributes = kSumToAttributes};
  static_assert(op_definition_is_complete(def));
  return def;
}

}  // namespace ops

Expr reshape(Expr x, std::vector<std::int64_t> dims) {
  std::int64_t known = 1;
  int inferred = -1;
  for (std::size_t i = 0; i < dims.size(); ++i) {
    if (dims[i] == -1) {
      if (inferred >= 0)
        throw Error("reshape of " + x.graph().describe(x.id()) +
                    ": at most one dimension may be -1");
      inferred = static_cast<int>(i);
    } else if (dims[i] < 0) {
      throw Error("reshape of " + x.graph().describe(x.id()) + ": dimension " +
                  std::to_string(dims[i]) + " is negative");
    } else {
      known *= dims[i];
    }
  }
  if (inferred >= 0) {
    if (known == 0 || x.shape().numel() % known != 0) {
      throw Error("reshape of " + x.graph().describe(x.id()) + ": cannot infer the -1 dimension, " +
                  std::to_string(x.shape().numel()) + " elements do not divide by " +
                  std::to_string(known));
    }
    dims[static_cast<std::size_t>(inferred)] = x.shape().numel() / known;
  }
  OpAttrs attrs;
  attrs.shape = Shape(dims);
  if (attrs.shape == x.shape()) return x;
  return ops::make(OpCode::reshape, {x}, attrs);
}
Expr transpose(Expr x, int axis_a, int axis_b) {
  OpAttrs attrs;
  attrs.axis = axis_a;
  attrs.axis2 = axis_b;
  return ops::make(OpCode::transpose, {x}, attrs);
}
Expr broadcast_to(Expr x, Shape shape) {
  if (x.shape() == shape) return x;
  OpAttrs attrs;
  attrs.shape = shape;
  return ops::make(OpCode::broadcast_to, {x}, attrs);
}
Expr sum_to(Expr x, Shape shape) {
  if (x.shape() == shape) return x;
  OpAttrs attrs;
  attrs.shape = shape;
  return ops::make(OpCode::sum_to, {x}, attrs);
}

}  // namespace dagprop
