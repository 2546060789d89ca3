// Layers that build graph nodes under a name scope: Linear (the seed's weighted sum plus bias, on a
// batch), Dense (Linear then an activation) and Mlp (a stack of them). A layer owns parameter
// nodes; applying it to an input adds op nodes, so one model can be applied to several inputs of
// one graph (a training batch and an evaluation batch) and share its parameters.
#pragma once

#include <array>
#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include <dagprop/export.hpp>
#include <dagprop/expr.hpp>
#include <dagprop/graph.hpp>
#include <dagprop/nn/activation.hpp>
#include <dagprop/nn/init.hpp>
#include <dagprop/ops.hpp>
#include <dagprop/random.hpp>

DAGPROP_API_BEGIN
namespace dagprop::nn {

class Linear {
 public:
  // Parameters "<scope>/W" [in, out], drawn with `init`, and "<scope>/b" [out], zero.
  Linear(Graph& graph, std::string_view scope, std::int64_t in_features, std::int64_t out_features,
         Init init, SplitMix64& random, DType dtype = DType::f32);

  // matmul(x, W) + b for x of shape [batch, in]; the nodes are built under the layer's scope.
  Expr operator()(Expr x) const;

  Expr weight() const { return weight_; }
  Expr bias() const { return bias_; }
  std::int64_t in_features() const { return in_; }
  std::int64_t out_features() const { return out_; }
  const std::string& scope() const { return scope_; }

 private:
  Graph* graph_;
  std::string scope_;
  std::int64_t in_, out_;
  Expr weight_, bias_;
};

// What applying a layer built, for inspection (unit statistics, pictures).
struct DenseNodes {
  Expr pre_activation;  // matmul(x, W) + b
  Expr output;          // activation(pre_activation)
};

class Dense {
 public:
  // The initializer defaults to the one that suits the activation (He for ReLU-like units).
  Dense(Graph& graph, std::string_view scope, std::int64_t in_features, std::int64_t out_features,
        const Activation& activation, SplitMix64& random, DType dtype = DType::f32);
  Dense(Linear linear, const Activation& activation) : linear_(linear), activation_(&activation) {}

  Expr operator()(Expr x) const { return apply(x).output; }
  DenseNodes apply(Expr x) const;

  const Linear& linear() const { return linear_; }
  const Activation& activation() const { return *activation_; }

 private:
  Linear linear_;
  const Activation* activation_;
};

struct MlpOptions {
  std::vector<std::int64_t> sizes;  // input, hidden..., output: {784, 256, 128, 10}
  std::string activation = "relu";  // any name of activation_names()
  std::string init = "auto";        // "auto": the activation's own; or a name of init_names()
  DType dtype = DType::f32;
};

// The nodes of one application of an Mlp.
struct MlpNodes {
  Expr output;                     // the last layer's output (logits: no activation)
  std::vector<DenseNodes> hidden;  // one per hidden layer
};

// Hidden layers are Dense with the chosen activation, scopes "layer1", "layer2", ...; the last
// layer is Linear (its outputs are logits for a loss that applies softmax itself), initialized
// with Glorot uniform.
class Mlp {
 public:
  Mlp(Graph& graph, const MlpOptions& options, SplitMix64& random);

  Expr operator()(Expr x) const { return apply(x).output; }
  MlpNodes apply(Expr x) const;

  // Every parameter, layer by layer, weight before bias.
  std::vector<Expr> parameters() const;
  // The weights of every layer (hidden and output), for per-layer gradient norms.
  std::vector<Expr> weights() const;
  const std::vector<Dense>& hidden_layers() const { return hidden_; }
  const Linear& output_layer() const { return output_; }
  const Activation& activation() const { return *activation_; }
  std::size_t num_layers() const { return hidden_.size() + 1; }

 private:
  const Activation* activation_;
  std::vector<Dense> hidden_;
  Linear output_;
};

// ---- layers with a training and an evaluation form (issue 19)

// Which form a layer builds when it is applied. A graph is built once, so the mode is chosen per
// application: a trainer applies the model in Mode::train to its training batch and in Mode::eval
// to its evaluation batch (one model, one set of parameters, two subgraphs). set_mode() sets what
// operator() builds; apply(x, mode) says it explicitly.
enum class Mode { train, eval };

// Batch normalization over axis 1 of x [N, C, ...]: BatchNorm2d on [N, C, H, W], BatchNorm1d on
// [N, C] or [N, C, L]. Parameters "<scope>/gamma" (ones) and "<scope>/beta" (zeros); the running
// moments are a constant "<scope>/running_moments" [2, C] (mean 0, variance 1 at the start), which
// optimizers do not touch. Training normalizes with batch_moments(x); evaluation with the running
// moments, which update_running_statistics() moves towards the last training batch's.
class BatchNorm {
 public:
  BatchNorm(Graph& graph, std::string_view scope, std::int64_t channels, DType dtype = DType::f32,
            double momentum = 0.1, double eps = 1e-5);

  Expr operator()(Expr x) { return apply(x, mode_); }
  Expr apply(Expr x, Mode mode);
  void set_mode(Mode mode) { mode_ = mode; }
  Mode mode() const { return mode_; }

