// `dagprop demo`: the seed's neuron under each activation with every gradient, then a small MLP
// learning two moons; pictures of both are written to --out-dir.
#include <cstdio>
#include <filesystem>
#include <memory>
#include <string>
#include <vector>

#include <dagprop/dagprop.hpp>
#include <dagprop/dot.hpp>
#include <dagprop/graph_io.hpp>
#include <dagprop/snapshot.hpp>

#include "commands.hpp"

namespace dagprop::cli {
namespace {

void show_neuron(const char* activation_name, Expr (*activation)(Expr)) {
  Graph g;
  auto x1 = g.input("x1", Shape{}), x2 = g.input("x2", Shape{});
  g.set_requires_grad(x1);
  g.set_requires_grad(x2);
  auto w1 = g.parameter("w1", 0.1), w2 = g.parameter("w2", 0.2), b = g.parameter("b", 0.3);
  const Expr a = activation(w1 * x1 + w2 * x2 + b);
  const Tensor v1 = Tensor::scalar(0.5), v2 = Tensor::scalar(0.6);
  g.backward(a, {{x1, v1}, {x2, v2}});
  std::printf("  %-9s a = %.6f   dw1 = %.6f  dw2 = %.6f  db = %.6f  dx1 = %.6f  dx2 = %.6f\n",
              activation_name, a.item(), w1.grad().item(), w2.grad().item(), b.grad().item(),
              x1.grad().item(), x2.grad().item());
}

// ---- pictures

// The seed's relu neuron with the value and gradient of every node.
void draw_seed_neuron(const std::filesystem::path& out_dir) {
  Graph g;
  auto x1 = g.constant(0.5), x2 = g.constant(0.6);
  auto w1 = g.parameter("w1", 0.1), w2 = g.parameter("w2", 0.2), b = g.parameter("b", 0.3);
  const Expr a = g.set_name(relu(w1 * x1 + w2 * x2 + b), "a");
  const Snapshot snapshot = trace_gradients(a);
  DotOptions options;
  options.snapshot = &snapshot;
  options.title = "The seed neuron a = relu(w1 x1 + w2 x2 + b): values and gradients";
  const std::filesystem::path path = out_dir / "neuron.svg";
  render(g, path.string(), options);
  std::printf("  wrote %s\n", path.string().c_str());
}

// The trained MLP with its scopes as clusters, values and gradients on the training batch, and the
// same graph as a file that `dagprop dot` and `dagprop info` read.
void write_mlp_picture(Graph& g, Expr loss, const std::vector<Feed>& feeds,
                       const std::filesystem::path& out_dir) {
  const Snapshot snapshot = trace_gradients(loss, feeds);
  DotOptions options;
  options.snapshot = &snapshot;
  options.title = "The MLP after training: values and gradients on the batch";
  const std::filesystem::path picture = out_dir / "mlp.svg", file = out_dir / "mlp.json";
  render(g, picture.string(), options);
  SaveOptions save;
  save.values = true;
  save.gradients = true;
  save.snapshot = &snapshot;
  save_graph(g, file.string(), save);
  std::printf(
      "  wrote %s and the graph file %s\n  (try: dagprop dot %s --collapse '*' -o "
      "mlp_collapsed.svg)\n",
      picture.string().c_str(), file.string().c_str(), file.string().c_str());
}

// The same network as before the nn library existed (2-16-2, tanh, Glorot uniform from seed 1,
// full-batch gradient descent at rate 0.5 on 256 noisy moon points from seed 7), now built from
// the library's pieces; the printed losses are unchanged.
void train_two_moons(const std::filesystem::path& out_dir) {
  const data::Dataset moons = data::make_moons({.samples = 256, .noise = 0.1, .seed = 7});
  SplitMix64 random(1);
  Graph g;
  const nn::Mlp mlp(g, {.sizes = {2, 16, 2}, .activation = "tanh"}, random);
  const Expr x = g.input("x", moons.features.shape(), DType::f32);
  const Expr y = g.input("labels", moons.labels.shape(), DType::f32);
  const Expr loss = cross_entropy(mlp(x), y);
  const std::vector<Feed> feeds{{x, moons.features}, {y, moons.labels}};
  nn::Sgd sgd(mlp.parameters(), {.learning_rate = 0.5});
  for (int step = 0; step <= 300; ++step) {
    g.backward(loss, feeds);
    if (step % 50 == 0) std::printf("  step %3d  loss %.4f\n", step, loss.item());
    sgd.step();
  }
  write_mlp_picture(g, loss, feeds, out_dir);
}

}  // namespace

void add_demo_command(CLI::App& app) {
  auto out_dir = std::make_shared<std::string>(".");
  auto* demo =
      app.add_subcommand("demo",
                         "The seed neuron under four activations, then an MLP on two moons; writes "
                         "neuron.svg, mlp.svg and mlp.json");
  demo->add_option("--out-dir", *out_dir, "Directory for the pictures (created if missing)")
      ->capture_default_str();
  demo->callback([out_dir] {
    const std::filesystem::path directory(*out_dir);
    std::filesystem::create_directories(directory);
    std::printf(
        "The seed neuron: a = f(w1 x1 + w2 x2 + b), x1 = 0.5, x2 = 0.6, w1 = 0.1, w2 = 0.2, b = "
        "0.3\n");
    show_neuron("step", step);
    show_neuron("step_ste", step_ste);
    show_neuron("sigmoid", sigmoid);
    show_neuron("tanh", tanh);
    show_neuron("relu", relu);
    draw_seed_neuron(directory);
    std::printf("\nAn MLP 2-16-2 (tanh) learning two moons with plain gradient descent:\n");
    train_two_moons(directory);
  });
}

}  // namespace dagprop::cli
