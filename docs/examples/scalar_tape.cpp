// The seed text's neuron a = relu(w1 x1 + w2 x2 + b) on the scalar tape, then the same tape
// rebuilt as graph nodes (to draw it or to differentiate it with the graph engine), and the
// neuron's weighted sum recorded as one entry.
#include <array>
#include <cstdio>
#include <string>

#include <dagprop/dagprop.hpp>
#include <dagprop/dot.hpp>

int main() {
  using namespace dagprop;
  ScalarTape tape;
  tape.reserve(16);  // optional: room for 16 entries, no growth while recording
  Scalar w1 = tape.variable(0.1), w2 = tape.variable(0.2), b = tape.variable(0.3);
  Scalar a = relu(w1 * 0.5 + w2 * 0.6 + b);  // values are computed as it records: 0.47
  tape.backward(a);                          // sweeps the whole tape in reverse
  std::printf("a = %.2f, dw1 = %.2f, dw2 = %.2f, db = %.2f\n", a.value(), tape.adjoint(w1),
              tape.adjoint(w2), tape.adjoint(b));
  std::printf("%zu entries, %zu bytes\n", tape.size(), tape.memory_bytes());

  Graph g;
  TapeGraph exported = tape.to_graph(g, a);  // variables become parameters "v0", "v1", ...
  g.backward(exported.output);
  std::printf("graph: a = %.2f, dw1 = %.2f\n", g.run(exported.output).item(),
              g.grad(exported.node(w1)).item());
  std::string dot = to_dot(g);  // or render(g, "neuron.svg")
  std::printf("%s ... (%zu nodes with the gradient graph)\n", dot.substr(0, 7).c_str(), g.size());

  // x1 w1 + x2 w2 + b as one entry (added in this order, b last) instead of 2 mul and 2 add.
  ScalarTape fused;
  const std::array<Scalar, 2> x = {fused.constant(0.5), fused.constant(0.6)};
  const std::array<Scalar, 2> w = {fused.variable(0.1), fused.variable(0.2)};
  Scalar a_fused = relu(weighted_sum(x, w, fused.variable(0.3)));
  fused.backward(a_fused);
  std::printf("weighted_sum: a = %.2f, dw1 = %.2f, %zu entries\n", a_fused.value(),
              fused.adjoint(w[0]), fused.size());
}
