// .npy reading and writing: the header is a Python dict literal; only the three keys NumPy writes
// are accepted, and the data's size must be exactly what the shape says.
#include <dagprop/npy.hpp>

#include <cstring>
#include <fstream>
#include <sstream>
#include <vector>

#include <dagprop/error.hpp>

namespace dagprop {
namespace {

[[noreturn]] void bad(const std::string& problem) {
  throw Error("not a readable .npy array: " + problem);
}

std::string_view trim(std::string_view s) {
  while (!s.empty() && (s.front() == ' ' || s.front() == '\n')) s.remove_prefix(1);
  while (!s.empty() && (s.back() == ' ' || s.back() == '\n')) s.remove_suffix(1);
  return s;
}

// The value of 'key' in the header dict, up to the next top-level comma or closing brace.
std::string_view field(std::string_view header, std::string_view key) {
  const std::string quoted = "'" + std::string(key) + "':";
  const auto at = header.find(quoted);
  if (at == std::string_view::npos) bad("the header has no '" + std::string(key) + "'");
  std::string_view rest = header.substr(at + quoted.size());
  std::size_t end = 0;
  int depth = 0;
  for (; end < rest.size(); ++end) {
    const char c = rest[end];
    if (c == '(') ++depth;
    if (c == ')') --depth;
    if (depth == 0 && (c == ',' || c == '}')) break;
    if (depth == 0 && c == ')') {
      ++end;
      break;
    }
  }
  return trim(rest.substr(0, end));
}

}  // namespace

Tensor read_npy(std::string_view bytes, std::optional<DType> float_dtype, DType integer_dtype,
                std::int64_t max_elements) {
  if (bytes.size() < 10 || bytes.substr(0, 6) != "\x93NUMPY") bad("no \\x93NUMPY magic");
  const int major = static_cast<unsigned char>(bytes[6]);
  std::size_t header_len = 0, offset = 0;
  if (major == 1) {
    header_len = static_cast<unsigned char>(bytes[8]) |
                 (static_cast<std::size_t>(static_cast<unsigned char>(bytes[9])) << 8);
    offset = 10;
  } else if (major == 2 || major == 3) {
    if (bytes.size() < 12) bad("truncated header");
    for (int k = 0; k < 4; ++k)
      header_len |= static_cast<std::size_t>(static_cast<unsigned char>(bytes[8 + k])) << (8 * k);
    offset = 12;
  } else {
    bad("format version " + std::to_string(major));
  }
  if (header_len > bytes.size() - offset) bad("the header is longer than the file");
  const std::string_view header = bytes.substr(offset, header_len);
  const std::string_view data = bytes.substr(offset + header_len);

  const std::string_view descr = field(header, "descr");
  std::size_t size = 0;
  bool integer = false;
  if (descr == "'<f4'")
    size = 4;
  else if (descr == "'<f8'")
    size = 8;
  else if (descr == "'<i8'")
    size = 8, integer = true;
  else if (descr == "'<i4'")
    size = 4, integer = true;
  else
    bad("dtype " + std::string(descr) + " (dagprop reads <f4, <f8, <i8 and <i4)");
  if (field(header, "fortran_order") != "False") bad("Fortran order (save a C-ordered array)");
  std::string_view shape_text = field(header, "shape");
  if (shape_text.size() < 2 || shape_text.front() != '(' || shape_text.back() != ')')
    bad("shape " + std::string(shape_text));
  shape_text = shape_text.substr(1, shape_text.size() - 2);
  std::vector<std::int64_t> dims;
  std::int64_t numel = 1;
  while (!trim(shape_text).empty()) {
    shape_text = trim(shape_text);
    std::size_t end = 0;
    std::int64_t d = 0;
    while (end < shape_text.size() && shape_text[end] >= '0' && shape_text[end] <= '9') {
      if (d > max_elements) bad("a dimension over " + std::to_string(max_elements));
      d = d * 10 + (shape_text[end++] - '0');
    }
    if (end == 0) bad("shape entry '" + std::string(shape_text) + "'");
    if (dims.size() == static_cast<std::size_t>(Shape::kMaxRank))
      bad("more than " + std::to_string(Shape::kMaxRank) + " axes");
    if (d != 0 && numel > max_elements / d)
      bad("more than " + std::to_string(max_elements) + " elements");
    numel *= d;
    dims.push_back(d);
    shape_text = trim(shape_text.substr(end));
    if (!shape_text.empty()) {
      if (shape_text.front() != ',') bad("shape separator");
      shape_text.remove_prefix(1);
    }
  }
  if (data.size() != static_cast<std::size_t>(numel) * size) {
    bad("the shape says " + std::to_string(numel) + " elements of " + std::to_string(size) +
        " bytes, the file holds " + std::to_string(data.size()) + " bytes of data");
  }
  const DType dtype =
      integer ? integer_dtype : float_dtype.value_or(size == 4 ? DType::f32 : DType::f64);
  Tensor out(Shape(std::span<const std::int64_t>(dims)), dtype);
  for (std::int64_t i = 0; i < numel; ++i) {
    const char* p = data.data() + i * static_cast<std::int64_t>(size);
    double v = 0;
    if (integer && size == 8) {
      std::int64_t x;
      std::memcpy(&x, p, 8);
      v = static_cast<double>(x);
    } else if (integer) {
      std::int32_t x;
      std::memcpy(&x, p, 4);
      v = x;
    } else if (size == 4) {
      float x;
      std::memcpy(&x, p, 4);
      v = x;
    } else {
      std::memcpy(&v, p, 8);
    }
    out.set(i, v);
  }
  return out;
}

Tensor load_npy(const std::string& path, std::optional<DType> float_dtype, DType integer_dtype,
                std::int64_t max_elements) {
  std::ifstream file(path, std::ios::binary);
  if (!file) throw Error("cannot open .npy file '" + path + "'");
  std::stringstream content;
  content << file.rdbuf();
  try {
    return read_npy(content.str(), float_dtype, integer_dtype, max_elements);
  } catch (const Error& e) {
    throw Error(path + ": " + e.what());
  }
}

std::string write_npy(const TensorView& value) {
  std::string shape;
  for (const std::int64_t d : value.shape().dims())
    shape += (shape.empty() ? "" : ", ") + std::to_string(d);
  if (value.shape().rank() == 1) shape += ",";  // Python's one-element tuple
  std::string header = "{'descr': '" + std::string(value.dtype() == DType::f32 ? "<f4" : "<f8") +
                       "', 'fortran_order': False, 'shape': (" + shape + "), }";
  // Padded with spaces so that the data starts on a 64-byte boundary, ending in a newline.
  while ((10 + header.size() + 1) % 64 != 0) header += ' ';
  header += '\n';
  std::string out = "\x93NUMPY";
  out += '\x01';
  out += '\x00';
  out += static_cast<char>(header.size() & 0xff);
  out += static_cast<char>(header.size() >> 8);
  out += header;
  out.append(static_cast<const char*>(value.raw()), value.nbytes());
  return out;
}

void save_npy(const TensorView& value, const std::string& path) {
  std::ofstream file(path, std::ios::binary);
  const std::string bytes = write_npy(value);
  if (!file.write(bytes.data(), static_cast<std::streamsize>(bytes.size()))) {
    throw Error("cannot write .npy file '" + path + "'");
  }
}

}  // namespace dagprop
