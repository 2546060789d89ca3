// TensorProto <-> HostTensor and dagprop tensors, sizes checked before anything is allocated.
#include "onnx_tensor.hpp"

#include <bit>
#include <cstring>
#include <limits>

#include <dagprop/error.hpp>

namespace dagprop::onnx_io {

static_assert(std::endian::native == std::endian::little,
              "ONNX raw_data is little-endian; this reader copies it as it is");

std::int64_t HostTensor::numel() const {
  std::int64_t n = 1;
  for (const std::int64_t d : dims) n *= d;
  return n;
}

double HostTensor::real_at(std::int64_t i) const {
  const auto k = static_cast<std::size_t>(i);
  return is_integer() ? static_cast<double>(ints[k]) : reals[k];
}

std::int64_t HostTensor::int_at(std::int64_t i) const {
  const auto k = static_cast<std::size_t>(i);
  if (is_integer()) return ints[k];
  const double v = reals[k];
  // Finite and inside int64: the caster below is defined there only.
  if (!(v > -9.2e18 && v < 9.2e18)) {
    throw Error("the value " + std::to_string(v) + " is not a whole number in int64's range");
  }
  return static_cast<std::int64_t>(v);
}

Tensor HostTensor::to_tensor(DType like) const {
  DType dtype = like;
  if (elem_type == onnx::TensorProto::FLOAT) dtype = DType::f32;
  if (elem_type == onnx::TensorProto::DOUBLE) dtype = DType::f64;
  Tensor out(Shape(std::span<const std::int64_t>(dims)), dtype);
  const std::int64_t n = numel();
  if (dtype == DType::f32) {
    float* p = out.data<float>();
    for (std::int64_t i = 0; i < n; ++i) p[i] = static_cast<float>(real_at(i));
  } else {
    double* p = out.data<double>();
    for (std::int64_t i = 0; i < n; ++i) p[i] = real_at(i);
  }
  return out;
}

std::string elem_type_name(std::int32_t elem_type) {
  if (onnx::TensorProto::DataType_IsValid(elem_type)) {
    return onnx::TensorProto::DataType_Name(static_cast<onnx::TensorProto::DataType>(elem_type));
  }
  return "element type " + std::to_string(elem_type);
}

std::int64_t checked_numel(const std::vector<std::int64_t>& dims, std::int64_t max_elements,
                           const std::string& what) {
  if (dims.size() > static_cast<std::size_t>(Shape::kMaxRank)) {
    throw Error(what + " has rank " + std::to_string(dims.size()) +
                "; dagprop tensors have at most " + std::to_string(Shape::kMaxRank) + " axes");
  }
  std::int64_t n = 1;
  for (const std::int64_t d : dims) {
    if (d < 0) throw Error(what + " has a negative dimension " + std::to_string(d));
    // n * d <= max_elements, checked without overflow.
    if (d != 0 && n > max_elements / d) {
      throw Error(what + " has more than " + std::to_string(max_elements) +
                  " elements (OnnxImportOptions::max_elements)");
    }
    n *= d;
  }
  return n;
}

namespace {

template <class T>
void copy_raw(const std::string& raw, std::int64_t n, std::vector<double>& reals) {
  reals.resize(static_cast<std::size_t>(n));
  for (std::int64_t i = 0; i < n; ++i) {
    T v;
    std::memcpy(&v, raw.data() + i * static_cast<std::int64_t>(sizeof(T)), sizeof(T));
    reals[static_cast<std::size_t>(i)] = static_cast<double>(v);
  }
}

template <class T>
void copy_raw(const std::string& raw, std::int64_t n, std::vector<std::int64_t>& ints) {
  ints.resize(static_cast<std::size_t>(n));
  for (std::int64_t i = 0; i < n; ++i) {
    T v;
    std::memcpy(&v, raw.data() + i * static_cast<std::int64_t>(sizeof(T)), sizeof(T));
    ints[static_cast<std::size_t>(i)] = static_cast<std::int64_t>(v);
  }
}

std::size_t element_bytes(std::int32_t elem_type) {
  switch (elem_type) {
    case onnx::TensorProto::FLOAT:
      return 4;
    case onnx::TensorProto::DOUBLE:
      return 8;
    case onnx::TensorProto::INT64:
      return 8;
    case onnx::TensorProto::INT32:
      return 4;
    case onnx::TensorProto::BOOL:
      return 1;
    default:
      return 0;
  }
}

}  // namespace

HostTensor read_tensor(const onnx::TensorProto& proto, std::int64_t max_elements,
                       const std::string& what) {
  if (proto.data_location() == onnx::TensorProto::EXTERNAL || proto.external_data_size() > 0) {
    throw Error(what +
                " keeps its data in an external file, which dagprop does not read: save "
                "the model with its tensors inside (onnx.save_model(model, path, "
                "save_as_external_data=False))");
  }
  if (proto.has_segment())
    throw Error(what + " is a segment of a tensor, which dagprop does not read");
  HostTensor t;
  t.elem_type = proto.data_type();
  const std::size_t bytes = element_bytes(t.elem_type);
  if (bytes == 0) {
    throw Error(what + " has elements of type " + elem_type_name(t.elem_type) +
                "; dagprop reads FLOAT, DOUBLE, INT64, INT32 and BOOL tensors");
  }
  t.dims.assign(proto.dims().begin(), proto.dims().end());
  const std::int64_t n = checked_numel(t.dims, max_elements, what);
  const auto count_error = [&](std::size_t have, const char* field) {
    return Error(what + " has " + std::to_string(have) + " " + field + " for dims of " +
                 std::to_string(n) + " elements of " + elem_type_name(t.elem_type) +
                 ": the file is corrupt or truncated");
  };
  if (proto.has_raw_data()) {
    const std::string& raw = proto.raw_data();
    if (raw.size() != static_cast<std::size_t>(n) * bytes)
      throw count_error(raw.size(), "bytes of raw_data");
    switch (t.elem_type) {
      case onnx::TensorProto::FLOAT:
        copy_raw<float>(raw, n, t.reals);
        break;
      case onnx::TensorProto::DOUBLE:
        copy_raw<double>(raw, n, t.reals);
        break;
      case onnx::TensorProto::INT64:
        copy_raw<std::int64_t>(raw, n, t.ints);
        break;
      case onnx::TensorProto::INT32:
        copy_raw<std::int32_t>(raw, n, t.ints);
        break;
      default:
        copy_raw<std::uint8_t>(raw, n, t.ints);
        break;
    }
    return t;
  }
  const auto check = [&](int have, const char* field) {
    if (have != n) throw count_error(static_cast<std::size_t>(have), field);
  };
  switch (t.elem_type) {
    case onnx::TensorProto::FLOAT:
      check(proto.float_data_size(), "float_data");
      t.reals.assign(proto.float_data().begin(), proto.float_data().end());
      break;
    case onnx::TensorProto::DOUBLE:
      check(proto.double_data_size(), "double_data");
      t.reals.assign(proto.double_data().begin(), proto.double_data().end());
      break;
    case onnx::TensorProto::INT64:
      check(proto.int64_data_size(), "int64_data");
      t.ints.assign(proto.int64_data().begin(), proto.int64_data().end());
      break;
    default:  // INT32 and BOOL are stored in int32_data
      check(proto.int32_data_size(), "int32_data");
      t.ints.assign(proto.int32_data().begin(), proto.int32_data().end());
      break;
  }
  return t;
}

void write_tensor(const TensorView& value, const std::string& name, onnx::TensorProto& proto) {
  proto.set_name(name);
  proto.set_data_type(value.dtype() == DType::f32 ? onnx::TensorProto::FLOAT
                                                  : onnx::TensorProto::DOUBLE);
  for (const std::int64_t d : value.shape().dims()) proto.add_dims(d);
  proto.set_raw_data(static_cast<const char*>(value.raw()), value.nbytes());
}

}  // namespace dagprop::onnx_io
