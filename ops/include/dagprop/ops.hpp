// The built-in ops: the list that fixes their ids (after the core's leaves), and the functions
// that build them. ops/ builds on the core's op table (<dagprop/op_def.hpp>), never the reverse.
// Adding an op: its unit ops/src/<name>.cpp (kernels, shape rule, gradient rule, docs), one line in
// DAGPROP_BUILTIN_OPS, its builder below, and its case in tests/ops/op_cases.cpp.
#pragma once

#include <array>
#include <cstdint>
#include <limits>
#include <string>
#include <vector>

#include <dagprop/export.hpp>
#include <dagprop/expr.hpp>
#include <dagprop/node.hpp>
#include <dagprop/op_def.hpp>

// X(name): every built-in op. Each must define `const OpDef& op_def_<name>()` in namespace
// dagprop::ops (declared in ops/src/op_helpers.hpp; a link error if missing).
// Not reflowed, so that appending ops changes no earlier line.
// clang-format off
#define DAGPROP_BUILTIN_OPS(X)                                                                     \
  X(add) X(sub) X(mul) X(div) X(neg) X(scale) X(pow) X(exp) X(log) X(sqrt) X(abs) X(step)          \
  X(step_ste) X(sign) X(stop_gradient) X(sigmoid) X(tanh) X(relu) X(leaky_relu) X(elu) X(gelu)     \
  X(softplus) X(silu) X(sigmoid_grad) X(tanh_grad) X(relu_grad) X(leaky_relu_grad)                 \
  X(elu_grad) X(gelu_grad) X(silu_grad) X(sum) X(mean) X(reshape) X(transpose)                     \
  X(broadcast_to) X(sum_to) X(matmul) X(weighted_sum) X(softmax) X(log_softmax)                    \
  X(softmax_grad) X(log_softmax_grad) X(mse_loss) X(cross_entropy)                                 \
  X(cross_entropy_grad) X(binary_cross_entropy_with_logits) X(one_hot)                             \
  X(concat) X(slice) X(slice_grad) X(index_select) X(index_add) X(gather) X(scatter_add)           \
  X(maximum) X(minimum) X(where) X(greater) X(greater_equal) X(less) X(less_equal) X(equal)        \
  X(not_equal) X(max) X(min) X(argmax) X(argmin) X(layer_norm) X(batch_moments) X(batch_norm)     \
  X(dropout)                                                                                        \
  X(conv2d) X(conv2d_input_grad) X(conv2d_weight_grad) X(max_pool2d) X(max_pool2d_grad)          \
  X(max_pool2d_select) X(avg_pool2d) X(avg_pool2d_grad) X(global_avg_pool2d)
// clang-format on

