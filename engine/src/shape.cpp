// Shape arithmetic and printing.
#include <dagprop/shape.hpp>

#include <algorithm>

#include <dagprop/error.hpp>

namespace dagprop {

std::string_view dtype_name(DType dtype) {
  return dtype == DType::f32 ? "float32" : "float64";
}

Shape::Shape(std::initializer_list<std::int64_t> dims)
    : Shape(std::span<const std::int64_t>(dims.begin(), dims.size())) {}

Shape::Shape(std::span<const std::int64_t> dims) {
  if (dims.size() > kMaxRank) {
    throw Error("a shape of rank " + std::to_string(dims.size()) + " was asked for, but at most " +
                std::to_string(kMaxRank) + " dimensions are supported; reshape to fewer axes");
  }
  for (std::int64_t d : dims) {
    if (d < 0) throw Error("negative dimension " + std::to_string(d) + " in a shape");
  }
  std::copy(dims.begin(), dims.end(), dims_.begin());
  rank_ = static_cast<std::uint8_t>(dims.size());
}

std::int64_t Shape::numel() const {
  std::int64_t n = 1;
  for (int i = 0; i < rank_; ++i) n *= dims_[static_cast<std::size_t>(i)];
  return n;
}

int Shape::normalize_axis(int axis) const {
  const int normalized = axis < 0 ? axis + rank_ : axis;
  if (normalized < 0 || normalized >= rank_) {
    throw Error("axis " + std::to_string(axis) + " is out of range for shape " + to_string() +
                " (rank " + std::to_string(rank_) + ")");
  }
  return normalized;
}

std::string Shape::to_string() const {
  std::string text = "[";
  for (int i = 0; i < rank_; ++i) {
    if (i > 0) text += ", ";
    text += std::to_string(dims_[static_cast<std::size_t>(i)]);
  }
  return text + "]";
}

bool operator==(const Shape& a, const Shape& b) {
  return a.rank_ == b.rank_ &&
         std::equal(a.dims_.begin(), a.dims_.begin() + a.rank_, b.dims_.begin());
}

std::array<std::int64_t, Shape::kMaxRank> strides_of(const Shape& shape) {
  std::array<std::int64_t, Shape::kMaxRank> strides{};
  std::int64_t stride = 1;
  for (int i = shape.rank() - 1; i >= 0; --i) {
    strides[static_cast<std::size_t>(i)] = stride;
    stride *= shape[i];
  }
  return strides;
}

}  // namespace dagprop
