// IDX files (the MNIST format: a magic number giving the element type and rank, big-endian
// dimensions, then the elements), plain or gzip-compressed, read through zlib. Files are treated as
// untrusted: a wrong magic, absurd dimensions, truncation or trailing bytes give dagprop::Error,
// and memory grows only with the bytes actually read.
#pragma once

#include <cstdint>
#include <string>

#include <dagprop/data/dataset.hpp>
#include <dagprop/export.hpp>
#include <dagprop/tensor.hpp>

DAGPROP_API_BEGIN
namespace dagprop::data {

struct IdxOptions {
  // Files claiming more elements than this are refused before anything is allocated.
  std::int64_t max_elements = std::int64_t{1} << 28;
};

// The element type, from the third byte of the magic number.
enum class IdxType : std::uint8_t {
  u8 = 0x08,
  i8 = 0x09,
  i16 = 0x0B,
  i32 = 0x0C,
  f32 = 0x0D,
  f64 = 0x0E
};

struct IdxArray {
  IdxType type = IdxType::u8;
  Tensor values;  // the elements converted to float32, in a tensor of the file's dimensions
};

IdxArray read_idx(const std::string& path, const IdxOptions& options = {});

// An image file [n, rows, cols] of unsigned bytes and a label file [n]: features [n, rows * cols]
// scaled to [0, 1], labels as class indices (num_classes = largest label + 1).
Dataset load_idx_dataset(const std::string& images_path, const std::string& labels_path,
                         const IdxOptions& options = {});

}  // namespace dagprop::data
DAGPROP_API_END
