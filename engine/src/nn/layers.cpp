// Linear, Dense and Mlp; the normalization, dropout and embedding layers; Conv2d.
#include <dagprop/nn/layers.hpp>

#include <cmath>

#include <dagprop/error.hpp>
#include <dagprop/ops.hpp>

namespace dagprop::nn {
namespace {

std::string layer_scope(std::size_t index) {
  return "layer" + std::to_string(index + 1);
}

const MlpOptions& checked(const MlpOptions& o) {
  if (o.sizes.size() < 2) {
    throw Error("Mlp: sizes has " + std::to_string(o.sizes.size()) +
                " entries; give at least the input and output sizes, e.g. {784, 256, 10}");
  }
  for (std::size_t i = 0; i < o.sizes.size(); ++i) {
    if (o.sizes[i] < 1 || o.sizes[i] > (std::int64_t{1} << 24)) {
      throw Error("Mlp: size " + std::to_string(i) + " is " + std::to_string(o.sizes[i]) +
                  "; every layer needs between 1 and 2^24 units");
    }
  }
  return o;
}

std::vector<Dense> build_hidden(Graph& graph, const MlpOptions& o, const Activation& activation,
                                SplitMix64& random) {
  const Init init = o.init == "auto" ? activation.init : init_by_name(o.init);
  std::vector<Dense> layers;
  for (std::size_t i = 0; i + 2 < o.sizes.size(); ++i) {
    layers.emplace_back(
        Linear(graph, layer_scope(i), o.sizes[i], o.sizes[i + 1], init, random, o.dtype),
        activation);
  }
  return layers;
}

}  // namespace

Linear::Linear(Graph& graph, std::string_view scope, std::int64_t in_features,
               std::int64_t out_features, Init init, SplitMix64& random, DType dtype)
    : graph_(&graph), scope_(scope), in_(in_features), out_(out_features) {
  auto s = graph.scope(scope);
  weight_ = graph.parameter("W", initialize(init, in_features, out_features, random, dtype));
  bias_ = graph.parameter("b", Tensor(Shape{out_features}, dtype));
}

Expr Linear::operator()(Expr x) const {
  if (x.shape().rank() != 2 || x.shape()[1] != in_) {
    throw Error("layer '" + scope_ + "' takes inputs [batch, " + std::to_string(in_) + "], got " +
                x.graph().describe(x.id()) + "; reshape the input or change the layer's size");
  }
  auto s = graph_->scope(scope_);
  return graph_->set_name(matmul(x, weight_) + bias_, "z");
}

Dense::Dense(Graph& graph, std::string_view scope, std::int64_t in_features,
             std::int64_t out_features, const Activation& activation, SplitMix64& random,
             DType dtype)
    : linear_(graph, scope, in_features, out_features, activation.init, random, dtype),
      activation_(&activation) {}

DenseNodes Dense::apply(Expr x) const {
  const Expr z = linear_(x);
  Graph& graph = z.graph();
  auto s = graph.scope(linear_.scope());
  return {z, graph.set_name(activation_->apply(z), "a")};
}

Mlp::Mlp(Graph& graph, const MlpOptions& options, SplitMix64& random)
    : activation_(&activation_by_name(checked(options).activation)),
      hidden_(build_hidden(graph, options, *activation_, random)),
      output_(graph, layer_scope(options.sizes.size() - 2), options.sizes[options.sizes.size() - 2],
              options.sizes.back(), Init::glorot_uniform, random, options.dtype) {}

MlpNodes Mlp::apply(Expr x) const {
  MlpNodes nodes;
  for (const Dense& layer : hidden_) {
    nodes.hidden.push_back(layer.apply(x));
    x = nodes.hidden.back().output;
  }
  nodes.output = output_(x);
  return nodes;
}

std::vector<Expr> Mlp::parameters() const {
  std::vector<Expr> result;
  for (const Dense& layer : hidden_) {
    result.push_back(layer.linear().weight());
    result.push_back(layer.linear().bias());
  }
  result.push_back(output_.weight());
  result.push_back(output_.bias());
  return result;
}

std::vector<Expr> Mlp::weights() const {
  std::vector<Expr> result;
  for (const Dense& layer : hidden_) result.push_back(layer.linear().weight());
  result.push_back(output_.weight());
  return result;
}

// ---- BatchNorm, LayerNorm, Dropout, Embedding

BatchNorm::BatchNorm(Graph& graph, std::string_view scope, std::int64_t channels, DType dtype,
                     double momentum, double eps)
    : graph_(&graph), scope_(scope), channels_(channels), momentum_(momentum), eps_(eps) {
  if (channels < 1) {
    throw Error("BatchNorm '" + scope_ + "': " + std::to_string(channels) +
                " channels; give at least one");
  }
  if (!(momentum >= 0 && momentum <= 1)) {
    throw Error("BatchNorm '" + scope_ + "': momentum " + std::to_string(momentum) +
                " is outside [0, 1]");
  }
  auto s = graph.scope(scope);
  gamma_ = graph.parameter("gamma", Tensor::full(Shape{channels}, 1.0, dtype));
  beta_ = graph.parameter("beta", Tensor(Shape{channels}, dtype));
  Tensor running(Shape{2, channels}, dtype);
  for (std::int64_t c = 0; c < channels; ++c) running.set(channels + c, 1.0);
  running_ = graph.constant(running, "running_moments");
}

Expr BatchNorm::apply(Expr x, Mode mode) {
  if (x.shape().rank() < 2 || x.shape()[1] != channels_) {
    throw Error("BatchNorm '" + scope_ + "' takes inputs [batch, " + std::to_string(channels_) +
                ", ...], got " + x.graph().describe(x.id()));
  }
  auto s = graph_->scope(scope_);
  if (mode == Mode::eval) {
    return graph_->set_name(batch_norm(x, running_, gamma_, beta_, eps_), "eval");
  }
  batch_moments_ = graph_->set_name(batch_moments(x), "batch_moments");
  return graph_->set_name(batch_norm(x, batch_moments_, gamma_, beta_, eps_), "train");
}

void BatchNorm::update_running_statistics() {
  if (!batch_moments_.valid()) {
    throw Error("BatchNorm '" + scope_ +
                "': update_running_statistics() before any training application; apply the "
                "layer in Mode::train first");
  }
  if (!graph_->has_value(batch_moments_.id())) {
    throw Error("BatchNorm '" + scope_ + "': the last run left no value for " +
                graph_->describe(batch_moments_.id()) +
                "; keep batch_statistics() in the training run (BackwardOptions::keep)");
  }
  const TensorView batch = graph_->value(batch_moments_);
  const Shape& xs = graph_->shape_of(graph_->inputs_of(batch_moments_.id())[0]);
  const double count = static_cast<double>(xs.numel() / channels_);
  const double unbiased = count > 1 ? count / (count - 1) : 1.0;
  TensorView running = graph_->value(running_);
  for (std::int64_t c = 0; c < channels_; ++c) {
    running.set(c, (1 - momentum_) * running.at(c) + momentum_ * batch.at(c));
    const std::int64_t v = channels_ + c;
    running.set(v, (1 - momentum_) * running.at(v) + momentum_ * batch.at(v) * unbiased);
  }
}

LayerNorm::LayerNorm(Graph& graph, std::string_view scope, std::int64_t features, DType dtype,
                     double eps)
    : graph_(&graph), scope_(scope), eps_(eps) {
  auto s = graph.scope(scope);
  gamma_ = graph.parameter("gamma", Tensor::full(Shape{features}, 1.0, dtype));
  beta_ = graph.parameter("beta", Tensor(Shape{features}, dtype));
}

Expr LayerNorm::operator()(Expr x) const {
  auto s = graph_->scope(scope_);
  return graph_->set_name(layer_norm(x, gamma_, beta_, eps_), "y");
}

Dropout::Dropout(Graph& graph, std::string_view scope, double p, SplitMix64& random, DType dtype)
    : graph_(&graph), scope_(scope), p_(p), seed_(random.next()) {
  if (!(p >= 0 && p < 1)) {
    throw Error("Dropout '" + scope_ + "': probability " + std::to_string(p) +
                " is outside [0, 1)");
  }
  auto s = graph.scope(scope);
  step_ = graph.constant(Tensor::scalar(0.0, dtype), "step");
}

Expr Dropout::apply(Expr x, Mode mode) const {
  if (mode == Mode::eval || p_ == 0) return x;
  auto s = graph_->scope(scope_);
  return graph_->set_name(dropout(x, step_, p_, seed_), "y");
}

void Dropout::advance() {
  TensorView step = graph_->value(step_);
  step.set(0, step.at(0) + 1);
}

Embedding::Embedding(Graph& graph, std::string_view scope, std::int64_t num_embeddings,
                     std::int64_t dim, SplitMix64& random, DType dtype)
    : graph_(&graph), scope_(scope) {
  if (num_embeddings < 1 || dim < 1) {
    throw Error("Embedding '" + scope_ + "': a table of " + std::to_string(num_embeddings) + " x " +
                std::to_string(dim) + "; both must be at least 1");
  }
  Tensor table(Shape{num_embeddings, dim}, dtype);
  for (std::int64_t i = 0; i < table.numel(); ++i) table.set(i, random.normal());
  auto s = graph.scope(scope);
  weight_ = graph.parameter("weight", table);
}

Expr Embedding::operator()(Expr indices) const {
  auto s = graph_->scope(scope_);
  return graph_->set_name(embedding(weight_, indices), "y");
}

// ---- Conv2d

namespace {

// PyTorch's default for Conv2d weights and biases: uniform in +-1 / sqrt(fan_in).
Tensor uniform_fan_in(Shape shape, std::int64_t fan_in, SplitMix64& random, DType dtype) {
  Tensor t(shape, dtype);
  const double bound = 1.0 / std::sqrt(static_cast<double>(fan_in));
  for (std::int64_t i = 0; i < t.numel(); ++i) t.set(i, (2.0 * random.uniform() - 1.0) * bound);
  return t;
}

}  // namespace

Conv2d::Conv2d(Graph& graph, std::string_view scope, std::int64_t in_channels,
               std::int64_t out_channels, std::array<std::int64_t, 2> kernel, SplitMix64& random,
               const Conv2dOptions& options, bool bias, DType dtype)
    : graph_(&graph), scope_(scope), in_(in_channels), out_(out_channels), options_(options) {
  if (in_channels < 1 || out_channels < 1 || kernel[0] < 1 || kernel[1] < 1 || options.groups < 1 ||
      in_channels % options.groups != 0 || out_channels % options.groups != 0) {
    throw Error("Conv2d '" + scope_ + "': " + std::to_string(in_channels) + " -> " +
                std::to_string(out_channels) + " channels, kernel " + std::to_string(kernel[0]) +
                " x " + std::to_string(kernel[1]) + ", groups " + std::to_string(options.groups) +
                "; channels and kernel sides must be at least 1 and both channel counts "
                "multiples of groups");
  }
  const std::int64_t fan_in = in_channels / options.groups * kernel[0] * kernel[1];
  auto s = graph.scope(scope);
  weight_ = graph.parameter(
      "W", uniform_fan_in(Shape{out_channels, in_channels / options.groups, kernel[0], kernel[1]},
                          fan_in, random, dtype));
  if (bias)
    bias_ = graph.parameter("b", uniform_fan_in(Shape{out_channels}, fan_in, random, dtype));
}

Expr Conv2d::operator()(Expr x) const {
  if (x.shape().rank() != 4 || x.shape()[1] != in_) {
    throw Error("layer '" + scope_ + "' takes images [batch, " + std::to_string(in_) +
                ", height, width], got " + x.graph().describe(x.id()) +
                "; reshape the input or change the layer's channels");
  }
  auto s = graph_->scope(scope_);
  const Expr y = bias_ ? conv2d(x, weight_, bias_, options_) : conv2d(x, weight_, options_);
  return graph_->set_name(y, "z");
}

}  // namespace dagprop::nn
