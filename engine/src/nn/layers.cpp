// Linear, Dense and Mlp; Conv2d.
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
