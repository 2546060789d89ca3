// slice: every axis cut to start:stop:step (a strided view, copied); slice_grad, its gradient,
// writes g back into zeros of the input's shape. The positions a slice reads are distinct, so the
// scatter needs no accumulation and has one result.
#include <algorithm>

#include "op_helpers.hpp"

namespace dagprop {
namespace ops {
namespace {

// slice's ranges, all of OpAttrs::ints; slice_grad adds the shape written into.
constexpr AttrSpec kSliceAttributes[] = {
    {.name = "ranges",
     .kind = AttrKind::integers,
     .slot = {.field = AttrField::ints, .first = 0, .count = 0},
     .doc = "start, stop, step for every axis, normalized: 0 <= start <= stop <= dim, step >= 1"}};

constexpr AttrSpec kSliceGradAttributes[] = {
    {.name = "ranges",
     .kind = AttrKind::integers,
     .slot = {.field = AttrField::ints, .first = 0, .count = 0},
     .doc = "the ranges of the slice whose gradient this is"},
    {.name = "shape",
     .kind = AttrKind::shape,
     .slot = {.field = AttrField::shape},
     .doc = "the shape of the sliced tensor"}};

// OpAttrs::ints of slice and slice_grad: (start, stop, step) for every axis of the sliced tensor,
// normalized (0 <= start <= stop <= dim, step >= 1) when the node is built.
struct SliceRanges {
  std::span<const std::int64_t> ints;
  std::int64_t start(int axis) const { return ints[static_cast<std::size_t>(3 * axis)]; }
  std::int64_t stop(int axis) const { return ints[static_cast<std::size_t>(3 * axis + 1)]; }
  std::int64_t step(int axis) const { return ints[static_cast<std::size_t>(3 * axis + 2)]; }
  std::int64_t extent(int axis) const {
    return (stop(axis) - start(axis) + step(axis) - 1) / step(axis);
  }
};

// The output shape of a slice of `x`; throws naming the axis and the range if they do not fit.
Shape sliced_shape(const Shape& x, const OpAttrs& attrs) {
  if (attrs.ints.size() != static_cast<std::size_t>(3 * x.rank())) {
    throw Error("slice of a tensor of shape " + x.to_string() +
                " needs 3 integers (start, stop, "
                "step) per axis, " +
                std::to_string(3 * x.rank()) + " in all, but has " +
                std::to_string(attrs.ints.size()) + "; build it with slice()");
  }
  const SliceRanges r{attrs.ints};
  Shape out = x;
  for (int d = 0; d < x.rank(); ++d) {
    if (r.step(d) < 1 || r.start(d) < 0 || r.start(d) > r.stop(d) || r.stop(d) > x[d]) {
      throw Error("slice range " + std::to_string(r.start(d)) + ":" + std::to_string(r.stop(d)) +
                  ":" + std::to_string(r.step(d)) + " on axis " + std::to_string(d) +
                  " does not fit shape " + x.to_string() +
                  "; it needs 0 <= start <= stop <= " + std::to_string(x[d]) + " and step >= 1");
    }
    out[d] = r.extent(d);
  }
  return out;
}

Shape slice_shape(const ShapeQuery& q) {
  return sliced_shape(q.inputs[0], q.attrs);
}

Shape slice_grad_shape(const ShapeQuery& q) {
  const Shape expected = sliced_shape(q.attrs.shape, q.attrs);
  if (!(expected == q.inputs[0])) {
    throw Error("slice_grad: the upstream gradient is " + q.inputs[0].to_string() +
                " but the slice of " + q.attrs.shape.to_string() + " is " + expected.to_string());
  }
  return q.attrs.shape;
}

// Calls f(sliced_offset, full_offset, run, full_stride) for each run of the last axis: element j of
// the run is sliced[sliced_offset + j] and full[full_offset + j * full_stride].
template <class F>
void for_each_slice_row(const Shape& full, const Shape& sliced, const SliceRanges& r, F&& f) {
  const int rank = full.rank();
  if (rank == 0) {
    f(std::int64_t{0}, std::int64_t{0}, std::int64_t{1}, std::int64_t{1});
    return;
  }
  const auto strides = strides_of(full);
  const std::int64_t inner = sliced[rank - 1];
  const std::int64_t rows = inner == 0 ? 0 : sliced.numel() / inner;
  const std::int64_t inner_stride = r.step(rank - 1);
  for_each_chunk(
      rows,
      [&](std::int64_t begin, std::int64_t end) {
        for (std::int64_t row = begin; row < end; ++row) {
          std::int64_t offset = r.start(rank - 1), rest = row;
          for (int d = rank - 2; d >= 0; --d) {
            const std::int64_t index = rest % sliced[d];
            rest /= sliced[d];
            offset += (r.start(d) + index * r.step(d)) * strides[static_cast<std::size_t>(d)];
          }
          f(row * inner, offset, inner, inner_stride);
        }
      },
      inner);
}

template <class T>
void slice_forward(const KernelCall& c) {
  const T* x = c.inputs[0].as<T>();
  T* y = c.output.as<T>();
  for_each_slice_row(*c.inputs[0].shape, *c.output.shape, SliceRanges{c.attrs.ints},
                     [&](std::int64_t out, std::int64_t in, std::int64_t n, std::int64_t stride) {
                       for (std::int64_t j = 0; j < n; ++j) y[out + j] = x[in + j * stride];
                     });
}

template <class T>
void slice_grad_forward(const KernelCall& c) {
  const T* g = c.inputs[0].as<T>();
  T* dx = c.output.as<T>();
  std::fill(dx, dx + c.output.numel(), T(0));
  for_each_slice_row(*c.output.shape, *c.inputs[0].shape, SliceRanges{c.attrs.ints},
                     [&](std::int64_t in, std::int64_t out, std::int64_t n, std::int64_t stride) {
                       for (std::int64_t j = 0; j < n; ++j) dx[out + j * stride] = g[in + j];
                     });
}

OpAttrs slice_grad_attrs(const OpAttrs& slice_attrs, const Shape& full) {
  OpAttrs attrs;
  attrs.ints = slice_attrs.ints;
  attrs.shape = full;
  return attrs;
}

void slice_vjp(GradContext& c) {
  c.set(0, make(OpCode::slice_grad, {c.grad_output()},
                slice_grad_attrs(c.attrs(), c.input(0).shape())));
}

void slice_grad_vjp(GradContext& c) {
  OpAttrs attrs;
  attrs.ints = c.attrs().ints;
  c.set(0, make(OpCode::slice, {c.grad_output()}, attrs));
}

// Python's rule: a negative bound counts from the end, then bounds are clamped to [0, dim].
std::int64_t clamp_bound(std::int64_t bound, std::int64_t dim) {
  if (bound < 0) bound += dim;
  return std::clamp<std::int64_t>(bound, 0, dim);
}

}  // namespace

const OpDef& op_def_slice() {
  static constexpr OpDef def{
      .name = "slice",
      .arity = 1,
      .shape = slice_shape,
      DAGPROP_KERNELS(slice_forward),
      .vjp = slice_vjp,
      .forward_doc = "y = x[start0:stop0:step0, start1:stop1:step1, ...]",
      .gradient_doc = "dx = slice_grad(g): g written into zeros of x's shape",
      .notes_doc =
          "ints: (start, stop, step) per axis, normalized as Python does (negative bounds "
          "count from the end, then clamp); steps must be positive",
      .attributes = kSliceAttributes};
  static_assert(op_definition_is_complete(def));
  return def;
}

const OpDef& op_def_slice_grad() {
  static constexpr OpDef def{
      .name = "slice_grad",
      .arity = 1,
      .shape = slice_grad_shape,
      DAGPROP_KERNELS(slice_grad_forward),
      .vjp = slice_grad_vjp,
      .forward_doc = "y = zeros(shape); y[ranges] = g",
      .gradient_doc = "dg = slice(u, ranges)",
      .notes_doc = "the sliced positions are distinct: no accumulation, one result",
      .attributes = kSliceGradAttributes};
  static_assert(op_definition_is_complete(def));
  return def;
}

}  // namespace ops

Expr slice(Expr x, const std::vector<SliceRange>& ranges) {
  if (!x.valid()) throw Error("slice called with an empty Expr");
  const Shape& shape = x.shape();
  if (ranges.size() > static_cast<std::size_t>(shape.rank())) {
    throw Error("slice: " + std::to_string(ranges.size()) + " ranges for a tensor of shape " +
                shape.to_string() + "; give at most one range per axis");
  }
  OpAttrs attrs;
  for (int d = 0; d < shape.rank(); ++d) {
    const SliceRange r = static_cast<std::size_t>(d) < ranges.size()
                             ? ranges[static_cast<std::size_t>(d)]
                             : SliceRange{};
    if (r.step < 1) {
      throw Error("slice: step " + std::to_string(r.step) + " on axis " + std::to_string(d) +
                  " of " + shape.to_string() +
                  "; steps must be 1 or more (reverse with "
                  "index_select)");
    }
    const std::int64_t start = ops::clamp_bound(r.start, shape[d]);
    const std::int64_t stop = std::max(start, ops::clamp_bound(r.stop, shape[d]));
    attrs.ints.insert(attrs.ints.end(), {start, stop, r.step});
  }
  return ops::make(OpCode::slice, {x}, attrs);
}

Expr slice(Expr x, int axis, std::int64_t start, std::int64_t stop, std::int64_t step) {
  if (!x.valid()) throw Error("slice called with an empty Expr");
  const int normalized = x.shape().normalize_axis(axis);
  std::vector<SliceRange> ranges(static_cast<std::size_t>(normalized + 1));
  ranges.back() = SliceRange{start, stop, step};
  return slice(x, ranges);
}

}  // namespace dagprop
