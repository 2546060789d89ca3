// `dagprop demo`: the seed's neuron under each activation with every gradient, then a small MLP
// learning two moons; pictures of both (graphs, the backward graph, the decision boundary and the
// training curves) are written to --out-dir.
#include <algorithm>
#include <array>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <memory>
#include <string>
#include <vector>

#include <dagprop/dagprop.hpp>
#include <dagprop/dot.hpp>
#include <dagprop/graph_io.hpp>
#include <dagprop/snapshot.hpp>

#include "commands.hpp"
#include "gnuplot.hpp"

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

// The seed's relu neuron with the value and gradient of every node, and the same neuron with the
// backward graph that backward() built, each gradient beside the node it belongs to.
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
  std::printf("  wrote %s: every node with its value and d a / d node (fill: gradient size)\n",
              path.string().c_str());

  Graph backward_graph;
  auto bx1 = backward_graph.constant(0.5), bx2 = backward_graph.constant(0.6);
  auto bw1 = backward_graph.parameter("w1", 0.1), bw2 = backward_graph.parameter("w2", 0.2),
       bb = backward_graph.parameter("b", 0.3);
  const Expr ba = backward_graph.set_name(relu(bw1 * bx1 + bw2 * bx2 + bb), "a");
  backward_graph.set_keep_values(true);
  backward_graph.backward(ba);
  DotOptions with_gradients;
  with_gradients.include_gradient_nodes = true;
  with_gradients.title = "The seed neuron and its backward graph (blue, dashed)";
  const std::filesystem::path backward_path = out_dir / "neuron_backward.svg";
  render(backward_graph, backward_path.string(), with_gradients);
  std::printf(
      "  wrote %s: the nodes backward() added (blue, dashed), gradients flowing from a back to "
      "w1, w2 and b\n",
      backward_path.string().c_str());
}

// The trained MLP with its scopes as clusters, values and gradients on the training batch, and the
// same graph as a file that `dagprop dot` and `dagprop info` read.
void write_mlp_picture(Graph& g, Expr loss, const std::vector<Feed>& feeds,
                       const std::filesystem::path& out_dir) {
  const Snapshot snapshot = trace_gradients(loss, feeds);
  DotOptions options;
  options.snapshot = &snapshot;
  options.title = "The MLP after training: values and gradients on the training set";
  const std::filesystem::path picture = out_dir / "mlp.svg", file = out_dir / "mlp.json";
  render(g, picture.string(), options);
  SaveOptions save;
  save.values = true;
  save.gradients = true;
  save.snapshot = &snapshot;
  save_graph(g, file.string(), save);
  std::printf(
      "  wrote %s: each layer a cluster, every node with its value and gradient on the training "
      "set\n  wrote the graph file %s (try: dagprop dot %s --collapse '*' -o mlp_small.svg)\n",
      picture.string().c_str(), file.string().c_str(), file.string().c_str());
}

// The trained MLP with the one backward graph that backward() builds, every value kept: a fresh
// graph of the same network (the training graph also holds trace_gradients' own gradient graph).
void draw_backward_picture(const nn::Mlp& trained, const std::vector<Feed>& feeds,
                           const std::filesystem::path& out_dir) {
  Graph g;
  SplitMix64 unused(1);
  const nn::Mlp mlp(g, {.sizes = {2, 16, 2}, .activation = "tanh"}, unused);
  const std::vector<Expr> from = trained.parameters(), to = mlp.parameters();
  for (std::size_t i = 0; i < from.size(); ++i) g.set_value(to[i], from[i].graph().value(from[i]));
  const Expr x = g.input("x", feeds[0].value.shape(), DType::f32);
  const Expr y = g.input("labels", feeds[1].value.shape(), DType::f32);
  const Expr loss = cross_entropy(mlp(x), y);
  g.set_keep_values(true);
  g.backward(loss, {{x, feeds[0].value}, {y, feeds[1].value}});
  DotOptions options;
  options.include_gradient_nodes = true;
  options.title = "The trained MLP and its backward graph (blue, dashed)";
  const std::filesystem::path path = out_dir / "mlp_backward.svg";
  render(g, path.string(), options);
  std::printf(
      "  wrote %s: beside each layer, the gradient nodes that compute its gradients, from the loss "
      "back to W and b\n",
      path.string().c_str());
}

struct MoonsRun {
  static constexpr int kSteps = 300;
  static constexpr int kPrintEvery = 50;
  static constexpr int kRecordEvery = 10;
  static constexpr double kLearningRate = 0.05;
  std::vector<std::array<double, 4>> curve;  // step, loss, training accuracy, test accuracy
};

