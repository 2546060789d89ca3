// Linear, Dense and Mlp.
#include <dagprop/nn/layers.hpp>

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

}  // namespace dagprop::nn
