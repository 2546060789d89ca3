// The IDX reader. zlib's gz* functions read gzip and plain files alike (a plain file is passed
// through), so one code path serves both; nothing here inflates by hand.
#include <dagprop/data/idx.hpp>

#include <algorithm>
#include <array>
#include <bit>
#include <cerrno>
#include <cstring>
#include <memory>
#include <vector>

#include <zlib.h>

#include <dagprop/error.hpp>

namespace dagprop::data {
namespace {

constexpr unsigned kChunkBytes = 1U << 20;

struct CloseGz {
  void operator()(gzFile_s* file) const noexcept { gzclose(file); }
};
using GzFile = std::unique_ptr<gzFile_s, CloseGz>;

std::size_t element_size(IdxType type) {
  switch (type) {
    case IdxType::u8:
    case IdxType::i8:
      return 1;
    case IdxType::i16:
      return 2;
    case IdxType::i32:
    case IdxType::f32:
      return 4;
    case IdxType::f64:
      return 8;
  }
  return 0;
}

bool is_known_type(std::uint8_t code) {
  return code == 0x08 || code == 0x09 || code == 0x0B || code == 0x0C || code == 0x0D ||
         code == 0x0E;
}

std::string hex_bytes(const unsigned char* bytes, std::size_t n) {
  static constexpr char kDigits[] = "0123456789abcdef";
  std::string text = "0x";
  for (std::size_t i = 0; i < n; ++i) {
    text += kDigits[bytes[i] >> 4];
    text += kDigits[bytes[i] & 15];
  }
  return text;
}

class IdxReader {
 public:
  explicit IdxReader(const std::string& path) : path_(path), file_(gzopen(path.c_str(), "rb")) {
    if (!file_) {
      throw Error("cannot open IDX file '" + path + "': " + std::strerror(errno) +
                  "; check the path");
    }
    gzbuffer(file_.get(), kChunkBytes);
  }

  [[noreturn]] void fail(const std::string& message) const {
    throw Error("IDX file '" + path_ + "': " + message);
  }

  // Reads up to n bytes; fewer only at the end of the data. A corrupt gzip stream is an error.
  std::size_t read(unsigned char* out, std::size_t n) {
    std::size_t total = 0;
    while (total < n) {
      const auto want = static_cast<unsigned>(std::min<std::size_t>(n - total, kChunkBytes));
      const int got = gzread(file_.get(), out + total, want);
      if (got < 0) fail_with_zlib_error();
      if (got == 0) break;
      total += static_cast<std::size_t>(got);
    }
    int zlib_error = Z_OK;
    gzerror(file_.get(), &zlib_error);
    // A gzip stream cut short reads as a short read plus Z_BUF_ERROR; report it as what it is.
    if (zlib_error != Z_OK && zlib_error != Z_STREAM_END) fail_with_zlib_error();
    return total;
  }

  void read_exactly(unsigned char* out, std::size_t n, const std::string& what) {
    const std::size_t got = read(out, n);
    if (got != n) {
      fail("truncated: the file ends inside " + what + " (" + std::to_string(got) + " of " +
           std::to_string(n) + " bytes)");
    }
  }

 private:
  [[noreturn]] void fail_with_zlib_error() const {
    int code = Z_OK;
    const char* message = gzerror(file_.get(), &code);
    fail(std::string("corrupt or truncated gzip data (zlib: ") +
         (message != nullptr && *message != '\0' ? message : "unknown error") + ")");
  }

