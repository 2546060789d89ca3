// Dense row-major tensors: Tensor owns its elements, TensorView borrows them.
#pragma once

#include <cstddef>
#include <cstdint>
#include <initializer_list>
#include <memory>
#include <vector>

#include <dagprop/error.hpp>
#include <dagprop/export.hpp>
#include <dagprop/shape.hpp>

DAGPROP_API_BEGIN
namespace dagprop {

template <class T>
constexpr DType dtype_of();
template <>
constexpr DType dtype_of<float>() {
  return DType::f32;
}
template <>
constexpr DType dtype_of<double>() {
  return DType::f64;
}

// A borrowed tensor: pointer, shape, dtype. Valid as long as whatever owns the bytes.
class TensorView {
 public:
  TensorView() = default;
  TensorView(void* data, Shape shape, DType dtype) : data_(data), shape_(shape), dtype_(dtype) {}

  const Shape& shape() const { return shape_; }
  DType dtype() const { return dtype_; }
  std::int64_t numel() const { return shape_.numel(); }
  std::size_t nbytes() const { return static_cast<std::size_t>(numel()) * dtype_size(dtype_); }
  void* raw() const { return data_; }

  template <class T>
  T* data() const {
    if (dtype_of<T>() != dtype_) throw_dtype_mismatch(dtype_of<T>());
    return static_cast<T*>(data_);
  }
  // Element i (row-major flat index) converted to double, whatever the dtype.
  double at(std::int64_t i) const;
  void set(std::int64_t i, double value) const;
  // The value of a one-element tensor.
  double item() const;
  std::vector<double> to_vector() const;

 private:
  [[noreturn]] void throw_dtype_mismatch(DType wanted) const;

  void* data_ = nullptr;
  Shape shape_;
  DType dtype_ = DType::f64;
};

// An owning tensor. Copies are deep; moves are cheap.
class Tensor {
 public:
  Tensor() : Tensor(Shape{}, DType::f64) {}
  Tensor(Shape shape, DType dtype);  // zero-filled
  Tensor(const Tensor& other);
  Tensor& operator=(const Tensor& other);
  Tensor(Tensor&&) noexcept = default;
  Tensor& operator=(Tensor&&) noexcept = default;
  explicit Tensor(const TensorView& view);  // deep copy

  static Tensor scalar(double value, DType dtype = DType::f64);
  static Tensor zeros(Shape shape, DType dtype = DType::f64) { return Tensor(shape, dtype); }
  static Tensor full(Shape shape, double value, DType dtype = DType::f64);
  static Tensor from(const std::vector<double>& values, Shape shape, DType dtype = DType::f64);
  static Tensor from(const std::vector<float>& values, Shape shape);
  // Tensor::from({0.1, 0.2}, Shape{2}): a braced list is float64 unless a dtype says otherwise.
  static Tensor from(std::initializer_list<double> values, Shape shape, DType dtype = DType::f64) {
    return from(std::vector<double>(values), shape, dtype);
  }

  TensorView view() const { return {data_.get(), shape_, dtype_}; }
  operator TensorView() const { return view(); }  // NOLINT: a tensor is usable wherever a view is

  const Shape& shape() const { return shape_; }
  DType dtype() const { return dtype_; }
  std::int64_t numel() const { return shape_.numel(); }
  std::size_t nbytes() const { return view().nbytes(); }
  template <class T>
  T* data() const {
    return view().data<T>();
  }
  double at(std::int64_t i) const { return view().at(i); }
  void set(std::int64_t i, double value) { view().set(i, value); }
  double item() const { return view().item(); }
  std::vector<double> to_vector() const { return view().to_vector(); }

 private:
  struct FreeAligned {
    void operator()(std::byte* p) const noexcept;
  };
  Shape shape_;
  DType dtype_;
  std::unique_ptr<std::byte[], FreeAligned> data_;
};

// Copies src into dst; shapes and dtypes must agree (the message says which differs).
void copy_into(const TensorView& dst, const TensorView& src);
bool bitwise_equal(const TensorView& a, const TensorView& b);

}  // namespace dagprop
DAGPROP_API_END
