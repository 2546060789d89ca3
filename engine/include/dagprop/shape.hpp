// Shape and dtype of a dense row-major tensor; a shape is a small inline array (no allocation).
#pragma once

#include <array>
#include <cstddef>
#include <cstdint>
#include <initializer_list>
#include <span>
#include <string>
#include <string_view>

#include <dagprop/export.hpp>

DAGPROP_API_BEGIN
namespace dagprop {

enum class DType : std::uint8_t { f32, f64 };

constexpr std::size_t dtype_size(DType dtype) {
  return dtype == DType::f32 ? 4 : 8;
}
std::string_view dtype_name(DType dtype);

class Shape {
 public:
  static constexpr int kMaxRank = 6;

  Shape() = default;  // rank 0: a scalar
  Shape(std::initializer_list<std::int64_t> dims);
  explicit Shape(std::span<const std::int64_t> dims);

  int rank() const { return rank_; }
  std::int64_t operator[](int axis) const { return dims_[static_cast<std::size_t>(axis)]; }
  std::int64_t& operator[](int axis) { return dims_[static_cast<std::size_t>(axis)]; }
  std::span<const std::int64_t> dims() const {
    return {dims_.data(), static_cast<std::size_t>(rank_)};
  }
  std::int64_t numel() const;
  bool is_scalar() const { return rank_ == 0; }

  // Python-style axis (-1 is the last); throws if out of range.
  int normalize_axis(int axis) const;

  std::string to_string() const;  // "[128, 10]", "[]" for a scalar

  friend bool operator==(const Shape& a, const Shape& b);

 private:
  std::array<std::int64_t, kMaxRank> dims_{};
  std::uint8_t rank_ = 0;
};

// Declared again here, outside the class: a friend declared only inside it would not be exported
// by a shared build (the visibility pragma applies to namespace-scope declarations).
bool operator==(const Shape& a, const Shape& b);

// Row-major strides in elements.
std::array<std::int64_t, Shape::kMaxRank> strides_of(const Shape& shape);

}  // namespace dagprop
DAGPROP_API_END
