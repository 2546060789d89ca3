// The peer workloads W1, W3 and W4 of WORKLOADS.md as dagprop graphs: data from the SplitMix64
// streams the definitions name, built outside the timed regions unless the workload times building.
#pragma once

#include <array>
#include <cstdint>
#include <memory>
#include <vector>

#include <dagprop/dagprop.hpp>

namespace dagprop::bench {

// sym_f32(seed, k, scale) for k = 0, 1, ...: (2u - 1) * scale in float, u with 24 random bits.
Tensor symmetric_f32(std::uint64_t seed, Shape shape, float scale);

// ---- W1 scalar neuron soup (float64)
struct NeuronSoupData {
  std::vector<double> inputs;                           // the 64 input leaves
  std::vector<std::array<std::uint32_t, 4>> sources;    // per neuron: earlier nodes it reads
  std::vector<std::array<double, 5>> weights_and_bias;  // per neuron: w0..w3, b
};
NeuronSoupData make_neuron_soup_data(std::uint32_t num_neurons);

struct NeuronSoup {
  std::unique_ptr<Graph> graph = std::make_unique<Graph>();
  std::vector<Expr> inputs;
  std::vector<Tensor> input_values;
  std::vector<Feed> feeds;
  std::vector<Expr> parameters;  // the gradient order: per neuron w0..w3, b
  Expr loss;
};
// Builds the graph (the timed "record" part).
void build_neuron_soup(const NeuronSoupData& data, NeuronSoup& soup);

// Sum and sum of absolute values of the gradient vector (inputs, then every neuron's w0..w3, b;
// nodes the loss does not depend on have no stored gradient and count as 0).
struct GradientChecksum {
  double sum = 0;
  double sum_abs = 0;
};
GradientChecksum neuron_soup_gradient_checksum(const NeuronSoup& soup);

// The same soup on a ScalarTape: every input and parameter is recorded as a tape variable while
// the tape is recorded (inside the timed region, as ADOL-C's `<<=`), then each neuron's ops.
struct TapeNeuronSoup {
  ScalarTape tape;
  std::vector<Scalar> inputs;
  std::vector<Scalar> values;                   // node k of the definition: inputs, then neurons
  std::vector<std::uint32_t> first_parameters;  // per neuron: the entry of w0 (w1..w3, b follow)
  Scalar loss;
};
// How a neuron's z is recorded: one weighted_sum entry, or 4 mul and 4 add entries.
enum class TapeSpelling { weighted_sum, operators };
// Entries the soup records: 64 inputs; per neuron 5 variables, z (1 entry or 8) and the
// activation; one add per loss term after the first.
std::size_t neuron_soup_tape_entries(std::size_t num_neurons, TapeSpelling spelling);
// Clears the tape (keeping its memory) and records the soup on it; returns the loss value.
double record_neuron_soup(const NeuronSoupData& data, TapeNeuronSoup& soup,
                          TapeSpelling spelling = TapeSpelling::weighted_sum);
GradientChecksum neuron_soup_gradient_checksum(const TapeNeuronSoup& soup);

// WORKLOADS.md's W1 checksums for N = 20,000 and 1,000,000; throws dagprop::Error if `loss` or
// `gradient` differ from them in the 12 digits given (other N: nothing to check, returns false).
bool check_neuron_soup_checksums(std::size_t num_neurons, double loss,
                                 const GradientChecksum& gradient);

// ---- W3 independent heads (float32)
struct Heads {
  std::unique_ptr<Graph> graph = std::make_unique<Graph>();
  std::vector<Expr> parameters;
  Expr loss;
};
// Heads 64-64-64-1, tanh, batch 32: all 64 of the workload, or heads [first, first + count) of them
// (the same parameters), whose losses sum to part of the workload's loss.
void build_heads(Heads& heads, int first = 0, int count = 64);

// ---- W4 deep chain (float32)
struct DeepChain {
  std::unique_ptr<Graph> graph = std::make_unique<Graph>();
  Expr x0;
  Expr loss;
};
inline constexpr int kDeepChainOps = 100'000;
void build_deep_chain(DeepChain& chain);

double sum_of_gradients(const std::vector<Expr>& parameters);

}  // namespace dagprop::bench
