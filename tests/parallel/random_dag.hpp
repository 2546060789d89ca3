// Seeded random graphs for the scheduler tests: ops of every kind wired to random earlier nodes,
// with tensors large enough that kernels split their loops into chunks.
#pragma once

#include <cstdint>
#include <vector>

#include <dagprop/dagprop.hpp>

namespace dagprop::testing {

struct RandomDag {
  std::vector<Expr> parameters;
  std::vector<Expr> ops;  // every op node, in building order
  Expr loss;              // a scalar that depends on the last nodes
};

inline Tensor random_tensor(SplitMix64& random, Shape shape, double scale) {
  Tensor t(shape, DType::f64);
  for (std::int64_t i = 0; i < t.numel(); ++i) t.set(i, scale * (2 * random.uniform() - 1));
  return t;
}

// num_ops op nodes on [side, side] tensors. Each takes its inputs from the last `window` nodes or
// a parameter, so the graph has depth and also branches that meet again later.
inline RandomDag build_random_dag(Graph& g, std::uint64_t seed, int num_ops, std::int64_t side,
                                  int window = 12) {
  SplitMix64 random(seed);
  RandomDag dag;
  std::vector<Expr> nodes;
  for (int p = 0; p < 4; ++p) {
    dag.parameters.push_back(
        g.parameter("p" + std::to_string(p), random_tensor(random, Shape{side, side}, 1.0)));
    nodes.push_back(dag.parameters.back());
  }
  auto pick = [&] {
    // Now and then a parameter, so that every parameter gets a gradient.
    if (random.next() % 8 == 0) return dag.parameters[random.next() % dag.parameters.size()];
    const std::size_t span = std::min<std::size_t>(nodes.size(), static_cast<std::size_t>(window));
    return nodes[nodes.size() - 1 - random.next() % span];
  };
  const double inverse_side = 1.0 / static_cast<double>(side);
  for (int i = 0; i < num_ops; ++i) {
    Expr node;
    switch (random.next() % 8) {
      case 0:
        node = tanh(pick());
        break;
      case 1:
        node = sigmoid(pick());
        break;
      case 2:
        node = relu(pick()) - 0.5;
        break;
      case 3:
        node = pick() + pick();
        break;
      case 4:
        node = pick() * pick();
        break;
      case 5:
        node = scale(matmul(pick(), pick()), inverse_side);
        break;
      case 6:
        node = softplus(pick()) - pick();
        break;
      default:
        node = sum(pick(), 1, true) * inverse_side + pick();  // a reduction broadcast back
        break;
    }
    nodes.push_back(node);
    dag.ops.push_back(node);
  }
  dag.loss = sum(nodes.back());
  for (std::size_t k = 2; k <= 6 && k <= nodes.size(); ++k)
    dag.loss = dag.loss + mean(nodes[nodes.size() - k]);
  return dag;
}

}  // namespace dagprop::testing
