// Tensors known while importing an ONNX model (initializers, Constant nodes, folded shape
// arithmetic), read from and written to TensorProto with every size checked before allocating.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include <onnx/onnx_pb.h>
#include <dagprop/shape.hpp>
#include <dagprop/tensor.hpp>

namespace dagprop::onnx_io {

// One known tensor: float and double elements in `reals`, integer and boolean ones in `ints`
// (int64 shape values such as INT64_MAX slice ends do not survive a trip through double).
struct HostTensor {
  std::int32_t elem_type = onnx::TensorProto::FLOAT;
  std::vector<std::int64_t> dims;
  std::vector<double> reals;
  std::vector<std::int64_t> ints;

  bool is_integer() const {
    return elem_type != onnx::TensorProto::FLOAT && elem_type != onnx::TensorProto::DOUBLE;
  }
  std::int64_t numel() const;
  double real_at(std::int64_t i) const;
  std::int64_t int_at(std::int64_t i) const;
  // The dagprop tensor of these values: float elements keep their dtype, integers become `like`.
  Tensor to_tensor(DType like) const;
};

std::string elem_type_name(std::int32_t elem_type);

// The number of elements of `dims`; throws (with `what` in the message) when a dimension is
// negative, the rank exceeds dagprop's, or the count exceeds max_elements.
std::int64_t checked_numel(const std::vector<std::int64_t>& dims, std::int64_t max_elements,
                           const std::string& what);

// Reads a TensorProto; `what` names it in errors ("initializer 'fc.weight'"). Rejects external
// data, unsupported element types, and data whose size disagrees with the dims.
HostTensor read_tensor(const onnx::TensorProto& proto, std::int64_t max_elements,
                       const std::string& what);

// Writes a dagprop tensor (float or double) as a TensorProto with raw little-endian data.
void write_tensor(const TensorView& value, const std::string& name, onnx::TensorProto& proto);

}  // namespace dagprop::onnx_io
