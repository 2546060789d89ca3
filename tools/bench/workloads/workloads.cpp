// W1, W3 and W4 exactly as WORKLOADS.md defines them; the checksums printed by the benchmark tell
// whether they were built right.
#include "workloads.hpp"

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <string>

namespace dagprop::bench {

Tensor symmetric_f32(std::uint64_t seed, Shape shape, float scale) {
  Tensor t(shape, DType::f32);
  SplitMix64 random(seed);
  float* data = t.data<float>();
  for (std::int64_t i = 0; i < t.numel(); ++i)
    data[i] = (2.0F * random.uniform_float() - 1.0F) * scale;
  return t;
}

// ---------------------------------------------------------------- W1

NeuronSoupData make_neuron_soup_data(std::uint32_t num_neurons) {
  constexpr std::uint32_t kInputs = 64;
  SplitMix64 random(101);
  NeuronSoupData data;
  for (std::uint32_t j = 0; j < kInputs; ++j) data.inputs.push_back(2 * random.uniform() - 1);
  data.sources.resize(num_neurons);
  data.weights_and_bias.resize(num_neurons);
  for (std::uint32_t i = 0; i < num_neurons; ++i) {
    for (auto& source : data.sources[i])
      source = static_cast<std::uint32_t>(random.next() % (kInputs + i));
    for (double& value : data.weights_and_bias[i]) value = 2 * random.uniform() - 1;
  }
  return data;
}

// The neuron's activation by i % 3, on graph nodes or tape scalars.
template <class Value>
Value neuron_activation(std::size_t i, Value z) {
  switch (i % 3) {
    case 0:
      return sigmoid(z);
    case 1:
      return tanh(z);
    default:
      return relu(z);
  }
}

// The loss: the last 1000 neurons (or all, if fewer) added in increasing order.
template <class Value>
Value last_neurons_sum(const std::vector<Value>& value, std::size_t num_neurons) {
  const std::size_t first = value.size() - std::min<std::size_t>(1000, num_neurons);
  Value loss = value[first];
  for (std::size_t k = first + 1; k < value.size(); ++k) loss = loss + value[k];
  return loss;
}

void build_neuron_soup(const NeuronSoupData& data, NeuronSoup& soup) {
  Graph& g = *soup.graph;
  const std::size_t num_neurons = data.sources.size();
  std::vector<Expr> value;  // node k of the definition: inputs, then neurons
  value.reserve(data.inputs.size() + num_neurons);
  for (std::size_t j = 0; j < data.inputs.size(); ++j) {
    const Expr x = g.input("x" + std::to_string(j), Shape{});
    g.set_requires_grad(x);
    soup.inputs.push_back(x);
    soup.input_values.push_back(Tensor::scalar(data.inputs[j]));
    value.push_back(x);
  }
  for (std::size_t j = 0; j < soup.inputs.size(); ++j)
    soup.feeds.push_back({soup.inputs[j], soup.input_values[j]});

  soup.parameters.reserve(5 * num_neurons);
  for (std::size_t i = 0; i < num_neurons; ++i) {
    Expr p[5];
    for (int m = 0; m < 5; ++m) {
      p[m] = g.parameter(data.weights_and_bias[i][static_cast<std::size_t>(m)]);
      soup.parameters.push_back(p[m]);
    }
    const auto& s = data.sources[i];
    // (((w0 v0 + w1 v1) + w2 v2) + w3 v3) + b, in this association.
    const Expr z =
        p[0] * value[s[0]] + p[1] * value[s[1]] + p[2] * value[s[2]] + p[3] * value[s[3]] + p[4];
    value.push_back(neuron_activation(i, z));
  }
  soup.loss = last_neurons_sum(value, num_neurons);
}

GradientChecksum neuron_soup_gradient_checksum(const NeuronSoup& soup) {
  GradientChecksum checksum;
  auto add = [&](const Expr& e) {
    if (!soup.graph->has_grad(e.id())) return;
    const double g = e.grad().item();
    checksum.sum += g;
    checksum.sum_abs += std::abs(g);
  };
  for (const Expr& x : soup.inputs) add(x);
  for (const Expr& p : soup.parameters) add(p);
  return checksum;
}

std::size_t neuron_soup_tape_entries(std::size_t num_neurons, TapeSpelling spelling) {
  const std::size_t per_neuron = spelling == TapeSpelling::weighted_sum ? 7 : 14;
  return 64 + per_neuron * num_neurons + std::min<std::size_t>(1000, num_neurons) - 1;
}

double record_neuron_soup(const NeuronSoupData& data, TapeNeuronSoup& soup, TapeSpelling spelling) {
  ScalarTape& tape = soup.tape;
  const std::size_t num_neurons = data.sources.size();
  tape.clear();
  const bool fused = spelling == TapeSpelling::weighted_sum;
  tape.reserve(neuron_soup_tape_entries(num_neurons, spelling), fused ? 9 * num_neurons : 0);
  std::vector<Scalar>& value = soup.values;  // kept across recordings, like the tape's memory
  value.reserve(data.inputs.size() + num_neurons);
  soup.inputs.clear();
  for (const double x : data.inputs) soup.inputs.push_back(tape.variable(x));
  value.assign(soup.inputs.begin(), soup.inputs.end());
  soup.first_parameters.resize(num_neurons);
  for (std::size_t i = 0; i < num_neurons; ++i) {
    const std::array<double, 5>& p = data.weights_and_bias[i];
    const std::array<Scalar, 4> w = {tape.variable(p[0]), tape.variable(p[1]), tape.variable(p[2]),
                                     tape.variable(p[3])};
    const Scalar b = tape.variable(p[4]);
    soup.first_parameters[i] = w[0].index();
    const auto& s = data.sources[i];
    const std::array<Scalar, 4> v = {value[s[0]], value[s[1]], value[s[2]], value[s[3]]};
    // (((v0 w0 + v1 w1) + v2 w2) + v3 w3) + b, in this association either way.
    const Scalar z = fused ? tape.weighted_sum(v, w, b)
                           : v[0] * w[0] + v[1] * w[1] + v[2] * w[2] + v[3] * w[3] + b;
    value.push_back(neuron_activation(i, z));
  }
  soup.loss = last_neurons_sum(value, num_neurons);
  return soup.loss.value();
}

GradientChecksum neuron_soup_gradient_checksum(const TapeNeuronSoup& soup) {
  GradientChecksum checksum;
  const std::span<const double> adjoint = soup.tape.adjoints();
  auto add = [&](std::uint32_t entry) {
    checksum.sum += adjoint[entry];
    checksum.sum_abs += std::abs(adjoint[entry]);
  };
  for (const Scalar& x : soup.inputs) add(x.index());
  for (const std::uint32_t first : soup.first_parameters) {
    for (std::uint32_t m = 0; m < 5; ++m) add(first + m);
  }
  return checksum;
}

bool check_neuron_soup_checksums(std::size_t num_neurons, double loss,
                                 const GradientChecksum& gradient) {
  struct Expected {
    double loss, sum, sum_abs;
  };
  Expected expected{};
  if (num_neurons == 20'000)
    expected = {2.863941742306e+02, 1.063565248204e+03, 3.668169575987e+03};
  else if (num_neurons == 1'000'000)
    expected = {3.184184929874e+02, 1.103619212560e+03, 5.616347945119e+03};
  else
    return false;
  auto digits = [](double x) {
    char text[32];
    std::snprintf(text, sizeof text, "%.12e", x);
    return std::string(text);
  };
  // 13 significant digits are given: a difference of more than half a unit in the 12th is wrong.
  auto check = [&](const char* what, double value, double want) {
    if (std::abs(value - want) > 5e-12 * std::abs(want))
      throw Error(std::string("W1 N=") + std::to_string(num_neurons) +
                  " checksum mismatch: " + what + " " + digits(value) + ", WORKLOADS.md says " +
                  digits(want) + ": the soup was not built or differentiated as defined");
  };
  check("loss", loss, expected.loss);
  check("gradient sum", gradient.sum, expected.sum);
  check("sum of abs", gradient.sum_abs, expected.sum_abs);
  return true;
}

// ---------------------------------------------------------------- W3

void build_heads(Heads& heads, int first, int count) {
  constexpr int kBatch = 32;
  constexpr std::int64_t kWidths[] = {64, 64, 64, 1};
  Graph& g = *heads.graph;
  const Expr x = g.constant(symmetric_f32(301, Shape{kBatch, 64}, 1.0F), "X");
  const Expr target = g.constant(symmetric_f32(302, Shape{kBatch}, 1.0F), "t");
  for (int h = first; h < first + count; ++h) {
    const auto scope = g.scope("head" + std::to_string(h));
    Expr a = x;
    for (int l = 0; l < 3; ++l) {
      const std::int64_t in = kWidths[l], out = kWidths[l + 1];
      const float scale = static_cast<float>(1.0 / std::sqrt(static_cast<double>(in)));
      // The stream fills W [out][in] (PyTorch's Linear layout); the graph multiplies by W^T.
      const Tensor w =
          symmetric_f32(static_cast<std::uint64_t>(400 + 10 * h + 2 * l), Shape{out, in}, scale);
      Tensor w_transposed(Shape{in, out}, DType::f32);
      for (std::int64_t o = 0; o < out; ++o) {
        for (std::int64_t i = 0; i < in; ++i)
          w_transposed.data<float>()[i * out + o] = w.data<float>()[o * in + i];
      }
      const Expr weight = g.parameter("W" + std::to_string(l), w_transposed);
      const Expr bias = g.parameter(
          "b" + std::to_string(l),
          symmetric_f32(static_cast<std::uint64_t>(401 + 10 * h + 2 * l), Shape{out}, scale));
      heads.parameters.push_back(weight);
      heads.parameters.push_back(bias);
      a = matmul(a, weight) + bias;
      if (l < 2) a = tanh(a);
    }
    const Expr head_loss = mse_loss(reshape(a, {kBatch}), target);
    heads.loss = h == first ? head_loss : heads.loss + head_loss;
  }
}

// ---------------------------------------------------------------- W4

void build_deep_chain(DeepChain& chain) {
  Graph& g = *chain.graph;
  chain.x0 = g.parameter("x0", symmetric_f32(400, Shape{16}, 1.0F));
  const Expr factor = g.constant(0.999, DType::f32);
  const Expr offset = g.constant(0.001, DType::f32);
  Expr x = chain.x0;
  for (int k = 0; k < kDeepChainOps; ++k) x = k % 2 == 0 ? x * factor + offset : tanh(x);
  chain.loss = sum(x);
}

double sum_of_gradients(const std::vector<Expr>& parameters) {
  double total = 0;
  for (const Expr& p : parameters) {
    const TensorView g = p.grad();
    for (std::int64_t i = 0; i < g.numel(); ++i) total += g.at(i);
  }
  return total;
}

}  // namespace dagprop::bench
