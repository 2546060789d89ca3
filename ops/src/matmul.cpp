// matmul: [..., m, k] x [..., k, n] -> [..., m, n] on Eigen's GEMM. A 2-D operand is shared by
// every batch entry of the other.
#include <Eigen/Core>

#include "op_helpers.hpp"

namespace dagprop {
namespace ops {
namespace {

struct MatmulLayout {
  std::int64_t batch = 1, m = 0, k = 0, n = 0;
  bool a_batched = false, b_batched = false;
};

MatmulLayout layout_of(const Shape& a, const Shape& b) {
  MatmulLayout l;
  l.m = a[a.rank() - 2];
  l.k = a[a.rank() - 1];
  l.n = b[b.rank() - 1];
  l.a_batched = a.rank() > 2;
  l.b_batched = b.rank() > 2;
  const Shape& batched = l.a_batched ? a : b;
  for (int d = 0; d < batched.rank() - 2; ++d) l.batch *= batched[d];
  return l;
}

Shape matmul_shape(const ShapeQuery& q) {
  const Shape& a = q.inputs[0];
  const Shape& b = q.inputs[1];
  if (a.rank() < 2 || b.rank() < 2) {
    throw Error("matmul needs matrices (rank >= 2), got " + a.to_string() + " and " +
                b.to_string() + "; reshape a vector of n to [1, n] or [n, 1]");
  }
  if (a[a.rank() - 1] != b[b.rank() - 2]) {
    throw Error("matmul of " + a.to_string() + " and " + b.to_string() + ": inner dimensions " +
                std::to_string(a[a.rank() - 1]) + " and " + std::to_string(b[b.rank() - 2]) +
                " differ; the first operand's last axis must match the second's second-to-last");
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
  dims.push_back(a[a.rank() - 2]);
  dims.push_back(b[b.rank() - 1]);
  return Shape(dims);
}

// Rows are cut into fixed blocks (independent of the thread count), so every output element is
// computed by the same GEMM call whether the blocks run serially or in parallel.
constexpr std::int64_t kRowBlock = 64;

template <class T>
void matmul_forward(const KernelCall& c) {
  using Matrix = Eigen::Matrix<T, Eigen::Dynamic, Eigen::Dynamic, Eigen::RowMajor>;
  const MatmulLayout l = layout_of(*c.inputs[0].shape, *c.inputs[1].shape);
  const T* a = c.inputs[0].as<T>();
  const T* b = c.inputs[1].as<T>();
  T* y = c.output.as<T>();
  const std::int64_t row_blocks = (l.m + kRowBlock - 1) / kRowBlock;
  for_each_chunk(
      l.batch * row_blocks,
      [&](std::int64_t begin, std::int64_t end) {
        for (std::int64_t task = begin; task < end; ++task) {
          const std::int64_t batch = task / row_blocks, first_row = (task % row_blocks) * kRowBlock;
          const std::int64_t rows = std::min(kRowBlock, l.m - first_row);
          const T* a_block = a + (l.a_batched ? batch * l.m * l.k : 0) + first_row * l.k;
          const T* b_matrix = b + (l.b_batched ? batch * l.k * l.n : 0);
          T* y_block = y + batch * l.m * l.n + first_row * l.n;
          Eigen::Map<Matrix>(y_block, rows, l.n).noalias() =
              Eigen::Map<const Matrix>(a_block, rows, l.k) *
              Eigen::Map<const Matrix>(b_matrix, l.k, l.n);
        }
      },
      kRowBlock * l.k * l.n);
}

void matmul_vjp(GradContext& c) {
  const Expr a = c.input(0), b = c.input(1), g = c.grad_output();
  if (c.wanted(0)) c.set(0, sum_to(matmul(g, transpose(b)), a.shape()));
  if (c.wanted(1)) c.set(1, sum_to(matmul(transpose(a), g), b.shape()));
}

}  // namespace

const OpDef& op_def_matmul() {
  static const OpDef def{
      .name = "matmul",
      .arity = 2,
      .shape = matmul_shape,
      DAGPROP_KERNELS(matmul_forward),
      .vjp = matmul_vjp,
      .cost_per_element = 64,
      .forward_doc = "Y = A B (per batch entry)",
      .gradient_doc = "dA = G B^T, dB = A^T G (summed over a shared operand's batch)"};
  return def;
}

}  // namespace ops

Expr matmul(Expr a, Expr b) {
  return ops::make(OpCode::matmul, {a, b});
}

}  // namespace dagprop
