// dagprop's own GEMM for the portable products mode: GotoBLAS's loop order (column blocks, depth
// blocks, row blocks, then register tiles over packed panels) with one fma chain per element.
#include "portable_gemm.hpp"

#include <algorithm>
#include <cmath>
#include <string_view>
#include <vector>

#include "vector_math.hpp"

#if defined(__x86_64__)
#include <immintrin.h>
#endif

// The lane helpers take and return vector registers in functions without the matching target;
// GCC warns that such a call would change the ABI. None remains a call: gnu::flatten inlines them
// all into the ISA entry points below, which have the target.
#pragma GCC diagnostic ignored "-Wpsabi"

namespace dagprop::ops {
namespace {

// A register tile is kTileRows x tile_cols<T> outputs: 6 x 16 floats are 12 AVX2 registers of
// accumulators (6 AVX-512 ones), 6 x 8 doubles the same. Depth blocks of 256 keep a packed panel
// of B (256 x 16 floats, 16 KiB) in L1 and a row block of A (96 x 256, 96 KiB) in L2.
constexpr std::int64_t kTileRows = 6;
template <class T>
constexpr std::int64_t tile_cols = 64 / static_cast<std::int64_t>(sizeof(T));
constexpr std::int64_t kDepthBlock = 256;
constexpr std::int64_t kRowBlock = 16 * kTileRows;
constexpr std::int64_t kColBlock = 2048;

struct Operand {
  const void* data;
  std::int64_t ld;
  bool transposed;
};

// A's rows [i0, i0 + rows) and depth [p0, p0 + depth) as panels of kTileRows rows, depth-major
// inside a panel (panel[p][r]); a short last panel is padded with zeros, whose products land in
// tile rows that are never stored.
template <class T>
void pack_a(const Operand& a, std::int64_t i0, std::int64_t rows, std::int64_t p0,
            std::int64_t depth, T* out) {
  const T* data = static_cast<const T*>(a.data);
  for (std::int64_t ir = 0; ir < rows; ir += kTileRows) {
    const std::int64_t panel_rows = std::min(kTileRows, rows - ir);
    for (std::int64_t p = 0; p < depth; ++p) {
      for (std::int64_t r = 0; r < kTileRows; ++r) {
        const std::int64_t i = i0 + ir + r, q = p0 + p;
        out[p * kTileRows + r] =
            r < panel_rows ? (a.transposed ? data[q * a.ld + i] : data[i * a.ld + q]) : T(0);
      }
    }
    out += depth * kTileRows;
  }
}

// B's depth [p0, p0 + depth) and columns [j0, j0 + cols) as panels of tile_cols<T> columns
// (panel[p][c]), a short last panel padded with zeros.
template <class T>
void pack_b(const Operand& b, std::int64_t p0, std::int64_t depth, std::int64_t j0,
            std::int64_t cols, T* out) {
  constexpr std::int64_t nr = tile_cols<T>;
  const T* data = static_cast<const T*>(b.data);
  for (std::int64_t jr = 0; jr < cols; jr += nr) {
    const std::int64_t panel_cols = std::min(nr, cols - jr);
    for (std::int64_t p = 0; p < depth; ++p) {
      const std::int64_t q = p0 + p;
      T* row = out + p * nr;
      if (!b.transposed && panel_cols == nr) {
        std::copy_n(data + q * b.ld + j0 + jr, nr, row);
        continue;
      }
      for (std::int64_t c = 0; c < nr; ++c) {
        const std::int64_t j = j0 + jr + c;
        row[c] = c < panel_cols ? (b.transposed ? data[j * b.ld + q] : data[q * b.ld + j]) : T(0);
      }
    }
    out += depth * nr;
  }
}

// The register tile's arithmetic, per instruction set: a vector of lanes<T> elements, a broadcast,
// and a fused multiply-add rounded once per lane (vfmadd; std::fma in the baseline build).
template <class T>
struct ScalarLanes {
  using Vector = T;
  static constexpr std::int64_t lanes = 1;
  DAGPROP_VECTOR_INLINE static Vector load(const T* p) { return *p; }
  DAGPROP_VECTOR_INLINE static void store(T* p, Vector v) { *p = v; }
  DAGPROP_VECTOR_INLINE static Vector broadcast(T x) { return x; }
  DAGPROP_VECTOR_INLINE static Vector zero() { return T(0); }
  DAGPROP_VECTOR_INLINE static Vector fma(Vector a, Vector b, Vector c) {
    return std::fma(a, b, c);
  }
};

#if defined(__x86_64__)
#define DAGPROP_AVX2 gnu::target("avx2,fma")
#define DAGPROP_AVX512 gnu::target("avx512f,avx512vl,avx512bw,avx512dq,fma")
template <class T>
struct Avx2Lanes;
template <>
struct Avx2Lanes<float> {
  using Vector = __m256;
  static constexpr std::int64_t lanes = 8;
  [[DAGPROP_AVX2]] inline static Vector load(const float* p) { return _mm256_loadu_ps(p); }
  [[DAGPROP_AVX2]] inline static void store(float* p, Vector v) { _mm256_storeu_ps(p, v); }
  [[DAGPROP_AVX2]] inline static Vector broadcast(float x) { return _mm256_set1_ps(x); }
  [[DAGPROP_AVX2]] inline static Vector zero() { return _mm256_setzero_ps(); }
  [[DAGPROP_AVX2]] inline static Vector fma(Vector a, Vector b, Vector c) {
    return _mm256_fmadd_ps(a, b, c);
  }
};
template <>
struct Avx2Lanes<double> {
  using Vector = __m256d;
  static constexpr std::int64_t lanes = 4;
  [[DAGPROP_AVX2]] inline static Vector load(const double* p) { return _mm256_loadu_pd(p); }
  [[DAGPROP_AVX2]] inline static void store(double* p, Vector v) { _mm256_storeu_pd(p, v); }
  [[DAGPROP_AVX2]] inline static Vector broadcast(double x) { return _mm256_set1_pd(x); }
  [[DAGPROP_AVX2]] inline static Vector zero() { return _mm256_setzero_pd(); }
  [[DAGPROP_AVX2]] inline static Vector fma(Vector a, Vector b, Vector c) {
    return _mm256_fmadd_pd(a, b, c);
  }
};
template <class T>
struct Avx512Lanes;
template <>
struct Avx512Lanes<float> {
  using Vector = __m512;
  static constexpr std::int64_t lanes = 16;
  [[DAGPROP_AVX512]] inline static Vector load(const float* p) { return _mm512_loadu_ps(p); }
  [[DAGPROP_AVX512]] inline static void store(float* p, Vector v) { _mm512_storeu_ps(p, v); }
  [[DAGPROP_AVX512]] inline static Vector broadcast(float x) { return _mm512_set1_ps(x); }
  [[DAGPROP_AVX512]] inline static Vector zero() { return _mm512_setzero_ps(); }
  [[DAGPROP_AVX512]] inline static Vector fma(Vector a, Vector b, Vector c) {
    return _mm512_fmadd_ps(a, b, c);
  }
};
template <>
struct Avx512Lanes<double> {
  using Vector = __m512d;
  static constexpr std::int64_t lanes = 8;
  [[DAGPROP_AVX512]] inline static Vector load(const double* p) { return _mm512_loadu_pd(p); }
  [[DAGPROP_AVX512]] inline static void store(double* p, Vector v) { _mm512_storeu_pd(p, v); }
  [[DAGPROP_AVX512]] inline static Vector broadcast(double x) { return _mm512_set1_pd(x); }
  [[DAGPROP_AVX512]] inline static Vector zero() { return _mm512_setzero_pd(); }
  [[DAGPROP_AVX512]] inline static Vector fma(Vector a, Vector b, Vector c) {
    return _mm512_fmadd_pd(a, b, c);
  }
};
#endif

// One full register tile: continues each element's chain from C (or from 0 on the first depth
// block) through `depth` more terms, in order.
template <class T, class L>
void full_tile(std::int64_t depth, const T* ap, const T* bp, T* c, std::int64_t ldc, bool first) {
  constexpr std::int64_t nr = tile_cols<T>, per_row = nr / L::lanes;
  typename L::Vector acc[kTileRows][per_row];
#pragma GCC unroll 8
  for (std::int64_t r = 0; r < kTileRows; ++r) {
#pragma GCC unroll 16
    for (std::int64_t v = 0; v < per_row; ++v) {
      acc[r][v] = first ? L::zero() : L::load(c + r * ldc + v * L::lanes);
    }
  }
  for (std::int64_t p = 0; p < depth; ++p) {
    typename L::Vector b[per_row];
#pragma GCC unroll 16
    for (std::int64_t v = 0; v < per_row; ++v) b[v] = L::load(bp + p * nr + v * L::lanes);
#pragma GCC unroll 8
    for (std::int64_t r = 0; r < kTileRows; ++r) {
      const typename L::Vector a = L::broadcast(ap[p * kTileRows + r]);
#pragma GCC unroll 16
      for (std::int64_t v = 0; v < per_row; ++v) acc[r][v] = L::fma(a, b[v], acc[r][v]);
    }
  }
#pragma GCC unroll 8
  for (std::int64_t r = 0; r < kTileRows; ++r) {
#pragma GCC unroll 16
    for (std::int64_t v = 0; v < per_row; ++v) L::store(c + r * ldc + v * L::lanes, acc[r][v]);
  }
}

// A tile at the bottom or right edge runs the full tile on a copy of its part of C.
template <class T, class L>
void tile(std::int64_t depth, const T* ap, const T* bp, T* c, std::int64_t ldc, std::int64_t rows,
          std::int64_t cols, bool first) {
  constexpr std::int64_t nr = tile_cols<T>;
  if (rows == kTileRows && cols == nr) {
    full_tile<T, L>(depth, ap, bp, c, ldc, first);
    return;
  }
  T part[kTileRows * nr] = {};
  for (std::int64_t r = 0; r < rows && !first; ++r) std::copy_n(c + r * ldc, cols, part + r * nr);
  full_tile<T, L>(depth, ap, bp, part, nr, first);
  for (std::int64_t r = 0; r < rows; ++r) std::copy_n(part + r * nr, cols, c + r * ldc);
}

// The packing buffers of this thread, kept between calls (no allocation per product).
template <class T>
std::vector<T>& packed_buffer(int which) {
  thread_local std::vector<T> buffers[2];
  return buffers[which];
}

template <class T, class L>
void gemm_blocks(const Operand& a, const Operand& b, std::int64_t rows, std::int64_t cols,
                 std::int64_t k, T* c, std::int64_t ldc) {
  constexpr std::int64_t nr = tile_cols<T>;
  std::vector<T>& packed_a = packed_buffer<T>(0);
  std::vector<T>& packed_b = packed_buffer<T>(1);
  packed_a.resize(static_cast<std::size_t>(kRowBlock * kDepthBlock));
  const std::int64_t col_block = std::min(kColBlock, (cols + nr - 1) / nr * nr);
  packed_b.resize(static_cast<std::size_t>(col_block * kDepthBlock));
  for (std::int64_t j0 = 0; j0 < cols; j0 += kColBlock) {
    const std::int64_t nc = std::min(kColBlock, cols - j0);
    for (std::int64_t p0 = 0; p0 < k; p0 += kDepthBlock) {
      const std::int64_t kc = std::min(kDepthBlock, k - p0);
      pack_b(b, p0, kc, j0, nc, packed_b.data());
      for (std::int64_t i0 = 0; i0 < rows; i0 += kRowBlock) {
        const std::int64_t mc = std::min(kRowBlock, rows - i0);
        pack_a(a, i0, mc, p0, kc, packed_a.data());
        for (std::int64_t jr = 0; jr < nc; jr += nr) {
          for (std::int64_t ir = 0; ir < mc; ir += kTileRows) {
            tile<T, L>(kc, packed_a.data() + ir * kc, packed_b.data() + jr * kc,
                       c + (i0 + ir) * ldc + j0 + jr, ldc, std::min(kTileRows, mc - ir),
                       std::min(nr, nc - jr), p0 == 0);
          }
        }
      }
    }
  }
}

// The same loops compiled three times; std::fma is one vfmadd where the target has FMA.
#if defined(__x86_64__)
template <class T>
[[gnu::target("avx512f,avx512vl,avx512bw,avx512dq,fma,prefer-vector-width=512"), gnu::flatten]] void
gemm_avx512(const Operand& a, const Operand& b, std::int64_t rows, std::int64_t cols,
            std::int64_t k, T* c, std::int64_t ldc) {
  gemm_blocks<T, Avx512Lanes<T>>(a, b, rows, cols, k, c, ldc);
}
template <class T>
[[gnu::target("avx2,fma"), gnu::flatten]] void gemm_avx2(const Operand& a, const Operand& b,
                                                         std::int64_t rows, std::int64_t cols,
                                                         std::int64_t k, T* c, std::int64_t ldc) {
  gemm_blocks<T, Avx2Lanes<T>>(a, b, rows, cols, k, c, ldc);
}
#endif
template <class T>
[[gnu::flatten]] void gemm_baseline(const Operand& a, const Operand& b, std::int64_t rows,
                                    std::int64_t cols, std::int64_t k, T* c, std::int64_t ldc) {
  gemm_blocks<T, ScalarLanes<T>>(a, b, rows, cols, k, c, ldc);
}

template <class T>
auto gemm_for(std::string_view isa) {
#if defined(__x86_64__)
  if (isa == "avx512") return &gemm_avx512<T>;
  if (isa == "avx2") return &gemm_avx2<T>;
#endif
  (void)isa;
  return &gemm_baseline<T>;
}

}  // namespace

template <class T>
void portable_gemm(bool a_transposed, bool b_transposed, std::int64_t rows, std::int64_t cols,
                   std::int64_t k, const T* a, std::int64_t lda, const T* b, std::int64_t ldb, T* c,
                   std::int64_t ldc, const char* isa) {
  if (rows == 0 || cols == 0) return;
  if (k == 0) {
    for (std::int64_t r = 0; r < rows; ++r) std::fill_n(c + r * ldc, cols, T(0));
    return;
  }
  static const auto chosen = gemm_for<T>(vector_isa());
  const auto gemm = isa == nullptr ? chosen : gemm_for<T>(isa);
  gemm({a, lda, a_transposed}, {b, ldb, b_transposed}, rows, cols, k, c, ldc);
}

template void portable_gemm<float>(bool, bool, std::int64_t, std::int64_t, std::int64_t,
                                   const float*, std::int64_t, const float*, std::int64_t, float*,
                                   std::int64_t, const char*);
template void portable_gemm<double>(bool, bool, std::int64_t, std::int64_t, std::int64_t,
                                    const double*, std::int64_t, const double*, std::int64_t,
                                    double*, std::int64_t, const char*);

}  // namespace dagprop::ops
