// A model written as a list of layers in a line of text, as `dagprop train --model` takes it:
//   "conv 32 5 pad 2, relu, maxpool 2, conv 64 5 pad 2, relu, maxpool 2, flatten, dense 128, relu,
//    dropout 0.25, dense 10"
// Layers are separated by commas; each is a kind and its arguments (docs/nn.md lists them). The
// shapes are worked out from the example shape by the ops' own shape rules, so a layer that does
// not fit its input is refused when the model is built, naming the layer by position and text.
#pragma once

#include <cstdint>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include <dagprop/export.hpp>
#include <dagprop/expr.hpp>
#include <dagprop/graph.hpp>
#include <dagprop/nn/layers.hpp>
#include <dagprop/random.hpp>

DAGPROP_API_BEGIN
namespace dagprop::nn {

// One layer of a parsed specification: its kind ("conv", "relu", ...), its numbers and flags as
// written, and where it stands (1-based) for messages.
struct LayerSpec {
  std::string kind;
  std::vector<std::string> words;  // after the kind, as written
  std::string text;                // the layer's text, trimmed
  int position = 0;
};

// Splits and checks the words (kinds and argument counts; not shapes): throws dagprop::Error
// naming the layer ("layer 3 'maxpool x': ...") and listing the kinds it knows.
std::vector<LayerSpec> parse_model_spec(std::string_view spec);
// The layer kinds and their arguments, one per line, for --help and messages.
std::string model_spec_help();

class Sequential {
 public:
  // `example_shape` is one example's shape without the batch axis: {1, 28, 28} for images
  // [batch, 1, 28, 28], {784} for flat features. Parameters are made in `graph` under scopes
  // "conv1", "dense1", "batchnorm1", ... and initialized from `random` in layer order.
  Sequential(Graph& graph, std::string_view spec, std::vector<std::int64_t> example_shape,
             SplitMix64& random, DType dtype = DType::f32);
  ~Sequential();
  Sequential(Sequential&&) noexcept;
  Sequential& operator=(Sequential&&) noexcept;

  // The model applied to x [batch, example_shape...]: Mode::train uses batch statistics and
  // dropout masks, Mode::eval the running statistics and no dropout. One model may be applied
  // several times (a training and an evaluation batch); the parameters are shared.
  Expr apply(Expr x, Mode mode) const;

  // Every parameter, layer by layer (weight before bias, gamma before beta).
  std::vector<Expr> parameters() const;
  // The weights of the conv and dense layers, in order, for per-layer gradient norms.
  std::vector<Expr> weights() const;
  // The batch statistics of the last training application: keep them in the training run
  // (BackwardOptions::keep) so that update_running_statistics() can read them.
  std::vector<Expr> batch_statistics() const;
  // After a training step's run: moves every batch norm's running statistics and advances every
  // dropout layer to the next step's mask. In a fixed order: the same run gives the same bits.
  void end_training_step();
  // The constants that hold the model's state beyond its parameters, which training changes and
  // a checkpoint carries: each batch norm's running statistics and each dropout layer's step.
  std::vector<Expr> state() const;

  // The per-example output shape ({10} for a classifier) and the model as a table: each layer's
  // text, its output shape and its parameter count.
  const std::vector<std::int64_t>& output_shape() const;
  std::string summary() const;
  std::int64_t parameter_count() const;
  const std::vector<LayerSpec>& layers() const;

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

}  // namespace dagprop::nn
DAGPROP_API_END
