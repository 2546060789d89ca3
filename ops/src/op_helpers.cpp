// Shape rules and helpers shared by the op units.
#include "op_helpers.hpp"

#include <algorithm>

namespace dagprop::ops {

Expr make(OpCode op, std::initializer_list<Expr> inputs, const OpAttrs& attrs) {
  if (inputs.size() == 0 || !inputs.begin()->valid())
    throw Error("op builder called with an empty Expr");
  return inputs.begin()->graph().apply(op_id(op),
                                       std::span<const Expr>(inputs.begin(), inputs.size()), attrs);
}

Expr scalar_like(Expr like, double value) {
  return like.graph().constant(value, like.dtype());
}

Shape same_shape_as_first(const ShapeQuery& q) {
  return q.inputs[0];
}

Shape scalar_shape(const ShapeQuery&) {
  return Shape{};
}

Shape broadcast_shapes(const Shape& a, const Shape& b) {
  const int rank = std::max(a.rank(), b.rank());
  std::array<std::int64_t, Shape::kMaxRank> dims{};
  for (int i = 0; i < rank; ++i) {
    const int ia = a.rank() - rank + i;
    const int ib = b.rank() - rank + i;
    const std::int64_t da = ia >= 0 ? a[ia] : 1;
    const std::int64_t db = ib >= 0 ? b[ib] : 1;
    if (da != db && da != 1 && db != 1) {
      throw Error("shapes " + a.to_string() + " and " + b.to_string() +
                  " cannot be broadcast: dimension " + std::to_string(da) + " meets " +
                  std::to_string(db) + " at axis " + std::to_string(i - rank) +
                  " (counted from the end); make them equal or 1, or reshape one operand");
    }
    dims[static_cast<std::size_t>(i)] = da == 1 ? db : da;
  }
  return Shape(std::span<const std::int64_t>(dims.data(), static_cast<std::size_t>(rank)));
}

Shape broadcast_inputs(const ShapeQuery& q) {
  Shape shape = q.inputs[0];
  for (std::size_t i = 1; i < q.inputs.size(); ++i) shape = broadcast_shapes(shape, q.inputs[i]);
  return shape;
}

Shape equal_shapes(const ShapeQuery& q) {
  for (std::size_t i = 1; i < q.inputs.size(); ++i) {
    if (!(q.inputs[i] == q.inputs[0])) {
      throw Error("inputs must have the same shape, but input 0 is " + q.inputs[0].to_string() +
                  " and input " + std::to_string(i) + " is " + q.inputs[i].to_string());
    }
  }
  return q.inputs[0];
}

std::array<std::int64_t, Shape::kMaxRank> broadcast_strides(const Shape& input,
                                                            const Shape& output) {
  std::array<std::int64_t, Shape::kMaxRank> result{};
  const auto strides = strides_of(input);
  const int offset = output.rank() - input.rank();
  for (int d = 0; d < output.rank(); ++d) {
    const int di = d - offset;
    result[static_cast<std::size_t>(d)] =
        (di < 0 || input[di] == 1) ? 0 : strides[static_cast<std::size_t>(di)];
  }
  return result;
}

}  // namespace dagprop::ops
