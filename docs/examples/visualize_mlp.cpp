// docs/visualization.md, second picture: an MLP on a batch with each layer collapsed into one box
// that sums up its ops, parameters, largest gradient and unit health.
// Then the whole network (its layout chosen for its shape) and its three largest gradients.
// Usage: example_visualize_mlp OUTPUT_DIR (writes mlp_collapsed, mlp and mlp_top3, each as .svg
// and .dot)
#include <string>
#include <vector>

#include <dagprop/dagprop.hpp>
#include <dagprop/dot.hpp>
#include <dagprop/snapshot.hpp>

namespace {

dagprop::Tensor uniform(dagprop::Shape shape, double scale, dagprop::SplitMix64& random) {
  dagprop::Tensor t(shape, dagprop::DType::f32);
  for (std::int64_t i = 0; i < t.numel(); ++i) t.set(i, (2 * random.uniform() - 1) * scale);
  return t;
}

}  // namespace

int main(int argc, char** argv) {
  using namespace dagprop;
  const std::string out = argc > 1 ? argv[1] : ".";
  constexpr std::int64_t kBatch = 32;
  SplitMix64 random(3);
  Graph g;
  const Expr x = g.input("x", Shape{kBatch, 8}, DType::f32);
  const Expr labels = g.input("labels", Shape{kBatch}, DType::f32);
  Expr h = x;
  {
    auto layer = g.scope("layer1");  // relu; one unit's bias starts at -10: a dead unit
    Tensor bias = uniform(Shape{16}, 0.1, random);
    bias.set(3, -10.0);
    h = relu(matmul(h, g.parameter("W", uniform(Shape{8, 16}, 0.5, random))) +
             g.parameter("b", bias));
  }
  {
    auto layer = g.scope("layer2");  // tanh; one unit's bias starts at 8: a saturated unit
    Tensor bias = uniform(Shape{16}, 0.1, random);
    bias.set(5, 8.0);
    h = tanh(matmul(h, g.parameter("W", uniform(Shape{16, 16}, 0.5, random))) +
             g.parameter("b", bias));
  }
  {
    auto layer = g.scope("layer3");
    h = matmul(h, g.parameter("W", uniform(Shape{16, 3}, 0.5, random))) +
        g.parameter("b", uniform(Shape{3}, 0.1, random));
  }
  Expr loss;
  {
    auto scope = g.scope("loss");
    loss = g.set_name(cross_entropy(h, labels), "cross_entropy");
  }
  Tensor labels_value(Shape{kBatch}, DType::f32);
  for (std::int64_t i = 0; i < kBatch; ++i) labels_value.set(i, static_cast<double>(i % 3));
  const Tensor x_value = uniform(Shape{kBatch, 8}, 1.0, random);

  const std::vector<Feed> feeds{{x, x_value}, {labels, labels_value}};
  const Snapshot snapshot = trace_gradients(loss, feeds);
  DotOptions options;
  options.snapshot = &snapshot;
  options.local_gradient_failures = check_local_gradients(loss, feeds);  // none: all rules hold
  options.collapse = {"*"};  // every top-level scope becomes one box
  options.title = "MLP 8-16-16-3 on a batch of 32, layers collapsed";
  render(g, out + "/mlp_collapsed.svg", options);
  render(g, out + "/mlp_collapsed.dot", options);

  DotOptions whole;
  whole.snapshot = &snapshot;
  whole.title = "MLP 8-16-16-3 on a batch of 32";  // rankdir "auto": top to bottom here
  render(g, out + "/mlp.svg", whole);
  render(g, out + "/mlp.dot", whole);

  DotOptions top;
  top.snapshot = &snapshot;
  top.top_k = 3;  // the three nodes with the largest gradients, and the paths between them
  top.title = "The three largest gradients";
  render(g, out + "/mlp_top3.svg", top);
  render(g, out + "/mlp_top3.dot", top);
  return 0;
}