  std::string path_;
  GzFile file_;
};

template <class Raw>
Raw load_big_endian(const unsigned char* p) {
  std::array<unsigned char, sizeof(Raw)> bytes;
  std::memcpy(bytes.data(), p, sizeof(Raw));
  if constexpr (std::endian::native == std::endian::little)
    std::reverse(bytes.begin(), bytes.end());
  Raw value;
  std::memcpy(&value, bytes.data(), sizeof(Raw));
  return value;
}

void convert(IdxType type, const std::vector<unsigned char>& raw, float* out, std::int64_t n) {
  for (std::int64_t i = 0; i < n; ++i) {
    const unsigned char* p = raw.data() + static_cast<std::size_t>(i) * element_size(type);
    switch (type) {
      case IdxType::u8:
        out[i] = static_cast<float>(p[0]);
        break;
      case IdxType::i8:
        out[i] = static_cast<float>(static_cast<std::int8_t>(p[0]));
        break;
      case IdxType::i16:
        out[i] = static_cast<float>(load_big_endian<std::int16_t>(p));
        break;
      case IdxType::i32:
        out[i] = static_cast<float>(load_big_endian<std::int32_t>(p));
        break;
      case IdxType::f32:
        out[i] = load_big_endian<float>(p);
        break;
      case IdxType::f64:
        out[i] = static_cast<float>(load_big_endian<double>(p));
        break;
    }
  }
}

}  // namespace

IdxArray read_idx(const std::string& path, const IdxOptions& options) {
  IdxReader reader(path);
  std::array<unsigned char, 4> magic{};
  reader.read_exactly(magic.data(), magic.size(), "the 4-byte magic number");
  if (magic[0] != 0 || magic[1] != 0 || !is_known_type(magic[2])) {
    reader.fail("wrong magic number " + hex_bytes(magic.data(), magic.size()) +
                ": an IDX file starts with two zero bytes, a type code (0x08 u8, 0x09 i8, 0x0b "
                "i16, 0x0c i32, 0x0d f32, 0x0e f64) and its rank; this is not an IDX file");
  }
  const int rank = magic[3];
  if (rank < 1 || rank > Shape::kMaxRank) {
    reader.fail("rank " + std::to_string(rank) + " in the magic number " +
                hex_bytes(magic.data(), magic.size()) + " is not in 1.." +
                std::to_string(Shape::kMaxRank));
  }
  std::array<unsigned char, 4 * Shape::kMaxRank> dim_bytes{};
  reader.read_exactly(dim_bytes.data(), 4 * static_cast<std::size_t>(rank),
                      "the " + std::to_string(rank) + " dimension(s)");
  std::array<std::int64_t, Shape::kMaxRank> dims{};
  std::int64_t elements = 1;
  std::string dims_text;
  for (int d = 0; d < rank; ++d) {
    dims[static_cast<std::size_t>(d)] = load_big_endian<std::uint32_t>(dim_bytes.data() + 4 * d);
    dims_text += (d == 0 ? "[" : ", ") + std::to_string(dims[static_cast<std::size_t>(d)]);
  }
  dims_text += "]";
  // Each dimension is below 2^32 and the product is checked after every factor, so it cannot
  // overflow before the limit is seen.
  for (int d = 0; d < rank; ++d) {
    elements *= dims[static_cast<std::size_t>(d)];
    if (elements > options.max_elements) {
      reader.fail("absurd dimensions " + dims_text + ": more than " +
                  std::to_string(options.max_elements) +
                  " elements (IdxOptions::max_elements); the header is corrupt, or raise the "
                  "limit");
    }
  }
  const auto type = static_cast<IdxType>(magic[2]);
  const std::size_t expected = static_cast<std::size_t>(elements) * element_size(type);

  // Grow the buffer only as bytes arrive: a header that lies about its size cannot make us
  // allocate more than the file really holds.
  std::vector<unsigned char> raw;
  raw.reserve(std::min<std::size_t>(expected, std::size_t{64} << 20));
  std::vector<unsigned char> chunk(
      std::min<std::size_t>(std::max<std::size_t>(expected, 1), kChunkBytes));
  while (raw.size() < expected) {
    const std::size_t want = std::min(chunk.size(), expected - raw.size());
    const std::size_t got = reader.read(chunk.data(), want);
    raw.insert(raw.end(), chunk.begin(), chunk.begin() + static_cast<std::ptrdiff_t>(got));
    if (got < want) {
      reader.fail("truncated: the header announces " + dims_text + " = " +
                  std::to_string(elements) + " elements (" + std::to_string(expected) +
                  " bytes) but the file ends after " + std::to_string(raw.size()) + " of them");
    }
  }
  unsigned char extra = 0;
  if (reader.read(&extra, 1) != 0) {
    reader.fail("trailing bytes after the " + std::to_string(elements) +
                " elements that the header " + dims_text +
                " announces; the file is corrupt or the header is wrong");
  }
  IdxArray array;
  array.type = type;
  array.values = Tensor(Shape(std::span<const std::int64_t>(dims.data(), rank)), DType::f32);
  convert(type, raw, array.values.data<float>(), elements);
  return array;
}

Dataset load_idx_dataset(const std::string& images_path, const std::string& labels_path,
                         const IdxOptions& options) {
  const IdxArray images = read_idx(images_path, options);
  const IdxArray labels = read_idx(labels_path, options);
  const Shape& image_shape = images.values.shape();
  if (images.type != IdxType::u8 || image_shape.rank() < 2) {
    throw Error("IDX file '" + images_path +
                "': images must be unsigned bytes of shape [n, rows, "
                "cols] (or [n, features]), got rank " +
                std::to_string(image_shape.rank()) + " of type code " +
                std::to_string(static_cast<int>(images.type)));
  }
  if (labels.type != IdxType::u8 || labels.values.shape().rank() != 1) {
    throw Error("IDX file '" + labels_path + "': labels must be unsigned bytes of shape [n], got " +
                labels.values.shape().to_string() + " of type code " +
                std::to_string(static_cast<int>(labels.type)));
  }
  const std::int64_t n = image_shape[0];
  if (labels.values.shape()[0] != n) {
    throw Error("IDX files '" + images_path + "' and '" + labels_path + "' disagree: " +
                std::to_string(n) + " images but " + std::to_string(labels.values.shape()[0]) +
                " labels; pair each image file with its own label file");
  }
  Dataset d;
  d.name = images_path;
  const std::int64_t width = n == 0 ? 0 : images.values.numel() / n;
  d.features = Tensor(Shape{n, width}, DType::f32);
  for (int k = 1; k < image_shape.rank(); ++k) d.example_shape.push_back(image_shape[k]);
  const float* pixels = images.values.data<float>();
  float* features = d.features.data<float>();
  // Scaled to [0, 1]: raw 0..255 inputs would make the first layer's pre-activations ~255 times
  // larger than its initializer assumes.
  for (std::int64_t i = 0; i < images.values.numel(); ++i) features[i] = pixels[i] / 255.0F;
  d.labels = Tensor(labels.values);
  float largest = 0;
  for (std::int64_t i = 0; i < n; ++i) largest = std::max(largest, d.labels.data<float>()[i]);
  d.num_classes = static_cast<std::int64_t>(largest) + 1;
  return d;
}

}  // namespace dagprop::data
