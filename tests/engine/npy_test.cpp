// .npy files: what write_npy writes, read_npy reads back exactly; NumPy's headers of every rank;
// broken and hostile files are refused with a message before allocating.
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <cstring>

#include <dagprop/error.hpp>
#include <dagprop/npy.hpp>

namespace dagprop {
namespace {

using ::testing::HasSubstr;

std::string npy_error(const std::string& bytes) {
  try {
    read_npy(bytes);
  } catch (const Error& e) {
    return e.what();
  }
  return "(read without an error)";
}

// A version-1 file with this header text (padded as NumPy pads it) and data.
std::string npy(std::string header, const std::string& data) {
  while ((10 + header.size() + 1) % 64 != 0) header += ' ';
  header += '\n';
  std::string out = "\x93NUMPY\x01";
  out += '\0';
  out += static_cast<char>(header.size() & 0xff);
  out += static_cast<char>(header.size() >> 8);
  return out + header + data;
}

TEST(Npy, WrittenArraysReadBackBitForBitAtEveryRank) {
  for (const Shape& shape : {Shape{}, Shape{5}, Shape{2, 3}, Shape{1, 2, 1, 3}}) {
    for (const DType dtype : {DType::f32, DType::f64}) {
      Tensor t(shape, dtype);
      for (std::int64_t i = 0; i < t.numel(); ++i) t.set(i, 0.1 * static_cast<double>(i) - 0.25);
      const Tensor back = read_npy(write_npy(t));
      EXPECT_EQ(back.shape(), shape);
      EXPECT_EQ(back.dtype(), dtype);
      EXPECT_TRUE(bitwise_equal(back, t)) << shape.to_string();
    }
  }
}

TEST(Npy, WrittenHeaderIsNumpys) {
  const std::string bytes = write_npy(Tensor::from({1, 2, 3}, Shape{3}));
  EXPECT_THAT(bytes, HasSubstr("{'descr': '<f8', 'fortran_order': False, 'shape': (3,), }"));
  EXPECT_EQ((bytes.size() - 24) % 64, 0u);  // data aligned as NumPy aligns it
}

TEST(Npy, IntegersBecomeWholeNumbersOfTheAskedDtype) {
  std::string data(16, '\0');
  const std::int64_t values[2] = {7, -3};
  std::memcpy(data.data(), values, 16);
  const Tensor t = read_npy(npy("{'descr': '<i8', 'fortran_order': False, 'shape': (2,), }", data),
                            std::nullopt, DType::f32);
  EXPECT_EQ(t.dtype(), DType::f32);
  EXPECT_EQ(t.to_vector(), (std::vector<double>{7, -3}));
}

TEST(Npy, BrokenFilesAreRefusedWithTheReason) {
  EXPECT_THAT(npy_error("PK\x03\x04 a zip"), HasSubstr("no \\x93NUMPY magic"));
  EXPECT_THAT(npy_error(npy("{'descr': '<f8', 'fortran_order': True, 'shape': (2,), }",
                            std::string(16, '\0'))),
              HasSubstr("Fortran order"));
  EXPECT_THAT(npy_error(npy("{'descr': '<c16', 'fortran_order': False, 'shape': (2,), }",
                            std::string(32, '\0'))),
              HasSubstr("dtype '<c16'"));
  EXPECT_THAT(npy_error(npy("{'descr': '<f8', 'fortran_order': False, 'shape': (2, 3), }",
                            std::string(40, '\0'))),
              HasSubstr("6 elements of 8 bytes, the file holds 40 bytes"));
  EXPECT_THAT(
      npy_error(npy(
          "{'descr': '<f8', 'fortran_order': False, 'shape': (99999999999, 99999999999), }", "")),
      HasSubstr("a dimension over 4294967296"));
  EXPECT_THAT(
      npy_error(npy("{'descr': '<f8', 'fortran_order': False, 'shape': (99999, 99999), }", "")),
      HasSubstr("more than 4294967296 elements"));
  EXPECT_THAT(
      npy_error(
          npy("{'descr': '<f8', 'fortran_order': False, 'shape': (1, 1, 1, 1, 1, 1, 1), }", "")),
      HasSubstr("more than 6 axes"));
  EXPECT_THAT(npy_error(npy("{'descr': '<f8', 'fortran_order': False}", "")),
              HasSubstr("no 'shape'"));
  const std::string whole = write_npy(Tensor::from({1, 2, 3}, Shape{3}));
  EXPECT_THAT(npy_error(whole.substr(0, 9)), HasSubstr("magic"));
  EXPECT_THAT(npy_error(whole.substr(0, 40)), HasSubstr("longer than the file"));
  EXPECT_THAT(npy_error(whole.substr(0, whole.size() - 1)), HasSubstr("the file holds 23 bytes"));
}

}  // namespace
}  // namespace dagprop
