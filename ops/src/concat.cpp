// concat: inputs joined along one axis (any number of them); stack is concat of inputs given a new
// axis of size 1. The gradient of each input is its slice of the upstream gradient.
#include <cstring>

#include "op_helpers.hpp"

namespace dagprop {
namespace ops {
namespace {

// concat's axis.
constexpr AttrSpec kConcatAttributes[] = {
    {.name = "axis",
     .kind = AttrKind::integer,
     .slot = {.field = AttrField::axis},
     .default_value = 0,
     .doc = "the axis the inputs are joined along (negative: from the end)"}};

Shape concat_shape(const ShapeQuery& q) {
  const Shape& first = q.inputs[0];
  if (first.rank() == 0) {
    throw Error(
        "concat needs inputs of rank 1 or more, input 0 is a scalar; reshape scalars to "
        "[1] or use stack()");
  }
  const int axis = first.normalize_axis(q.attrs.axis);
  Shape out = first;
  for (std::size_t i = 1; i < q.inputs.size(); ++i) {
    const Shape& s = q.inputs[i];
    bool agrees = s.rank() == first.rank();
    for (int d = 0; agrees && d < s.rank(); ++d) agrees = d == axis || s[d] == first[d];
    if (!agrees) {
      throw Error("concat along axis " + std::to_string(axis) +
                  " needs inputs that agree on every "
                  "other axis: input 0 is " +
                  first.to_string() + " but input " + std::to_string(i) + " is " + s.to_string() +
                  "; reshape or slice them to a common shape");
    }
    out[axis] += s[axis];
  }
  return out;
}

// Each input is `outer` blocks of dim_i * inner contiguous elements, copied in input order.
template <class T>
void concat_forward(const KernelCall& c) {
  const Shape& out = *c.output.shape;
  const int axis = out.normalize_axis(c.attrs.axis);
  std::int64_t outer = 1, inner = 1;
  for (int d = 0; d < axis; ++d) outer *= out[d];
  for (int d = axis + 1; d < out.rank(); ++d) inner *= out[d];
  const std::int64_t out_block = out[axis] * inner;
  T* y = c.output.as<T>();
  for_each_chunk(
      outer,
      [&](std::int64_t begin, std::int64_t end) {
        for (std::int64_t o = begin; o < end; ++o) {
          T* dst = y + o * out_block;
          for (const KernelArg& in : c.inputs) {
            const std::int64_t block = (*in.shape)[axis] * inner;
            std::memcpy(dst, in.as<T>() + o * block, static_cast<std::size_t>(block) * sizeof(T));
            dst += block;
          }
        }
      },
      out_block);
}

void concat_vjp(GradContext& c) {
  const int axis = c.output().shape().normalize_axis(c.attrs().axis);
  std::int64_t offset = 0;
  for (int i = 0; i < c.num_inputs(); ++i) {
    const std::int64_t extent = c.input(i).shape()[axis];
    if (c.wanted(i)) c.set(i, slice(c.grad_output(), axis, offset, offset + extent));
    offset += extent;
  }
}

}  // namespace

const OpDef& op_def_concat() {
  static constexpr OpDef def{
      .name = "concat",
      .arity = -1,
      .shape = concat_shape,
      DAGPROP_KERNELS(concat_forward),
      .vjp = concat_vjp,
      .forward_doc = "y = [x0, x1, ...] joined along an axis",
      .gradient_doc = "dx_i = slice(g, axis, offset_i, offset_i + x_i.shape[axis])",
      .notes_doc =
          "any number of inputs; stack(xs, axis) is concat of the inputs reshaped with a "
          "new axis of size 1",
      .attributes = kConcatAttributes};
  static_assert(op_definition_is_complete(def));
  return def;
}

}  // namespace ops

Expr concat(const std::vector<Expr>& inputs, int axis) {
  if (inputs.empty() || !inputs[0].valid()) throw Error("concat needs at least one input");
  OpAttrs attrs;
  attrs.axis = axis;
  return inputs[0].graph().apply(op_id(OpCode::concat), inputs, attrs);
}

Expr stack(const std::vector<Expr>& inputs, int axis) {
  if (inputs.empty() || !inputs[0].valid()) throw Error("stack needs at least one input");
  const Shape& first = inputs[0].shape();
  const int rank = first.rank() + 1;
  const int normalized = axis < 0 ? axis + rank : axis;
  if (normalized < 0 || normalized >= rank) {
    throw Error("stack: axis " + std::to_string(axis) + " is out of range for inputs of shape " +
                first.to_string() + " (the result has rank " + std::to_string(rank) + ")");
  }
  std::vector<Expr> expanded;
  expanded.reserve(inputs.size());
  for (std::size_t i = 0; i < inputs.size(); ++i) {
    const Shape& s = inputs[i].shape();
    if (!(s == first)) {
      throw Error("stack needs inputs of one shape: input 0 is " + first.to_string() +
                  " but input " + std::to_string(i) + " is " + s.to_string());
    }
    std::vector<std::int64_t> dims(s.dims().begin(), s.dims().end());
    dims.insert(dims.begin() + normalized, 1);
    expanded.push_back(reshape(inputs[i], dims));
  }
  return concat(expanded, normalized);
}

}  // namespace dagprop
