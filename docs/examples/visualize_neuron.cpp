// docs/visualization.md, first pictures: the seed neuron with the value and gradient of every node,
// then with the backward graph that backward() built, drawn beside it.
// Usage: example_visualize_neuron OUTPUT_DIR (writes neuron.svg, neuron.dot, neuron_backward.svg
// and neuron_backward.dot)
#include <string>

#include <dagprop/dagprop.hpp>
#include <dagprop/dot.hpp>
#include <dagprop/snapshot.hpp>

int main(int argc, char** argv) {
  const std::string out = argc > 1 ? argv[1] : ".";
  dagprop::Graph g;
  auto x1 = g.constant(0.5), x2 = g.constant(0.6);
  auto w1 = g.parameter("w1", 0.1), w2 = g.parameter("w2", 0.2), b = g.parameter("b", 0.3);
  auto a = g.set_name(relu(w1 * x1 + w2 * x2 + b), "a");

  // The value of every node and the gradient of a with respect to each, from one run.
  const dagprop::Snapshot snapshot = dagprop::trace_gradients(a);
  dagprop::DotOptions options;
  options.snapshot = &snapshot;
  options.title = "a = relu(w1 x1 + w2 x2 + b)";
  dagprop::render(g, out + "/neuron.svg", options);
  dagprop::render(g, out + "/neuron.dot", options);

  // The same neuron after backward(): the nodes it added compute every gradient.
  dagprop::Graph h;
  auto hx1 = h.constant(0.5), hx2 = h.constant(0.6);
  auto hw1 = h.parameter("w1", 0.1), hw2 = h.parameter("w2", 0.2), hb = h.parameter("b", 0.3);
  auto ha = h.set_name(relu(hw1 * hx1 + hw2 * hx2 + hb), "a");
  h.backward(ha);
  dagprop::DotOptions backward;
  backward.include_gradient_nodes = true;  // dagprop dot --grad
  backward.title = "a = relu(w1 x1 + w2 x2 + b) and its backward graph";
  dagprop::render(h, out + "/neuron_backward.svg", backward);
  dagprop::render(h, out + "/neuron_backward.dot", backward);
  return 0;
}