DAGPROP_API_BEGIN
namespace dagprop {

struct OpDef;

// The core's leaves come first (LeafOp, <dagprop/op_def.hpp>), then the built-in ops in list order.
enum class OpCode : OpId {
  input = op_id(LeafOp::input),
  parameter = op_id(LeafOp::parameter),
  constant = op_id(LeafOp::constant),
#define DAGPROP_OP_ENUM(name) name,
  DAGPROP_BUILTIN_OPS(DAGPROP_OP_ENUM)
#undef DAGPROP_OP_ENUM
      builtin_count
};

constexpr OpId op_id(OpCode code) {
  return static_cast<OpId>(code);
}

// ---- elementwise arithmetic (numpy broadcasting)
Expr add(Expr a, Expr b);
Expr sub(Expr a, Expr b);
Expr mul(Expr a, Expr b);
Expr div(Expr a, Expr b);
Expr neg(Expr x);
Expr scale(Expr x, double factor);  // factor * x
Expr pow(Expr x, double exponent);
Expr exp(Expr x);
Expr log(Expr x);
Expr sqrt(Expr x);
Expr abs(Expr x);

// ---- activations
Expr step(Expr x);           // Heaviside (x > 0); gradient zero
Expr step_ste(Expr x);       // Heaviside forward; gradient passed straight through
Expr sign(Expr x);           // gradient zero
Expr stop_gradient(Expr x);  // identity forward; no gradient flows back (detach)
Expr sigmoid(Expr x);
Expr tanh(Expr x);
Expr relu(Expr x);
Expr leaky_relu(Expr x, double slope = 0.01);
Expr elu(Expr x, double alpha = 1.0);
Expr gelu(Expr x);  // erf form
Expr softplus(Expr x);
Expr silu(Expr x);

// ---- fused local gradients (used by the gradient rules; each is an op with its own gradient)
Expr sigmoid_grad(Expr y, Expr g);  // g * y * (1 - y), from the output y
Expr tanh_grad(Expr y, Expr g);     // g * (1 - y^2), from the output y
Expr relu_grad(Expr x, Expr g);     // g * (x > 0)
Expr leaky_relu_grad(Expr x, Expr g, double slope);
Expr elu_grad(Expr x, Expr g, double alpha);
Expr gelu_grad(Expr x, Expr g);
Expr silu_grad(Expr x, Expr g);

// ---- reductions and shapes
Expr sum(Expr x);  // all elements, to a scalar
Expr sum(Expr x, int axis, bool keepdim = false);
Expr mean(Expr x);
Expr mean(Expr x, int axis, bool keepdim = false);
Expr reshape(Expr x, std::vector<std::int64_t> dims);  // one dimension may be -1 (inferred)
Expr transpose(Expr x, int axis_a = -2, int axis_b = -1);
Expr broadcast_to(Expr x, Shape shape);
Expr sum_to(Expr x, Shape shape);  // the reverse of broadcast_to: sums the broadcast axes

// ---- linear algebra and the neuron
Expr matmul(Expr a, Expr b);  // [..., m, k] x [..., k, n]; a 2-D side is broadcast over the batch
// Which operands matmul reads transposed (last two axes swapped), without building a transpose:
// matmul(a, b, {.b = true}) is a b^T in one product.
struct MatmulTranspose {
  bool a = false;
  bool b = false;
};
Expr matmul(Expr a, Expr b, MatmulTranspose transpose);
// The BLAS behind matmul and the kernels it runs on this CPU, as OpenBLAS reports them ("OpenBLAS
// 0.3.21 ... SkylakeX ..."; OpenBLAS picks them by CPU, or as OPENBLAS_CORETYPE says). A product's
// last bits depend on the kernels, so a seed reproduces a run bit for bit, at any thread count, on
// the same kernels; `dagprop train` and `dagprop study` record them beside their results.
std::string blas_kernels();
// sum over the last axis of x * w, plus b: the seed's neuron, on one example or on a batch.
Expr weighted_sum(Expr x, Expr w, Expr b);

// ---- normalizers and losses (last axis = classes)
Expr softmax(Expr x);
Expr log_softmax(Expr x);
Expr softmax_grad(Expr y, Expr g);
Expr log_softmax_grad(Expr y, Expr g);
Expr mse_loss(Expr prediction, Expr target);   // mean squared error
Expr cross_entropy(Expr logits, Expr labels);  // logits [B, C], labels [B] in 0..C-1
Expr cross_entropy_grad(Expr logits, Expr labels, Expr g);
Expr binary_cross_entropy_with_logits(Expr logits, Expr targets);  // mean, targets in [0, 1]
Expr one_hot(Expr labels, std::int64_t num_classes);

// ---- tensor ops: joining, slicing, indexing (indices are whole numbers stored in the data's
// dtype, checked when the graph runs)
Expr concat(const std::vector<Expr>& inputs, int axis = 0);
Expr stack(const std::vector<Expr>& inputs, int axis = 0);  // concat along a new axis of size 1
// One axis of a slice: Python's start:stop:step (negative bounds count from the end; step >= 1).
struct SliceRange {
  std::int64_t start = 0;
  std::int64_t stop = std::numeric_limits<std::int64_t>::max();
  std::int64_t step = 1;
};
Expr slice(Expr x, const std::vector<SliceRange>& ranges);  // axes without a range are kept whole
Expr slice(Expr x, int axis, std::int64_t start, std::int64_t stop, std::int64_t step = 1);
Expr index_select(Expr x, int axis, Expr indices);  // indices [k]: y takes x's rows indices[j]
Expr gather(Expr x, int axis, Expr index);          // index of x's rank: y[..j..] = x[..index..]
Expr embedding(Expr weight, Expr indices);          // weight [V, D], indices [...] -> [..., D]

// ---- elementwise choices and masks (comparisons give 1 or 0; their gradient is zero)
Expr maximum(Expr a, Expr b);  // at a tie the gradient goes to a
Expr minimum(Expr a, Expr b);  // at a tie the gradient goes to a
Expr where(Expr condition, Expr a, Expr b);
Expr greater(Expr a, Expr b);
Expr greater_equal(Expr a, Expr b);
Expr less(Expr a, Expr b);
Expr less_equal(Expr a, Expr b);
Expr equal(Expr a, Expr b);
Expr not_equal(Expr a, Expr b);

// ---- extremes along an axis (the gradient goes to the first extreme element)
Expr max(Expr x, int axis, bool keepdim = false);
Expr min(Expr x, int axis, bool keepdim = false);
Expr argmax(Expr x, int axis, bool keepdim = false);
Expr argmin(Expr x, int axis, bool keepdim = false);

// ---- normalization and dropout
Expr layer_norm(Expr x, Expr gamma, Expr beta, double eps = 1e-5);  // over the last axis
// [2, C]: mean and biased variance of each channel (axis 1) of x [N, C, ...].
Expr batch_moments(Expr x);
// Normalizes x [N, C, ...] per channel with the given moments [2, C] (batch_moments(x) when
// training, the running moments when evaluating).
Expr batch_norm(Expr x, Expr moments, Expr gamma, Expr beta, double eps = 1e-5);
// Zeroes elements with probability p (scaling the rest by 1 / (1 - p)) with a mask that depends
// on seed, the scalar step counter and the position only.
Expr dropout(Expr x, Expr step, double p, std::uint64_t seed);

// ---- convolution and pooling on NCHW images ([batch, channels, height, width])
// Geometry as PyTorch's Conv2d takes it, (height, width) pairs.
struct Conv2dOptions {
  std::array<std::int64_t, 2> stride{1, 1};
  std::array<std::int64_t, 2> padding{0, 0};  // zeros on both sides
  std::array<std::int64_t, 2> dilation{1, 1};
  std::int64_t groups = 1;
};
// x [N, C, H, W] with weights w [out, C / groups, kh, kw] -> [N, out, OH, OW], OH = (H + 2 pad -
// dilation (kh - 1) - 1) / stride + 1 (likewise OW); bias [out] is added per output channel.
Expr conv2d(Expr x, Expr w, const Conv2dOptions& options = {});
Expr conv2d(Expr x, Expr w, Expr bias, const Conv2dOptions& options = {});
// The two halves of conv2d's gradient, each an op with a gradient of its own (second order):
// dx from the output gradient g and w, for an input of height and width input_hw; dw from x and g,
// for a kernel of kernel_hw.
Expr conv2d_input_grad(Expr g, Expr w, std::array<std::int64_t, 2> input_hw,
                       const Conv2dOptions& options = {});
Expr conv2d_weight_grad(Expr x, Expr g, std::array<std::int64_t, 2> kernel_hw,
                        const Conv2dOptions& options = {});

// Pooling windows, (height, width) pairs; a stride of {0, 0} means the kernel size (PyTorch's
// default). Padding is at most half the kernel.
struct Pool2dOptions {
  std::array<std::int64_t, 2> kernel{2, 2};
  std::array<std::int64_t, 2> stride{0, 0};
  std::array<std::int64_t, 2> padding{0, 0};
};
// Maximum over each window; padding never wins. The gradient goes to the FIRST maximal element of
// the window in row-major order (ties), NaN counts as maximal.
Expr max_pool2d(Expr x, const Pool2dOptions& options = {});
// dx: g scattered to each window's first maximal element of x (overlapping windows add).
Expr max_pool2d_grad(Expr x, Expr g, const Pool2dOptions& options = {});
// Its adjoint: u (shaped like x) read at each window's first maximal element of x.
Expr max_pool2d_select(Expr x, Expr u, const Pool2dOptions& options = {});
// Mean over each window, zero padding counted (PyTorch's count_include_pad = true).
Expr avg_pool2d(Expr x, const Pool2dOptions& options = {});
Expr avg_pool2d_grad(Expr g, std::array<std::int64_t, 2> input_hw,
                     const Pool2dOptions& options = {});
// [N, C, H, W] -> [N, C]: the mean of each feature map.
Expr global_avg_pool2d(Expr x);
// Axes start_axis.. merged into one (a reshape): [N, C, H, W] -> [N, C * H * W] for start_axis 1.
Expr flatten(Expr x, int start_axis = 1);

}  // namespace dagprop
DAGPROP_API_END
