// flatten: axes start_axis.. merged into one. Only a builder: the node it makes is a reshape, whose
// kernel (a copy) and gradient (a reshape back) already exist.
#include "op_helpers.hpp"

namespace dagprop {

Expr flatten(Expr x, int start_axis) {
  if (!x.valid()) throw Error("flatten called with an empty Expr");
  const Shape& shape = x.shape();
  const int axis = start_axis < 0 ? start_axis + shape.rank() : start_axis;
  if (axis < 0 || axis >= std::max(shape.rank(), 1)) {
    throw Error("flatten of " + x.graph().describe(x.id()) + " from axis " +
                std::to_string(start_axis) + ": the axis must lie in [" +
                std::to_string(-shape.rank()) + ", " + std::to_string(shape.rank()) +
                "); use 1 to keep the batch axis");
  }
  std::vector<std::int64_t> dims(shape.dims().begin(), shape.dims().begin() + axis);
  std::int64_t merged = 1;
  for (int d = axis; d < shape.rank(); ++d) merged *= shape[d];
  dims.push_back(merged);
  return reshape(x, dims);
}

}  // namespace dagprop
