// `dagprop demo`: the seed's neuron under each activation with every gradient, then a small MLP
// learning two moons; pictures of both are written to --out-dir.
#include <cmath>
#include <cstdio>
#include <filesystem>
#include <memory>
#include <numbers>
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

// Two interleaved half circles with noise: a set no straight line separates.
void make_two_moons(std::size_t n, std::uint64_t seed, Tensor& points, Tensor& labels) {
  SplitMix64 random(seed);
  points = Tensor(Shape{static_cast<std::int64_t>(n), 2}, DType::f32);
  labels = Tensor(Shape{static_cast<std::int64_t>(n)}, DType::f32);
  for (std::size_t i = 0; i < n; ++i) {
    const bool upper = i % 2 == 0;
    const double t = std::numbers::pi * random.uniform();
    const double x = upper ? std::cos(t) : 1.0 - std::cos(t);
    const double y = upper ? std::sin(t) : 0.5 - std::sin(t);
    points.set(static_cast<std::int64_t>(2 * i), x + 0.1 * random.normal());
    points.set(static_cast<std::int64_t>(2 * i + 1), y + 0.1 * random.normal());
    labels.set(static_cast<std::int64_t>(i), upper ? 0.0 : 1.0);
  }
}

Tensor glorot_uniform(std::int64_t in, std::int64_t out, SplitMix64& random) {
  Tensor w(Shape{in, out}, DType::f32);
  const double limit = std::sqrt(6.0 / static_cast<double>(in + out));
  for (std::int64_t i = 0; i < w.numel(); ++i) w.set(i, (2 * random.uniform() - 1) * limit);
  return w;
}

// ---- pictures (kept apart from the training code above and below, which may be replaced)

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

void train_two_moons(const std::filesystem::path& out_dir) {
  constexpr std::int64_t kPoints = 256, kHidden = 16;
  Tensor points, labels;
  make_two_moons(kPoints, 7, points, labels);
  SplitMix64 random(1);

  Graph g;
  const Expr x = g.input("x", points.shape(), DType::f32);
  const Expr y = g.input("labels", labels.shape(), DType::f32);
  Expr logits;
  {
    auto layer = g.scope("layer1");
    const Expr w = g.parameter("W", glorot_uniform(2, kHidden, random));
    const Expr b = g.parameter("b", Tensor(Shape{kHidden}, DType::f32));
    logits = tanh(matmul(x, w) + b);
  }
  {
    auto layer = g.scope("layer2");
    const Expr w = g.parameter("W", glorot_uniform(kHidden, 2, random));
    const Expr b = g.parameter("b", Tensor(Shape{2}, DType::f32));
    logits = matmul(logits, w) + b;
  }
  const Expr loss = cross_entropy(logits, y);
  const std::vector<Feed> feeds{{x, points}, {y, labels}};
  constexpr float kLearningRate = 0.5F;
  for (int step = 0; step <= 300; ++step) {
    g.backward(loss, feeds);
    if (step % 50 == 0) std::printf("  step %3d  loss %.4f\n", step, loss.item());
    for (Expr p : g.parameters()) {
      float* value = p.value().data<float>();
      const float* gradient = p.grad().data<float>();
      for (std::int64_t i = 0; i < p.value().numel(); ++i) value[i] -= kLearningRate * gradient[i];
    }
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
