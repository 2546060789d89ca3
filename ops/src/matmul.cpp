// matmul: [..., m, k] x [..., k, n] -> [..., m, n] through the BLAS GEMM (OpenBLAS), or dagprop's
// portable GEMM in the portable products mode (set_matmul_kernels). Either operand
// may be read transposed (its last two axes swapped) without materializing the transpose: the
// gradient rules use that, so a training step moves no transposed copies. A 2-D operand is shared
// by every batch entry of the other.
#include <cblas.h>

#include <atomic>
#include <climits>
#include <cstdlib>
#include <mutex>

#include <dagprop/reproducibility.hpp>

#include "matmul_kernels.hpp"
#include "op_helpers.hpp"
#include "portable_gemm.hpp"

namespace dagprop {
namespace ops {
namespace {

// Which operands are read transposed: two booleans, OpAttrs::ints = {transpose_a, transpose_b}.
constexpr AttrSpec kMatmulAttributes[] = {
    {.name = "transpose_a",
     .kind = AttrKind::boolean,
     .slot = {.field = AttrField::ints, .first = 0},
     .doc = "read the left operand with its last two axes swapped"},
    {.name = "transpose_b",
     .kind = AttrKind::boolean,
     .slot = {.field = AttrField::ints, .first = 1},
     .doc = "read the right operand with its last two axes swapped"}};

// The typed view the kernels and the gradient rule read. Missing entries (an OpAttrs{} given to
// Graph::apply) read as the defaults, a plain product.
MatmulTranspose transpose_of(const OpAttrs& attrs) {
  return {.a = !attrs.ints.empty() && attrs.ints[0] != 0,
          .b = attrs.ints.size() > 1 && attrs.ints[1] != 0};
}
OpAttrs attrs_of(MatmulTranspose transpose) {
  OpAttrs attrs;
  attrs.ints = {transpose.a ? 1 : 0, transpose.b ? 1 : 0};
  return attrs;
}

// Graph files before version 3 said which axis of each operand is contracted: A's `axis` (-1, or
// -2 to read A transposed) with B's `axis2` (-2, or -1 to read B transposed).
OpAttrs upgrade_matmul_attrs(const OpAttrs& raw) {
  if ((raw.axis != -1 && raw.axis != -2) || (raw.axis2 != -1 && raw.axis2 != -2)) {
    throw Error("matmul contracts axis -1 or -2 of each operand, got axes " +
                std::to_string(raw.axis) + " and " + std::to_string(raw.axis2));
  }
  return attrs_of({.a = raw.axis == -2, .b = raw.axis2 == -1});
}

struct MatmulLayout {
  std::int64_t batch = 1, m = 0, k = 0, n = 0;
  bool a_batched = false, b_batched = false;
  bool a_transposed = false, b_transposed = false;
};

MatmulLayout layout_of(const Shape& a, const Shape& b, const OpAttrs& attrs) {
  MatmulLayout l;
  const MatmulTranspose transpose = transpose_of(attrs);
  l.a_transposed = transpose.a;
  l.b_transposed = transpose.b;
  l.m = l.a_transposed ? a[a.rank() - 1] : a[a.rank() - 2];
  l.k = l.a_transposed ? a[a.rank() - 2] : a[a.rank() - 1];
  l.n = l.b_transposed ? b[b.rank() - 2] : b[b.rank() - 1];
  l.a_batched = a.rank() > 2;
  l.b_batched = b.rank() > 2;
  const Shape& batched = l.a_batched ? a : b;
  for (int d = 0; d < batched.rank() - 2; ++d) l.batch *= batched[d];
  return l;
}

// About 45 multiply-adds per nanosecond through OpenBLAS (its AVX2 kernels; about 100 with AVX-512)
// on one core of the reference machine for the small and middle sizes that graphs use
// (32x64x64: 2.9 us; 256x784x128: 494 us), plus the call. The attributes are not at hand here: k is
// the side of A that is not m.
double matmul_work(std::span<const KernelArg> operands) {
  const Shape& a = *operands[0].shape;
  const Shape& y = *operands[2].shape;
  const std::int64_t m = y[y.rank() - 2], n = y[y.rank() - 1];
  const std::int64_t k = a[a.rank() - 2] == m ? a[a.rank() - 1] : a[a.rank() - 2];
  const std::int64_t batch = m * n == 0 ? 0 : y.numel() / (m * n);
  constexpr double kMultiplyAddsPerNanosecond = 45, kCallNanoseconds = 250;
  return static_cast<double>(batch * m * n) * static_cast<double>(k) / kMultiplyAddsPerNanosecond +
         kCallNanoseconds;
}

std::string operand_text(const Shape& shape, bool transposed) {
  return shape.to_string() + (transposed ? " (read transposed)" : "");
}

Shape matmul_shape(const ShapeQuery& q) {
  const Shape& a = q.inputs[0];
  const Shape& b = q.inputs[1];
  if (a.rank() < 2 || b.rank() < 2) {
    throw Error("matmul needs matrices (rank >= 2), got " + a.to_string() + " and " +
                b.to_string() + "; reshape a vector of n to [1, n] or [n, 1]");
  }
  const MatmulLayout l = layout_of(a, b, q.attrs);
  const std::int64_t b_inner = l.b_transposed ? b[b.rank() - 1] : b[b.rank() - 2];
  if (l.k != b_inner) {
    throw Error("matmul of " + operand_text(a, l.a_transposed) + " and " +
                operand_text(b, l.b_transposed) + ": inner dimensions " + std::to_string(l.k) +
                " and " + std::to_string(b_inner) +
                " differ; the first operand's columns must match the second's rows");
  }
  if (a.rank() > 2 && b.rank() > 2) {
    const bool same_batch =
        a.rank() == b.rank() && std::equal(a.dims().begin(), a.dims().end() - 2, b.dims().begin());
    if (!same_batch) {
      throw Error(
          "matmul of " + a.to_string() + " and " + b.to_string() +
          ": batch dimensions differ; give both the same batch shape, or make one operand 2-D");
    }
  }
  const Shape& batched = a.rank() > 2 ? a : b;
  std::vector<std::int64_t> dims(batched.dims().begin(), batched.dims().end() - 2);
  dims.push_back(l.m);
  dims.push_back(l.n);
  return Shape(dims);
}

// ---- blocks

// Each product is cut into blocks of the output that are fixed by the shapes alone, never by the
// thread count: every output element is computed by the same GEMM call, from the same operands,
// whether the blocks run serially or in parallel, so the bits do not depend on threads.
//
// The larger output dimension is cut: every block packs its whole share of one operand and all of
// the other, so cutting rows repacks B once per block and cutting columns repacks A; cutting the
// larger dimension repacks the smaller operand. A product of kBlockFlops or more is cut in two, so
// that two threads share it (an MLP layer of 784 x 256 on a batch of 128 is 51 MFLOP, half a
// millisecond: two epochs of Fashion-MNIST on 2 threads took 1.9 s instead of 2.3 with it whole);
// further cuts keep at least kBlockFlops per block, since each repacks the other operand (four
// blocks for W2's 103 MFLOP products cost it 2 to 3 %). Every block has at least kMinBlockExtent
// rows or columns (full micro-kernel tiles); the block count is a power of two so that it splits
// evenly over 2, 4, ... threads.
constexpr double kBlockFlops = double{1 << 25};
constexpr std::int64_t kMinBlockExtent = 64;
constexpr std::int64_t kBlockAlignment = 16;

struct BlockGrid {
  bool cut_rows = true;
  std::int64_t extent = 0;  // rows (or columns) per block; the last block may be shorter
  std::int64_t count = 1;
};

BlockGrid block_grid(std::int64_t m, std::int64_t n, std::int64_t k) {
  BlockGrid grid;
  grid.cut_rows = m >= n;
  const std::int64_t cut = grid.cut_rows ? m : n;
  const double flops =
      2.0 * static_cast<double>(m) * static_cast<double>(n) * static_cast<double>(k);
  std::int64_t pieces = flops >= kBlockFlops && cut / 2 >= kMinBlockExtent ? 2 : 1;
  while (flops / static_cast<double>(2 * pieces) >= kBlockFlops &&
         cut / (2 * pieces) >= kMinBlockExtent)
    pieces *= 2;
  const std::int64_t per_piece = (cut + pieces - 1) / pieces;
  grid.extent =
      pieces == 1 ? cut : (per_piece + kBlockAlignment - 1) / kBlockAlignment * kBlockAlignment;
  grid.count = grid.extent == 0 ? 1 : (cut + grid.extent - 1) / grid.extent;
  return grid;
}

// ---- the GEMM call

// The kernels of the process: -1 until read from the environment, then a MatmulKernels.
std::atomic<int> g_matmul_kernels{-1};

MatmulKernels kernels_from_environment() {
  const char* env = std::getenv("DAGPROP_MATMUL_KERNELS");
  if (env == nullptr || std::string_view(env) == "blas") return MatmulKernels::blas;
  if (std::string_view(env) == "portable") return MatmulKernels::portable;
  throw Error("DAGPROP_MATMUL_KERNELS='" + std::string(env) +
              "' names no matmul kernels: use 'blas' (OpenBLAS, the default) or 'portable' "
              "(dagprop's own GEMM, the same bits on every CPU)");
}

// C[rows x cols] = op(A) op(B) with leading dimensions in elements, row-major.
template <class T>
void gemm(MatmulKernels kernels, bool a_transposed, bool b_transposed, std::int64_t rows,
          std::int64_t cols, std::int64_t k, const T* a, std::int64_t lda, const T* b,
          std::int64_t ldb, T* c, std::int64_t ldc) {
  if (kernels == MatmulKernels::portable) {
    portable_gemm(a_transposed, b_transposed, rows, cols, k, a, lda, b, ldb, c, ldc);
    return;
  }
  const CBLAS_TRANSPOSE ta = a_transposed ? CblasTrans : CblasNoTrans;
  const CBLAS_TRANSPOSE tb = b_transposed ? CblasTrans : CblasNoTrans;
  const auto i = [](std::int64_t v) { return static_cast<blasint>(v); };  // checked by the caller
  if constexpr (std::is_same_v<T, float>) {
    cblas_sgemm(CblasRowMajor, ta, tb, i(rows), i(cols), i(k), 1.0F, a, i(lda), b, i(ldb), 0.0F, c,
                i(ldc));
  } else {
    cblas_dgemm(CblasRowMajor, ta, tb, i(rows), i(cols), i(k), 1.0, a, i(lda), b, i(ldb), 0.0, c,
                i(ldc));
  }
}

void check_blas_range(const MatmulLayout& l) {
  const std::int64_t largest = std::max({l.m, l.n, l.k});
  if (largest > INT_MAX) {
    throw Error("matmul dimension " + std::to_string(largest) +
                " exceeds the BLAS integer range (2^31 - 1); split the product");
  }
}

// Block `task` of the product (batch entry task / grid.count, then the block within it).
template <class T>
void compute_block(MatmulKernels kernels, const MatmulLayout& l, const BlockGrid& grid,
                   std::int64_t task, const T* a, const T* b, T* y) {
  const std::int64_t lda = l.a_transposed ? l.m : l.k;
  const std::int64_t ldb = l.b_transposed ? l.k : l.n;
  const std::int64_t batch = task / grid.count;
  const std::int64_t first = (task % grid.count) * grid.extent;
  const std::int64_t size = std::min(grid.extent, (grid.cut_rows ? l.m : l.n) - first);
  const T* a_matrix = a + (l.a_batched ? batch * l.m * l.k : 0);
  const T* b_matrix = b + (l.b_batched ? batch * l.k * l.n : 0);
  T* y_matrix = y + batch * l.m * l.n;
  if (grid.cut_rows) {  // rows [first, first + size) of op(A) and of Y
    const T* a_rows = a_matrix + (l.a_transposed ? first : first * lda);
    gemm(kernels, l.a_transposed, l.b_transposed, size, l.n, l.k, a_rows, lda, b_matrix, ldb,
         y_matrix + first * l.n, l.n);
  } else {  // columns [first, first + size) of op(B) and of Y
    const T* b_columns = b_matrix + (l.b_transposed ? first * ldb : first);
    gemm(kernels, l.a_transposed, l.b_transposed, l.m, size, l.k, a_matrix, lda, b_columns, ldb,
         y_matrix + first, l.n);
  }
}

template <class T>
void matmul_forward(const KernelCall& c) {
  const MatmulLayout l = layout_of(*c.inputs[0].shape, *c.inputs[1].shape, c.attrs);
  T* y = c.output.as<T>();
  if (l.m == 0 || l.n == 0) return;
  if (l.k == 0) {  // an empty sum: BLAS may leave C untouched when k = 0
    std::fill(y, y + c.output.numel(), T(0));
    return;
  }
  check_blas_range(l);
  const MatmulKernels kernels = matmul_kernels();
  if (kernels == MatmulKernels::blas) use_single_threaded_blas();
  const T* a = c.inputs[0].as<T>();
  const T* b = c.inputs[1].as<T>();
  const BlockGrid grid = block_grid(l.m, l.n, l.k);
  const double block_flops = 2.0 * static_cast<double>(grid.extent) *
                             static_cast<double>(grid.cut_rows ? l.n : l.m) *
                             static_cast<double>(l.k);
  for_each_chunk(
      l.batch * grid.count,
      [&](std::int64_t begin, std::int64_t end) {
        for (std::int64_t task = begin; task < end; ++task)
          compute_block(kernels, l, grid, task, a, b, y);
      },
      static_cast<std::int64_t>(std::min(block_flops, 1e15)));
}

// With op(X) = X or X^T: Y = op(A) op(B) gives d op(A) = G op(B)^T and d op(B) = op(A)^T G, each
// written as one product that reads its operands transposed where needed (never a transpose node).
void matmul_vjp(GradContext& c) {
  const Expr a = c.input(0), b = c.input(1), g = c.grad_output();
  const auto [ta, tb] = transpose_of(c.attrs());
  if (c.wanted(0)) {
    // dA = G op(B)^T, or for a transposed A its transpose op(B) G^T.
    const Expr da = ta ? matmul(b, g, {.a = tb, .b = true}) : matmul(g, b, {.a = false, .b = !tb});
    c.set(0, sum_to(da, a.shape()));
  }
  if (c.wanted(1)) {
    // dB = op(A)^T G, or for a transposed B its transpose G^T op(A).
    const Expr db = tb ? matmul(g, a, {.a = true, .b = ta}) : matmul(a, g, {.a = !ta, .b = false});
    c.set(1, sum_to(db, b.shape()));
  }
}

}  // namespace

const OpDef& op_def_matmul() {
  static constexpr OpDef def{
      .name = "matmul",
      .arity = 2,
      .shape = matmul_shape,
      DAGPROP_KERNELS(matmul_forward),
      .vjp = matmul_vjp,
      .work = matmul_work,
      .forward_doc = "Y = op(A) op(B) per batch entry; op(X) = X, or X^T where the node says so",
      .gradient_doc =
          "d op(A) = G op(B)^T, d op(B) = op(A)^T G (summed over a shared operand's "
          "batch)",
      .notes_doc =
          "OpenBLAS GEMM on blocks of the output fixed by the shapes: the same bits for "
          "any thread count; set_matmul_kernels(portable): the same bits on any CPU",
      .operand_names = "left, right",
      .attributes = kMatmulAttributes,
      .upgrade_attrs = upgrade_matmul_attrs};
  static_assert(op_definition_is_complete(def));
  return def;
}

void use_single_threaded_blas() {
  static std::once_flag once;
  std::call_once(once, [] { openblas_set_num_threads(1); });
}

std::string matmul_block_rule() {
  return "products of 2^" + std::to_string(std::lround(std::log2(kBlockFlops))) +
         " flops or more cut along the larger output side into 2^j blocks of at least " +
         std::to_string(kMinBlockExtent) + " rows or columns, multiples of " +
         std::to_string(kBlockAlignment);
}

std::uint64_t products_fingerprint() {
  const MatmulKernels kernels = matmul_kernels();
  if (kernels == MatmulKernels::blas) use_single_threaded_blas();
  // Sizes that reach full and edge tiles and more than one depth block of either GEMM, and an MLP
  // layer's product of over 2^25 flops, which matmul cuts in two blocks (OpenBLAS's Haswell
  // kernels give some elements other bits when the product is cut: docs/architecture.md). Computed
  // block by block as matmul computes them; operands from a fixed integer sequence (exact in
  // float), so only the products' arithmetic can differ.
  struct Product {
    std::int64_t m, n, k;
    bool a_transposed, b_transposed;
  };
  constexpr Product kProducts[] = {{128, 256, 784, false, true},
                                   {64, 100, 128, true, false},
                                   {37, 53, 300, false, false},
                                   {10, 7, 3, true, true}};
  std::uint64_t hash = kFingerprintStart;
  std::uint64_t state = 1;
  auto next = [&state] {
    state = state * 6364136223846793005ULL + 1442695040888963407ULL;
    return static_cast<double>(static_cast<std::int32_t>(state >> 40)) * 0x1p-23;
  };
  auto run = [&]<class T>(const Product& p, T) {
    std::vector<T> a(static_cast<std::size_t>(p.m * p.k)), b(static_cast<std::size_t>(p.k * p.n));
    std::vector<T> c(static_cast<std::size_t>(p.m * p.n));
    for (T& x : a) x = static_cast<T>(next());
    for (T& x : b) x = static_cast<T>(next());
    MatmulLayout l;
    l.m = p.m;
    l.n = p.n;
    l.k = p.k;
    l.a_transposed = p.a_transposed;
    l.b_transposed = p.b_transposed;
    const BlockGrid grid = block_grid(l.m, l.n, l.k);
    for (std::int64_t task = 0; task < grid.count; ++task)
      compute_block(kernels, l, grid, task, a.data(), b.data(), c.data());
    hash = fingerprint_bytes(hash, c.data(), c.size() * sizeof(T));
  };
  for (const Product& p : kProducts) {
    run(p, 0.0F);
    run(p, 0.0);
  }
  return hash;
}

}  // namespace ops

Expr matmul(Expr a, Expr b) {
  return matmul(a, b, MatmulTranspose{});
}
Expr matmul(Expr a, Expr b, MatmulTranspose transpose) {
  return ops::make(OpCode::matmul, {a, b}, ops::attrs_of(transpose));
}

void set_matmul_kernels(MatmulKernels kernels) {
  ops::g_matmul_kernels.store(static_cast<int>(kernels));
}

MatmulKernels matmul_kernels() {
  const int kernels = ops::g_matmul_kernels.load();
  if (kernels >= 0) return static_cast<MatmulKernels>(kernels);
  const MatmulKernels chosen = ops::kernels_from_environment();
  int unset = -1;
  ops::g_matmul_kernels.compare_exchange_strong(unset, static_cast<int>(chosen));
  return static_cast<MatmulKernels>(ops::g_matmul_kernels.load());
}

std::string to_string(MatmulKernels kernels) {
  return kernels == MatmulKernels::portable ? "portable" : "blas";
}

std::string blas_kernels() {
  return openblas_get_config();  // the version, build options and the kernel set in use
}

}  // namespace dagprop
