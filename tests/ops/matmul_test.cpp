// matmul on OpenBLAS: transposed operands, products cut into several blocks (rows or columns),
// batches, and the same bits whether the blocks run serially or on several threads.
#include <gtest/gtest.h>

#include <cmath>
#include <string>

#include <oneapi/tbb/task_arena.h>

#include <dagprop/dagprop.hpp>
#include <dagprop/kernel_loops.hpp>

namespace dagprop {
namespace {

Tensor random_f32(Shape shape, std::uint64_t seed) {
  SplitMix64 random(seed);
  Tensor t(shape, DType::f32);
  float* data = t.data<float>();
  for (std::int64_t i = 0; i < t.numel(); ++i) data[i] = 2 * random.uniform_float() - 1;
  return t;
}

// Element (i, j) of op(X) for a matrix X stored row-major as [rows][cols].
double element(const Tensor& x, std::int64_t matrix, bool transposed, std::int64_t i,
               std::int64_t j) {
  const Shape& s = x.shape();
  const std::int64_t rows = s[s.rank() - 2], cols = s[s.rank() - 1];
  const std::int64_t offset = s.rank() > 2 ? matrix * rows * cols : 0;
  return transposed ? x.at(offset + j * cols + i) : x.at(offset + i * cols + j);
}

// Indices 0, 7, 14, ... and the last: a stride prime to the block sizes, so every block is met.
std::vector<std::int64_t> sample(std::int64_t extent) {
  std::vector<std::int64_t> indices;
  for (std::int64_t i = 0; i < extent; i += 7) indices.push_back(i);
  if (indices.back() != extent - 1) indices.push_back(extent - 1);
  return indices;
}

struct Product {
  Shape a, b;
  bool a_transposed = false, b_transposed = false;
};

// Large enough for several blocks (at least 2 x 2^25 flops), cut along rows (m >= n) or along
// columns (m < n), each with every transposition and a batch sharing one operand.
std::vector<Product> products() {
  std::vector<Product> result;
  for (const auto& [m, n] : {std::pair<std::int64_t, std::int64_t>{520, 136}, {136, 520}}) {
    const std::int64_t k = 500;
    for (const bool ta : {false, true}) {
      for (const bool tb : {false, true}) {
        const Shape a = ta ? Shape{k, m} : Shape{m, k};
        const Shape b = tb ? Shape{n, k} : Shape{k, n};
        result.push_back({a, b, ta, tb});
        result.push_back({Shape{2, a[0], a[1]}, b, ta, tb});
      }
    }
  }
  return result;
}

TEST(Matmul, BlockedProductsMatchADoublePrecisionReference) {
  for (const Product& p : products()) {
    Graph g;
    const Tensor a = random_f32(p.a, 1), b = random_f32(p.b, 2);
    const Expr y = matmul(g.constant(a), g.constant(b), {.a = p.a_transposed, .b = p.b_transposed});
    const Tensor value = g.run(y);
    const Shape& s = value.shape();
    const std::int64_t batch = s.rank() > 2 ? s[0] : 1, m = s[s.rank() - 2], n = s[s.rank() - 1];
    const std::int64_t k = p.a_transposed ? p.a[p.a.rank() - 2] : p.a[p.a.rank() - 1];
    for (std::int64_t e = 0; e < batch; ++e) {
      for (const std::int64_t i : sample(m)) {
        for (const std::int64_t j : sample(n)) {
          double expected = 0;
          for (std::int64_t q = 0; q < k; ++q)
            expected += element(a, e, p.a_transposed, i, q) * element(b, e, p.b_transposed, q, j);
          ASSERT_NEAR(value.at((e * m + i) * n + j), expected, 1e-4)
              << "A " << p.a.to_string() << (p.a_transposed ? "^T" : "") << ", B "
              << p.b.to_string() << (p.b_transposed ? "^T" : "") << " at " << e << ", " << i << ", "
              << j;
        }
      }
    }
  }
}

TEST(Matmul, ParallelBlocksGiveTheSerialBits) {
  for (const Product& p : products()) {
    Graph g;
    const Expr y = matmul(g.constant(random_f32(p.a, 3)), g.constant(random_f32(p.b, 4)),
                          {.a = p.a_transposed, .b = p.b_transposed});
    const Tensor serial = g.run(y);
    Tensor parallel;
    tbb::task_arena arena(2);
    arena.execute([&] {
      const KernelParallelism blocks_in_parallel(true);
      parallel = g.run(y);
    });
    EXPECT_TRUE(bitwise_equal(serial, parallel)) << p.a.to_string() << " x " << p.b.to_string();
  }
}

TEST(Matmul, TransposedReadsEqualTransposeNodes) {
  Graph g;
  const Expr a = g.constant(random_f32(Shape{6, 4}, 5)), b = g.constant(random_f32(Shape{5, 6}, 6));
  const auto values =
      g.run({matmul(a, b, {.a = true, .b = true}), matmul(transpose(a), transpose(b))});
  for (std::int64_t i = 0; i < values[0].numel(); ++i)
    EXPECT_NEAR(values[0].at(i), values[1].at(i), 1e-6);
}

// The kernel set in use is part of what a seed reproduces; it is reported by name, as OpenBLAS
// gives it, and OPENBLAS_CORETYPE (set before the library loaded) would show in it.
TEST(Matmul, NamesTheBlasKernelsItRunsOn) {
  const std::string kernels = blas_kernels();
  EXPECT_EQ(kernels.rfind("OpenBLAS ", 0), 0U) << kernels;
  EXPECT_GT(kernels.size(), std::string("OpenBLAS ").size()) << kernels;
}

TEST(Matmul, EmptyInnerDimensionGivesZeros) {
  Graph g;
  const Tensor y = g.run(matmul(g.constant(Tensor::full(Shape{2, 0}, 1.0)),
                                g.constant(Tensor::full(Shape{0, 3}, 1.0))));
  EXPECT_TRUE(bitwise_equal(y, Tensor::zeros(Shape{2, 3})));
}

TEST(Matmul, InnerDimensionMismatchNamesTheTransposedOperand) {
  Graph g;
  const Expr a = g.constant(Tensor::zeros(Shape{3, 4})), b = g.constant(Tensor::zeros(Shape{3, 5}));
  try {
    matmul(a, b, {.b = true});
    FAIL() << "expected an error";
  } catch (const Error& e) {
    const std::string message = e.what();
    EXPECT_NE(message.find("[3, 5] (read transposed)"), std::string::npos) << message;
    EXPECT_NE(message.find("inner dimensions 4 and 5"), std::string::npos) << message;
  }
}

}  // namespace
}  // namespace dagprop
