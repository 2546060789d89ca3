// NumPy .npy files (format versions 1 to 3): read one array into a dagprop tensor, write one back.
// Inputs for models on the command line (`dagprop dot model.onnx --input x=x.npy`) and arrays
// exchanged with Python tests.
#pragma once

#include <cstddef>
#include <optional>
#include <string>
#include <string_view>

#include <dagprop/export.hpp>
#include <dagprop/tensor.hpp>

DAGPROP_API_BEGIN
namespace dagprop {

// Reads a C-ordered array of little-endian float32, float64, int64 or int32 elements. Integers
// become `integer_dtype` (dagprop holds indices as whole numbers in the data's dtype); floats keep
// their own dtype unless `float_dtype` is given. Every problem (not an .npy file, a header that
// is not a plain dict, Fortran order, an unsupported dtype, more than Shape::kMaxRank axes, more
// than max_elements, a size that disagrees with the shape) throws dagprop::Error naming the file.
Tensor read_npy(std::string_view bytes, std::optional<DType> float_dtype = std::nullopt,
                DType integer_dtype = DType::f64,
                std::int64_t max_elements = std::int64_t{1} << 32);
Tensor load_npy(const std::string& path, std::optional<DType> float_dtype = std::nullopt,
                DType integer_dtype = DType::f64,
                std::int64_t max_elements = std::int64_t{1} << 32);

std::string write_npy(const TensorView& value);
void save_npy(const TensorView& value, const std::string& path);

}  // namespace dagprop
DAGPROP_API_END
