// The IDX reader on small files written here, plain and gzip, well-formed and malformed; and the
// Fashion-MNIST loader on a fake folder (the real package is not needed).
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <zlib.h>

#include <cstdint>
#include <fstream>
#include <iterator>
#include <string>
#include <vector>

#include <dagprop/data/fashion_mnist.hpp>
#include <dagprop/data/idx.hpp>
#include <dagprop/error.hpp>

#include "support/temp_dir.hpp"

namespace dagprop::data {
namespace {

using ::testing::HasSubstr;
using testing::TempDir;

// An IDX header: two zero bytes, the type, the rank, then big-endian dimensions.
std::string idx_header(std::uint8_t type, const std::vector<std::uint32_t>& dims) {
  std::string bytes{'\0', '\0', static_cast<char>(type), static_cast<char>(dims.size())};
  for (const std::uint32_t d : dims) {
    for (int shift = 24; shift >= 0; shift -= 8) bytes += static_cast<char>((d >> shift) & 0xFF);
  }
  return bytes;
}

std::string ubyte_file(const std::vector<std::uint32_t>& dims, std::uint8_t first_value = 0) {
  std::string bytes = idx_header(0x08, dims);
  std::size_t n = 1;
  for (const std::uint32_t d : dims) n *= d;
  for (std::size_t i = 0; i < n; ++i) bytes += static_cast<char>((first_value + i) % 256);
  return bytes;
}

std::string write_gzip(const TempDir& dir, const std::string& name, const std::string& bytes) {
  const std::string path = dir.file(name);
  gzFile out = gzopen(path.c_str(), "wb");
  gzwrite(out, bytes.data(), static_cast<unsigned>(bytes.size()));
  gzclose(out);
  return path;
}

std::string error_of(const std::string& path) {
  try {
    read_idx(path);
  } catch (const Error& e) {
    return e.what();
  }
  return "no error";
}

TEST(IdxReader, ReadsPlainUnsignedBytesWithTheirShape) {
  const TempDir dir;
  const IdxArray a = read_idx(dir.write("a.idx", ubyte_file({2, 3}, 250)));
  EXPECT_EQ(a.type, IdxType::u8);
  EXPECT_EQ(a.values.shape(), (Shape{2, 3}));
  EXPECT_EQ(a.values.to_vector(), (std::vector<double>{250, 251, 252, 253, 254, 255}));
}

TEST(IdxReader, ReadsGzipFilesLikePlainOnes) {
  const TempDir dir;
  const IdxArray a = read_idx(write_gzip(dir, "a.idx.gz", ubyte_file({4, 2, 2})));
  EXPECT_EQ(a.values.shape(), (Shape{4, 2, 2}));
  EXPECT_EQ(a.values.at(15), 15.0);
}

TEST(IdxReader, ReadsBigEndianMultiByteTypes) {
  const TempDir dir;
  std::string bytes = idx_header(0x0B, {2});
  bytes += std::string{'\x01', '\x02', '\xFF', '\xFE'};  // 258, -2
  const IdxArray a = read_idx(dir.write("s.idx", bytes));
  EXPECT_EQ(a.type, IdxType::i16);
  EXPECT_EQ(a.values.to_vector(), (std::vector<double>{258, -2}));
}

TEST(IdxReader, RejectsWrongMagicNumber) {
  const TempDir dir;
  EXPECT_THAT(error_of(dir.write("bad.idx", "PK\x03\x04 not an idx file")),
              HasSubstr("wrong magic number 0x504b0304"));
  EXPECT_THAT(error_of(dir.write("type.idx", idx_header(0x07, {1}) + "x")),
              HasSubstr("wrong magic number"));
}

TEST(IdxReader, RejectsRankOutsideTheSupportedRange) {
  const TempDir dir;
  EXPECT_THAT(error_of(dir.write("r0.idx", idx_header(0x08, {}))), HasSubstr("rank 0"));
  EXPECT_THAT(error_of(dir.write("r7.idx", idx_header(0x08, {1, 1, 1, 1, 1, 1, 1}))),
              HasSubstr("rank 7"));
}

TEST(IdxReader, RejectsAbsurdDimensionsBeforeAllocating) {
  const TempDir dir;
  const std::string message =
      error_of(dir.write("huge.idx", idx_header(0x08, {0xFFFFFFFFU, 0xFFFFFFFFU, 0xFFFFFFFFU})));
  EXPECT_THAT(message, HasSubstr("absurd dimensions [4294967295, 4294967295, 4294967295]"));
  EXPECT_THAT(message, HasSubstr("max_elements"));
}

TEST(IdxReader, RejectsTruncatedElements) {
  const TempDir dir;
  std::string bytes = ubyte_file({10, 10});
  bytes.resize(bytes.size() - 7);
  EXPECT_THAT(error_of(dir.write("short.idx", bytes)),
              HasSubstr("truncated: the header announces [10, 10] = 100 elements (100 bytes) but "
                        "the file ends after 93"));
}

TEST(IdxReader, RejectsTruncatedHeader) {
  const TempDir dir;
  EXPECT_THAT(error_of(dir.write("h.idx", std::string{'\0', '\0'})),
              HasSubstr("truncated: the file ends inside the 4-byte magic number"));
  EXPECT_THAT(error_of(dir.write("d.idx", idx_header(0x08, {3, 3}).substr(0, 9))),
              HasSubstr("inside the 2 dimension(s)"));
}

TEST(IdxReader, RejectsALyingHeaderWithoutAllocatingWhatItClaims) {
  // 2^28 elements claimed (the default limit), 4 present: an error about truncation, not an
  // allocation of 256 MiB.
  const TempDir dir;
  EXPECT_THAT(error_of(dir.write("lie.idx", idx_header(0x08, {1U << 14, 1U << 14}) + "abcd")),
              HasSubstr("the file ends after 4"));
}

TEST(IdxReader, RejectsTruncatedGzipStream) {
  const TempDir dir;
  std::string bytes = ubyte_file({64, 64});
  // Incompressible content, so that cutting the compressed file cuts the element data.
  for (std::size_t i = 12; i < bytes.size(); ++i)
    bytes[i] = static_cast<char>((i * 2654435761U) >> 13);
  const std::string path = write_gzip(dir, "a.idx.gz", bytes);
  std::ifstream in(path, std::ios::binary);
  std::string compressed((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  compressed.resize(compressed.size() / 2);
  const std::string message = error_of(dir.write("cut.idx.gz", compressed));
  EXPECT_THAT(message, ::testing::AnyOf(HasSubstr("truncated"), HasSubstr("gzip")));
}

TEST(IdxReader, RejectsTrailingBytes) {
  const TempDir dir;
  EXPECT_THAT(error_of(dir.write("long.idx", ubyte_file({2, 2}) + "zz")),
              HasSubstr("trailing bytes after the 4 elements"));
}

TEST(IdxReader, MissingFileNamesThePath) {
  const TempDir dir;
  EXPECT_THAT(error_of(dir.file("nope.idx")), HasSubstr("cannot open IDX file"));
}

TEST(IdxDataset, ScalesPixelsAndPairsLabels) {
  const TempDir dir;
  const Dataset d =
      load_idx_dataset(dir.write("i.idx", ubyte_file({3, 2, 2}, 0)),
                       dir.write("l.idx", idx_header(0x08, {3}) + std::string{'\2', '\0', '\1'}));
  EXPECT_EQ(d.features.shape(), (Shape{3, 4}));
  EXPECT_FLOAT_EQ(d.features.at(5), 5.0F / 255.0F);
  EXPECT_EQ(d.labels.to_vector(), (std::vector<double>{2, 0, 1}));
  EXPECT_EQ(d.num_classes, 3);
}

TEST(IdxDataset, RejectsImageAndLabelCountsThatDiffer) {
  const TempDir dir;
  try {
    load_idx_dataset(dir.write("i.idx", ubyte_file({3, 2, 2})),
                     dir.write("l.idx", ubyte_file({2})));
    FAIL() << "expected an error";
  } catch (const Error& e) {
    EXPECT_THAT(e.what(), HasSubstr("3 images but 2 labels"));
  }
}

TEST(FashionMnist, MissingFilesNameThePackageAndTheInstallCommand) {
  const TempDir dir;
  try {
    load_fashion_mnist(dir.path().string());
    FAIL() << "expected an error";
  } catch (const Error& e) {
    EXPECT_THAT(e.what(), HasSubstr("dataset-fashion-mnist"));
    EXPECT_THAT(e.what(), HasSubstr("apt-get install dataset-fashion-mnist"));
  }
}

TEST(FashionMnist, ReadsAFolderOfIdxFiles) {
  const TempDir dir;
  write_gzip(dir, "train-images-idx3-ubyte.gz", ubyte_file({3, 28, 28}));
  write_gzip(dir, "train-labels-idx1-ubyte.gz",
             idx_header(0x08, {3}) + std::string("\x09\x00\x05", 3));
  dir.write("t10k-images-idx3-ubyte", ubyte_file({2, 28, 28}));  // unpacked copies work too
  dir.write("t10k-labels-idx1-ubyte", idx_header(0x08, {2}) + "\x01\x02");
  const TrainTest data = load_fashion_mnist(dir.path().string());
  EXPECT_EQ(data.train.features.shape(), (Shape{3, 784}));
  EXPECT_EQ(data.test.size(), 2);
  EXPECT_EQ(data.train.num_classes, 10);
  EXPECT_EQ(data.train.class_names[9], "Ankle boot");
}

TEST(IdxDataset, KeepsTheImageShapeOfAnExample) {
  const TempDir dir;
  const Dataset d =
      load_idx_dataset(dir.write("i.idx", ubyte_file({2, 3, 5})),
                       dir.write("l.idx", idx_header(0x08, {2}) + std::string("\x01\x00", 2)));
  EXPECT_EQ(d.example_shape, (std::vector<std::int64_t>{3, 5}));
  EXPECT_EQ(d.num_features(), 15);
}

TEST(FashionMnist, RejectsATestSetOfAnotherImageShapeWithTheSamePixelCount) {
  const TempDir dir;
  dir.write("train-images-idx3-ubyte", ubyte_file({3, 28, 28}));
  dir.write("train-labels-idx1-ubyte", idx_header(0x08, {3}) + std::string("\x09\x00\x05", 3));
  dir.write("t10k-images-idx3-ubyte", ubyte_file({2, 14, 56}));  // 784 pixels too
  dir.write("t10k-labels-idx1-ubyte", idx_header(0x08, {2}) + "\x01\x02");
  try {
    load_fashion_mnist(dir.path().string());
    FAIL() << "expected an error";
  } catch (const Error& e) {
    EXPECT_THAT(e.what(), HasSubstr("t10k-images-idx3-ubyte holds images of 14x56 pixels"));
    EXPECT_THAT(e.what(), HasSubstr("expected 28x28 images"));
  }
}

}  // namespace
}  // namespace dagprop::data