// The model's class-1 probability on a grid over the data, and the data, as gnuplot files; then
// the decision boundary (the 0.5 contour) over the points, and the training curves.
void draw_moons_figures(Graph& g, const nn::Mlp& mlp, const data::Dataset& train,
                        const data::Dataset& test, const MoonsRun& run,
                        const std::filesystem::path& out_dir) {
  constexpr std::int64_t kColumns = 121, kRows = 81;
  double x_min = 1e300, x_max = -1e300, y_min = 1e300, y_max = -1e300;
  for (std::int64_t i = 0; i < train.size(); ++i) {
    x_min = std::min(x_min, train.features.at(2 * i)),
    x_max = std::max(x_max, train.features.at(2 * i));
    y_min = std::min(y_min, train.features.at(2 * i + 1));
    y_max = std::max(y_max, train.features.at(2 * i + 1));
  }
  x_min -= 0.4, x_max += 0.4, y_min -= 0.4, y_max += 0.4;
  Tensor grid(Shape{kColumns * kRows, 2}, DType::f32);
  for (std::int64_t r = 0; r < kRows; ++r) {
    for (std::int64_t c = 0; c < kColumns; ++c) {
      grid.set(2 * (r * kColumns + c), x_min + (x_max - x_min) * c / (kColumns - 1));
      grid.set(2 * (r * kColumns + c) + 1, y_min + (y_max - y_min) * r / (kRows - 1));
    }
  }
  // The grid's own forward graph, sharing the trained parameters (built after mlp.json was saved).
  const Expr points = g.input("grid", grid.shape(), DType::f32);
  const Tensor probability = g.run(softmax(mlp(points)), {{points, grid}});
  {
    std::ofstream out(out_dir / "boundary.dat");
    out << "# x y probability_of_class_1 (gnuplot blocks: one per grid row)\n";
    for (std::int64_t r = 0; r < kRows; ++r) {
      for (std::int64_t c = 0; c < kColumns; ++c) {
        const std::int64_t i = r * kColumns + c;
        out << grid.at(2 * i) << ' ' << grid.at(2 * i + 1) << ' ' << probability.at(2 * i + 1)
            << '\n';
      }
      out << '\n';
    }
    std::ofstream points_out(out_dir / "moons.dat");
    points_out << "# x y label (block 0: training points, block 1: test points)\n";
    for (const data::Dataset* set : {&train, &test}) {
      for (std::int64_t i = 0; i < set->size(); ++i) {
        points_out << set->features.at(2 * i) << ' ' << set->features.at(2 * i + 1) << ' '
                   << set->labels.at(i) << '\n';
      }
      points_out << "\n\n";
    }
    std::ofstream curve_out(out_dir / "training.dat");
    curve_out << "# step loss training_accuracy test_accuracy\n";
    for (const auto& row : run.curve)
      curve_out << row[0] << ' ' << row[1] << ' ' << row[2] << ' ' << row[3] << '\n';
  }
  const auto& last = run.curve.back();
  char settings[200];
  std::snprintf(settings, sizeof settings,
                "MLP 2-16-2 tanh, Adam lr %g, full batch of %lld, %d steps",
                MoonsRun::kLearningRate, static_cast<long long>(train.size()), MoonsRun::kSteps);
  char accuracy[120];
  std::snprintf(accuracy, sizeof accuracy, "training accuracy %.1f%%, test accuracy %.1f%%",
                100 * last[2], 100 * last[3]);
  const std::string boundary =
      "set title " +
      gnuplot_quote(std::string("Two moons: the learned decision boundary\n") + settings + "\n" +
                    accuracy) +
      "\nset xrange [" + std::to_string(x_min) + ":" + std::to_string(x_max) + "]\nset yrange [" +
      std::to_string(y_min) + ":" + std::to_string(y_max) +
      "]\nset size ratio -1\nset xlabel 'x1'\nset ylabel 'x2'\n"
      "set palette defined (0 '#9ecae1', 0.5 '#ffffff', 1 '#fdae6b')\nset cbrange [0:1]\n"
      "set cblabel 'P(class 1)'\nset contour base\nset cntrparam levels discrete 0.5\n"
      "set key outside bottom center horizontal\n"
      "set table 'boundary_contour.dat'\nunset surface\nsplot 'boundary.dat' using 1:2:3 "
      "with lines notitle\nunset table\nunset contour\n"
      "plot 'boundary.dat' using 1:2:3 with image notitle, "
      "'boundary_contour.dat' using 1:2 with lines lw 2 lc rgb 'black' "
      "title 'decision boundary (P = 0.5)', "
      "'moons.dat' index 0 using 1:($3 == 0 ? $2 : 1/0) with points pt 7 ps 0.6 "
      "lc rgb '#08519c' title 'class 0 (training)', "
      "'' index 0 using 1:($3 == 1 ? $2 : 1/0) with points pt 7 ps 0.6 lc rgb '#a63603' "
      "title 'class 1 (training)', "
      "'' index 1 using 1:2 with points pt 6 ps 0.6 lc rgb '#333333' title 'test points'";
  const std::string curves =
      "set title " + gnuplot_quote(std::string("Two moons: learning\n") + settings) +
      "\nset grid\nset xlabel 'step'\nset ylabel 'cross-entropy loss'\nset y2label 'accuracy'\n"
      "set y2range [0.4:1.02]\nset ytics nomirror\nset y2tics\nset key center right\n"
      "plot 'training.dat' using 1:2 with linespoints lw 2 lc rgb '#4e79a7' title 'training "
      "loss', '' using 1:3 axes x1y2 with linespoints lw 2 lc rgb '#59a14f' title 'training "
      "accuracy', '' using 1:4 axes x1y2 with linespoints lw 2 dt 2 lc rgb '#e15759' title 'test "
      "accuracy'";
  if (run_gnuplot(out_dir, "moons.gp",
                  png_and_svg("boundary", boundary, 760, 620) +
                      png_and_svg("training", curves, 760, 480))) {
    std::printf(
        "  wrote %s: the class-1 probability over the plane, the learned boundary and the points\n"
        "  wrote %s: loss and accuracy over the steps\n",
        (out_dir / "boundary.png").string().c_str(), (out_dir / "training.png").string().c_str());
  }
}

