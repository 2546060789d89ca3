// Graphs the picture and file tests share (the seed neuron and a small MLP on a batch), and a
// helper for checking error messages.
#pragma once

#include <functional>
#include <string>
#include <vector>

#include <dagprop/dagprop.hpp>

namespace dagprop::testing {

// relu(w1 x1 + w2 x2 + b) with the seed's numbers; x1 and x2 are constants.
struct SeedNeuron {
  Expr x1, x2, w1, w2, b, a;
};
SeedNeuron build_seed_neuron(Graph& g);

// An MLP 4-8-8-3 on a batch of 16 (float32), ReLU then tanh, cross-entropy; each layer in its
// own scope ("mlp/layer1", ...), the loss in "loss".
struct Mlp {
  Expr x, labels, logits, loss;
  Tensor x_value, labels_value;
  std::vector<Feed> feeds() const { return {{x, x_value}, {labels, labels_value}}; }
};
Mlp build_mlp(Graph& g, std::int64_t batch = 16);

// The message of the dagprop::Error that `action` throws, or "no error".
std::string error_message(const std::function<void()>& action);

}  // namespace dagprop::testing
