// Owning and borrowed tensors.
#include <dagprop/tensor.hpp>

#include <cstdlib>
#include <cstring>

namespace dagprop {
namespace {

constexpr std::size_t kAlignment = 64;

std::byte* allocate_zeroed(std::size_t nbytes) {
  const std::size_t rounded = (nbytes + kAlignment - 1) / kAlignment * kAlignment;
  auto* bytes =
      static_cast<std::byte*>(std::aligned_alloc(kAlignment, rounded == 0 ? kAlignment : rounded));
  if (bytes == nullptr)
    throw Error("out of memory allocating a tensor of " + std::to_string(nbytes) + " bytes");
  std::memset(bytes, 0, rounded == 0 ? kAlignment : rounded);
  return bytes;
}

}  // namespace

void Tensor::FreeAligned::operator()(std::byte* p) const noexcept {
  std::free(p);
}

double TensorView::at(std::int64_t i) const {
  return dtype_ == DType::f32 ? static_cast<const float*>(data_)[i]
                              : static_cast<const double*>(data_)[i];
}

void TensorView::set(std::int64_t i, double value) const {
  if (dtype_ == DType::f32) {
    static_cast<float*>(data_)[i] = static_cast<float>(value);
  } else {
    static_cast<double*>(data_)[i] = value;
  }
}

double TensorView::item() const {
  if (numel() != 1) {
    throw Error("item() needs a tensor of one element, but the shape is " + shape_.to_string() +
                "; index it with at(i) or reduce it with sum() first");
  }
  return at(0);
}

std::vector<double> TensorView::to_vector() const {
  std::vector<double> values(static_cast<std::size_t>(numel()));
  for (std::int64_t i = 0; i < numel(); ++i) values[static_cast<std::size_t>(i)] = at(i);
  return values;
}

void TensorView::throw_dtype_mismatch(DType wanted) const {
  throw Error("tensor of shape " + shape_.to_string() + " holds " +
              std::string(dtype_name(dtype_)) + " but was read as " +
              std::string(dtype_name(wanted)));
}

Tensor::Tensor(Shape shape, DType dtype)
    : shape_(shape),
      dtype_(dtype),
      data_(allocate_zeroed(static_cast<std::size_t>(shape.numel()) * dtype_size(dtype))) {}

Tensor::Tensor(const Tensor& other) : Tensor(other.view()) {}

Tensor& Tensor::operator=(const Tensor& other) {
  if (this != &other) *this = Tensor(other.view());
  return *this;
}

Tensor::Tensor(const TensorView& view) : Tensor(view.shape(), view.dtype()) {
  if (view.nbytes() > 0) std::memcpy(data_.get(), view.raw(), view.nbytes());
}

Tensor Tensor::scalar(double value, DType dtype) {
  return full(Shape{}, value, dtype);
}

Tensor Tensor::full(Shape shape, double value, DType dtype) {
  Tensor t(shape, dtype);
  for (std::int64_t i = 0; i < t.numel(); ++i) t.set(i, value);
  return t;
}

Tensor Tensor::from(const std::vector<double>& values, Shape shape, DType dtype) {
  if (static_cast<std::int64_t>(values.size()) != shape.numel()) {
    throw Error("Tensor::from got " + std::to_string(values.size()) + " values for shape " +
                shape.to_string() + ", which holds " + std::to_string(shape.numel()));
  }
  Tensor t(shape, dtype);
  for (std::size_t i = 0; i < values.size(); ++i) t.set(static_cast<std::int64_t>(i), values[i]);
  return t;
}

Tensor Tensor::from(const std::vector<float>& values, Shape shape) {
  if (static_cast<std::int64_t>(values.size()) != shape.numel()) {
    throw Error("Tensor::from got " + std::to_string(values.size()) + " values for shape " +
                shape.to_string() + ", which holds " + std::to_string(shape.numel()));
  }
  Tensor t(shape, DType::f32);
  if (!values.empty()) std::memcpy(t.data<float>(), values.data(), values.size() * sizeof(float));
  return t;
}

void copy_into(const TensorView& dst, const TensorView& src) {
  if (!(dst.shape() == src.shape()) || dst.dtype() != src.dtype()) {
    throw Error("cannot copy a " + std::string(dtype_name(src.dtype())) + " tensor of shape " +
                src.shape().to_string() + " into a " + std::string(dtype_name(dst.dtype())) +
                " tensor of shape " + dst.shape().to_string());
  }
  if (src.nbytes() > 0 && dst.raw() != src.raw()) std::memcpy(dst.raw(), src.raw(), src.nbytes());
}

bool bitwise_equal(const TensorView& a, const TensorView& b) {
  return a.shape() == b.shape() && a.dtype() == b.dtype() &&
         std::memcmp(a.raw(), b.raw(), a.nbytes()) == 0;
}

}  // namespace dagprop
