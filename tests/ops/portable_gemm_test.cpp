// The portable products mode: dagprop's own GEMM computes each element as the fma chain in order
// of k, whatever its blocking, vector width or thread count, and matmul uses it when asked.
#include <gtest/gtest.h>

#include <cmath>
#include <cstring>
#include <limits>
#include <string>
#include <vector>

#include <dagprop/dagprop.hpp>

#include "portable_gemm.hpp"
#include "vector_math.hpp"

namespace dagprop {
namespace {

// Restores the process's matmul kernels when a test ends.
class PortableProducts : public ::testing::Test {
 protected:
  void SetUp() override { saved_ = matmul_kernels(); }
  void TearDown() override { set_matmul_kernels(saved_); }

 private:
  MatmulKernels saved_ = MatmulKernels::blas;
};

template <class T>
std::vector<T> random_values(std::size_t n, std::uint64_t seed) {
  SplitMix64 random(seed);
  std::vector<T> values(n);
  for (T& v : values) v = static_cast<T>(2 * random.uniform_float() - 1);
  return values;
}

struct Sizes {
  std::int64_t m, n, k;
};

// Full and edge tiles (6 x 16 floats, 6 x 8 doubles), several row blocks (96) and depth blocks
// (256), a single row or column, and k = 1.
constexpr Sizes kSizes[] = {{1, 1, 1},     {6, 16, 8},     {7, 17, 9},   {13, 5, 300},
                            {97, 33, 513}, {200, 130, 64}, {1, 300, 40}, {300, 1, 40}};

// c = 0, then c = fma(a_ip, b_pj, c) for p = 0..k-1: the chain the portable GEMM promises.
template <class T>
std::vector<T> fma_chain(bool ta, bool tb, const Sizes& s, const std::vector<T>& a,
                         const std::vector<T>& b) {
  const std::int64_t lda = ta ? s.m : s.k, ldb = tb ? s.k : s.n;
  std::vector<T> c(static_cast<std::size_t>(s.m * s.n));
  for (std::int64_t i = 0; i < s.m; ++i) {
    for (std::int64_t j = 0; j < s.n; ++j) {
      T acc = 0;
      for (std::int64_t p = 0; p < s.k; ++p) {
        const T x = ta ? a[p * lda + i] : a[i * lda + p];
        const T y = tb ? b[j * ldb + p] : b[p * ldb + j];
        acc = std::fma(x, y, acc);
      }
      c[i * s.n + j] = acc;
    }
  }
  return c;
}

template <class T>
std::vector<T> portable(bool ta, bool tb, const Sizes& s, const std::vector<T>& a,
                        const std::vector<T>& b, const char* isa = nullptr) {
  std::vector<T> c(static_cast<std::size_t>(s.m * s.n), T(-7));  // overwritten, never read
  ops::portable_gemm(ta, tb, s.m, s.n, s.k, a.data(), ta ? s.m : s.k, b.data(), tb ? s.k : s.n,
                     c.data(), s.n, isa);
  return c;
}

template <class T>
bool same_bits(const std::vector<T>& x, const std::vector<T>& y) {
  return x.size() == y.size() && std::memcmp(x.data(), y.data(), x.size() * sizeof(T)) == 0;
}

template <class T>
void expect_fma_chain_for_every_layout() {
  for (const Sizes& s : kSizes) {
    const auto a = random_values<T>(static_cast<std::size_t>(s.m * s.k), 11);
    const auto b = random_values<T>(static_cast<std::size_t>(s.k * s.n), 12);
    for (const bool ta : {false, true}) {
      for (const bool tb : {false, true}) {
        EXPECT_TRUE(same_bits(portable(ta, tb, s, a, b), fma_chain(ta, tb, s, a, b)))
            << s.m << "x" << s.n << "x" << s.k << (ta ? " A^T" : "") << (tb ? " B^T" : "");
      }
    }
  }
}

TEST(PortableGemm, FloatProductsAreTheFmaChainInOrderOfK) {
  expect_fma_chain_for_every_layout<float>();
}

TEST(PortableGemm, DoubleProductsAreTheFmaChainInOrderOfK) {
  expect_fma_chain_for_every_layout<double>();
}

// The builds for each instruction set give the same bits: a host's vector width does not matter.
TEST(PortableGemm, EveryInstructionSetBuildGivesTheSameBits) {
  __builtin_cpu_init();
  std::vector<const char*> builds{"baseline"};
  if (__builtin_cpu_supports("avx2") && __builtin_cpu_supports("fma")) builds.push_back("avx2");
  if (std::string(ops::vector_isa()) == "avx512") builds.push_back("avx512");
  const Sizes s{97, 33, 513};
  const auto a = random_values<float>(static_cast<std::size_t>(s.m * s.k), 13);
  const auto b = random_values<float>(static_cast<std::size_t>(s.k * s.n), 14);
  const auto reference = portable(false, true, s, a, b, "baseline");
  for (const char* isa : builds)
    EXPECT_TRUE(same_bits(portable(false, true, s, a, b, isa), reference)) << isa;
  if (builds.size() == 1) GTEST_SKIP() << "this CPU runs only the baseline build";
}

// NaN and infinity go through the chain as IEEE says: 0 x inf is NaN, inf + finite is inf.
TEST(PortableGemm, NonFiniteOperandsFollowTheChain) {
  const float inf = std::numeric_limits<float>::infinity();
  const float nan = std::numeric_limits<float>::quiet_NaN();
  const Sizes s{2, 2, 2};
  const std::vector<float> a{inf, 1, nan, 2};  // rows (inf, 1) and (NaN, 2)
  const std::vector<float> b{0, 1, 3, 4};      // rows (0, 1) and (3, 4)
  const auto c = portable(false, false, s, a, b);
  EXPECT_TRUE(std::isnan(c[0]));  // inf x 0 + 1 x 3
  EXPECT_EQ(c[1], inf);           // inf x 1 + 1 x 4
  EXPECT_TRUE(std::isnan(c[2]) && std::isnan(c[3]));
}

// Subnormal products are kept, not flushed: 2^-140 x 2^-2 is a subnormal float.
TEST(PortableGemm, SubnormalResultsAreKept) {
  const Sizes s{1, 1, 2};
  const std::vector<float> a{0x1p-140F, 0x1p-140F}, b{0x1p-2F, 0x1p-2F};
  EXPECT_EQ(portable(false, false, s, a, b)[0], 0x1p-141F);
}

TEST(PortableGemm, EmptyInnerDimensionGivesZeros) {
  const Sizes s{3, 2, 0};
  EXPECT_TRUE(same_bits(portable<float>(false, false, s, {}, {}), std::vector<float>(6, 0.0F)));
}

Tensor random_f32(Shape shape, std::uint64_t seed) {
  const auto values = random_values<float>(static_cast<std::size_t>(shape.numel()), seed);
  Tensor t(shape, DType::f32);
  std::copy(values.begin(), values.end(), t.data<float>());
  return t;
}

// An MLP layer's forward and backward products (large enough to be cut into blocks), serial and
// on 1, 2 and 8 threads: the same bits, and matmul in the mode computes the fma chain.
TEST_F(PortableProducts, MatmulUsesTheChainAndIsBitwiseEqualAtAnyThreadCount) {
  set_matmul_kernels(MatmulKernels::portable);
  EXPECT_EQ(matmul_kernels(), MatmulKernels::portable);
  const Tensor x = random_f32(Shape{256, 784}, 21), w = random_f32(Shape{300, 784}, 22);
  std::vector<Tensor> first;
  for (const int threads : {0, 1, 2, 8}) {
    Graph g;
    g.set_num_threads(threads);
    const Expr wx = g.parameter("w", w);
    const Expr y = matmul(g.constant(x), wx, {.b = true});
    const Expr loss = sum(y * y);
    g.backward(loss);
    std::vector<Tensor> results{g.run(y), Tensor(g.grad(wx))};
    if (first.empty()) {
      first = results;
      const Sizes s{256, 300, 784};
      const std::vector<float> a(x.data<float>(), x.data<float>() + x.numel());
      const std::vector<float> b(w.data<float>(), w.data<float>() + w.numel());
      const auto chain = fma_chain(false, true, s, a, b);
      EXPECT_EQ(std::memcmp(first[0].data<float>(), chain.data(), chain.size() * sizeof(float)), 0);
      continue;
    }
    EXPECT_TRUE(bitwise_equal(results[0], first[0])) << threads << " threads";
    EXPECT_TRUE(bitwise_equal(results[1], first[1])) << threads << " threads";
  }
}

TEST_F(PortableProducts, MatmulGradientMatchesFiniteDifferences) {
  set_matmul_kernels(MatmulKernels::portable);
  for (const bool ta : {false, true}) {
    for (const bool tb : {false, true}) {
      Graph g;
      SplitMix64 random(31);
      auto make = [&](Shape shape) {
        Tensor t(shape, DType::f64);
        for (std::int64_t i = 0; i < t.numel(); ++i)
          t.data<double>()[i] = 2 * random.uniform_float() - 1;
        return t;
      };
      const Expr a = g.parameter("a", make(ta ? Shape{9, 7} : Shape{7, 9}));
      const Expr b = g.parameter("b", make(tb ? Shape{5, 9} : Shape{9, 5}));
      const Expr y = matmul(a, b, {.a = ta, .b = tb});
      const GradcheckResult result = gradcheck(sum(y * y), {a, b});
      EXPECT_TRUE(result.ok) << (ta ? "A^T " : "") << (tb ? "B^T " : "") << result.report();
    }
  }
}

// The record names the kernels in force and fingerprints them.
TEST_F(PortableProducts, TheRecordNamesTheKernelsInForce) {
  auto value_of = [](const std::string& key) {
    for (const ReproducibilitySetting& s : reproducibility_settings())
      if (s.key == key) return s.value;
    return std::string("missing");
  };
  set_matmul_kernels(MatmulKernels::blas);
  EXPECT_EQ(value_of("matmul.kernels"), "blas");
  set_matmul_kernels(MatmulKernels::portable);
  EXPECT_EQ(value_of("matmul.kernels"), "portable");
  EXPECT_EQ(value_of("products.fingerprint"), value_of("products.fingerprint"));
}

}  // namespace
}  // namespace dagprop