  // The batch_moments node of the last training application: keep it in the training run
  // (BackwardOptions::keep) so that update_running_statistics() can read it.
  Expr batch_statistics() const { return batch_moments_; }
  // running = (1 - momentum) running + momentum [mean; unbiased variance] of the last training
  // batch, in a fixed order; throws if the last run did not leave the batch statistics readable.
  void update_running_statistics();

  Expr gamma() const { return gamma_; }
  Expr beta() const { return beta_; }
  Expr running_moments() const { return running_; }
  std::vector<Expr> parameters() const { return {gamma_, beta_}; }

 private:
  Graph* graph_;
  std::string scope_;
  std::int64_t channels_;
  double momentum_, eps_;
  Mode mode_ = Mode::train;
  Expr gamma_, beta_, running_, batch_moments_;
};
using BatchNorm2d = BatchNorm;
using BatchNorm1d = BatchNorm;

// layer_norm over the last axis, with parameters "<scope>/gamma" (ones) and "<scope>/beta"
// (zeros). The same in training and evaluation.
class LayerNorm {
 public:
  LayerNorm(Graph& graph, std::string_view scope, std::int64_t features, DType dtype = DType::f32,
            double eps = 1e-5);
  Expr operator()(Expr x) const;
  Expr gamma() const { return gamma_; }
  Expr beta() const { return beta_; }
  std::vector<Expr> parameters() const { return {gamma_, beta_}; }

 private:
  Graph* graph_;
  std::string scope_;
  double eps_;
  Expr gamma_, beta_;
};

// Dropout with probability p in training, the identity in evaluation. Its seed is drawn from
// `random` when it is built (like an initializer); the step counter is a constant
// "<scope>/step" that advance() increments, so each training step gets a new mask while a step
// and its backward pass share one. The mask depends on the seed, the step and the position only.
class Dropout {
 public:
  Dropout(Graph& graph, std::string_view scope, double p, SplitMix64& random,
          DType dtype = DType::f32);

  Expr operator()(Expr x) const { return apply(x, mode_); }
  Expr apply(Expr x, Mode mode) const;
  void set_mode(Mode mode) { mode_ = mode; }
  Mode mode() const { return mode_; }
  // Call once per training step, before the step's run.
  void advance();
  std::uint64_t seed() const { return seed_; }
  Expr step() const { return step_; }

 private:
  Graph* graph_;
  std::string scope_;
  double p_;
  std::uint64_t seed_;
  Mode mode_ = Mode::train;
  Expr step_;
};

// A table "<scope>/weight" [num_embeddings, dim] drawn from N(0, 1); applied to indices of any
// shape (whole numbers stored in the table's dtype) it gives [..., dim]. Repeated indices add
// their gradients in index order.
class Embedding {
 public:
  Embedding(Graph& graph, std::string_view scope, std::int64_t num_embeddings, std::int64_t dim,
            SplitMix64& random, DType dtype = DType::f32);
  Expr operator()(Expr indices) const;
  Expr weight() const { return weight_; }

 private:
  Graph* graph_;
  std::string scope_;
  Expr weight_;
};

// ---- convolutional layers (NCHW)

// Parameters "<scope>/W" [out, in / groups, kh, kw] (PyTorch's layout) and "<scope>/b" [out], both
// uniform in +-1 / sqrt(fan_in) with fan_in = in / groups * kh * kw: PyTorch's default
// initialization of Conv2d (kaiming-uniform with a = sqrt(5)). Drawn weight first, row-major.
class Conv2d {
 public:
  Conv2d(Graph& graph, std::string_view scope, std::int64_t in_channels, std::int64_t out_channels,
         std::array<std::int64_t, 2> kernel, SplitMix64& random, const Conv2dOptions& options = {},
         bool bias = true, DType dtype = DType::f32);

  // conv2d(x, W, b) for x of shape [batch, in, H, W], under the layer's scope.
  Expr operator()(Expr x) const;

  Expr weight() const { return weight_; }
  Expr bias() const { return bias_; }  // empty without a bias
  std::int64_t in_channels() const { return in_; }
  std::int64_t out_channels() const { return out_; }
  const Conv2dOptions& options() const { return options_; }
  const std::string& scope() const { return scope_; }

 private:
  Graph* graph_;
  std::string scope_;
  std::int64_t in_, out_;
  Conv2dOptions options_;
  Expr weight_, bias_;
};

// Layers without parameters, so a model reads as a list of layers.
class MaxPool2d {
 public:
  explicit MaxPool2d(const Pool2dOptions& options = {}) : options_(options) {}
  Expr operator()(Expr x) const { return max_pool2d(x, options_); }
  const Pool2dOptions& options() const { return options_; }

 private:
  Pool2dOptions options_;
};

class AvgPool2d {
 public:
  explicit AvgPool2d(const Pool2dOptions& options = {}) : options_(options) {}
  Expr operator()(Expr x) const { return avg_pool2d(x, options_); }
  const Pool2dOptions& options() const { return options_; }

 private:
  Pool2dOptions options_;
};

// [N, C, H, W] -> [N, C * H * W] (start_axis 1), in (C, H, W) order.
class Flatten {
 public:
  explicit Flatten(int start_axis = 1) : start_axis_(start_axis) {}
  Expr operator()(Expr x) const { return flatten(x, start_axis_); }

 private:
  int start_axis_;
};

}  // namespace dagprop::nn
DAGPROP_API_END
