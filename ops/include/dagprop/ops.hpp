// The built-in ops: the list that fixes their ids (after the core's leaves), and the functions
// that build them. ops/ builds on the core's op table (<dagprop/op_def.hpp>), never the reverse.
// Adding an op: its unit ops/src/<name>.cpp (kernels, shape rule, gradient rule, docs), one line in
// DAGPROP_BUILTIN_OPS, its builder below, and its case in tests/ops/op_cases.cpp.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include <dagprop/export.hpp>
#include <dagprop/expr.hpp>
#include <dagprop/node.hpp>
#include <dagprop/op_def.hpp>

// X(name): every built-in op. Each must define `const OpDef& op_def_<name>()` in namespace
// dagprop::ops (declared in ops/src/op_helpers.hpp; a link error if missing).
#define DAGPROP_BUILTIN_OPS(X)                                                                     \
  X(add)                                                                                           \
  X(sub)                                                                                           \
  X(mul) X(div) X(neg) X(scale) X(pow) X(exp) X(log) X(sqrt) X(abs) X(step) X(step_ste) X(sign)    \
      X(stop_gradient) X(sigmoid) X(tanh) X(relu) X(leaky_relu) X(elu) X(gelu) X(softplus) X(silu) \
          X(sigmoid_grad) X(tanh_grad) X(relu_grad) X(leaky_relu_grad) X(elu_grad) X(gelu_grad)    \
              X(silu_grad) X(sum) X(mean) X(reshape) X(transpose) X(broadcast_to) X(sum_to)        \
                  X(matmul) X(weighted_sum) X(softmax) X(log_softmax) X(softmax_grad)              \
                      X(log_softmax_grad) X(mse_loss) X(cross_entropy) X(cross_entropy_grad)       \
                          X(binary_cross_entropy_with_logits) X(one_hot)

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

}  // namespace dagprop
DAGPROP_API_END
