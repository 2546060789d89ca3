// The shared test graphs.
#include "test_graphs.hpp"

namespace dagprop::testing {

SeedNeuron build_seed_neuron(Graph& g) {
  SeedNeuron n;
  n.x1 = g.constant(0.5);
  n.x2 = g.constant(0.6);
  n.w1 = g.parameter("w1", 0.1);
  n.w2 = g.parameter("w2", 0.2);
  n.b = g.parameter("b", 0.3);
  n.a = g.set_name(relu(n.w1 * n.x1 + n.w2 * n.x2 + n.b), "a");
  return n;
}

Mlp build_mlp(Graph& g, std::int64_t batch) {
  SplitMix64 random(42);
  auto uniform = [&](Shape shape, double scale) {
    Tensor t(shape, DType::f32);
    for (std::int64_t i = 0; i < t.numel(); ++i) t.set(i, (2 * random.uniform() - 1) * scale);
    return t;
  };
  Mlp m;
  m.x_value = uniform(Shape{batch, 4}, 1.0);
  m.labels_value = Tensor(Shape{batch}, DType::f32);
  for (std::int64_t i = 0; i < batch; ++i) m.labels_value.set(i, static_cast<double>(i % 3));
  m.x = g.input("x", m.x_value.shape(), DType::f32);
  m.labels = g.input("labels", m.labels_value.shape(), DType::f32);
  Expr h = m.x;
  {
    auto mlp = g.scope("mlp");
    const std::int64_t widths[] = {4, 8, 8, 3};
    for (int layer = 1; layer <= 3; ++layer) {
      auto scope = g.scope("layer" + std::to_string(layer));
      const Expr w = g.parameter("W", uniform(Shape{widths[layer - 1], widths[layer]}, 0.7));
      const Expr b = g.parameter("b", uniform(Shape{widths[layer]}, 0.1));
      h = g.set_name(matmul(h, w) + b, "z");
      if (layer == 1) h = g.set_name(relu(h), "relu");
      if (layer == 2) h = g.set_name(tanh(h), "tanh");
    }
  }
  m.logits = h;
  auto scope = g.scope("loss");
  m.loss = g.set_name(cross_entropy(m.logits, m.labels), "cross_entropy");
  return m;
}

std::string error_message(const std::function<void()>& action) {
  try {
    action();
  } catch (const Error& e) {
    return e.what();
  }
  return "no error";
}

}  // namespace dagprop::testing