// A 2-16-2 tanh MLP (Glorot uniform from seed 1) trained with Adam on the full batch of 256
// noisy moon points (seed 7) and tested on 256 more (seed 8): it separates the moons, where plain
// gradient descent at rate 0.5 stalled at a loss of 0.2 (a nearly straight boundary).
void train_two_moons(const std::filesystem::path& out_dir) {
  const data::Dataset moons = data::make_moons({.samples = 256, .noise = 0.1, .seed = 7});
  const data::Dataset test = data::make_moons({.samples = 256, .noise = 0.1, .seed = 8});
  SplitMix64 random(1);
  Graph g;
  const nn::Mlp mlp(g, {.sizes = {2, 16, 2}, .activation = "tanh"}, random);
  const Expr x = g.input("x", moons.features.shape(), DType::f32);
  const Expr y = g.input("labels", moons.labels.shape(), DType::f32);
  const Expr logits = mlp(x);
  const Expr loss = cross_entropy(logits, y);
  const std::vector<Feed> feeds{{x, moons.features}, {y, moons.labels}};
  nn::Adam adam(mlp.parameters(), {.learning_rate = MoonsRun::kLearningRate});
  MoonsRun run;
  for (int step = 0; step <= MoonsRun::kSteps; ++step) {
    g.backward(loss, feeds, {.keep = {logits}});
    if (step % MoonsRun::kRecordEvery == 0) {
      const double train_loss = loss.item();
      const double train_accuracy = nn::accuracy(g.value(logits), moons.labels);
      // The test set has the training set's size, so it goes through the same nodes.
      const double test_accuracy = nn::accuracy(g.run(logits, {{x, test.features}}), test.labels);
      run.curve.push_back({static_cast<double>(step), train_loss, train_accuracy, test_accuracy});
      if (step % MoonsRun::kPrintEvery == 0) {
        std::printf("  step %3d  loss %.4f  training accuracy %5.1f%%  test accuracy %5.1f%%\n",
                    step, train_loss, 100 * train_accuracy, 100 * test_accuracy);
      }
    }
    if (step < MoonsRun::kSteps) adam.step();
  }
  write_mlp_picture(g, loss, feeds, out_dir);
  draw_backward_picture(mlp, feeds, out_dir);
  draw_moons_figures(g, mlp, moons, test, run, out_dir);
}

}  // namespace

void add_demo_command(CLI::App& app) {
  auto out_dir = std::make_shared<std::string>(".");
  auto* demo = app.add_subcommand(
      "demo",
      "The seed neuron under five activations, then an MLP learning two moons; "
      "writes neuron.svg, neuron_backward.svg, mlp.svg, mlp_backward.svg, mlp.json "
      "and (with gnuplot) boundary.png and training.png");
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
    std::printf(
        "\nAn MLP 2-16-2 (tanh) learning two moons with Adam (full batch of 256 points, 256 "
        "more to test):\n");
    train_two_moons(directory);
  });
}

}  // namespace dagprop::cli
