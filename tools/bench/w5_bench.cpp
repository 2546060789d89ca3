// dagprop_bench_w5: W5 of WORKLOADS.md, sigmoid forward y = sigmoid(x) and backward
// dx = g * y * (1 - y) over 16,777,216 floats through dagprop plans, against STREAM triad measured
// in the same run with the same threads. GB/s count 8 (forward) and 12 (backward) bytes per
// element, STREAM's convention (no write-allocate traffic).
//
//   build/tools/dagprop_bench_w5 --threads 1 2 --reps 7
//
// Variants: `out` runs a compiled plan whose output buffer is allocated once (the kernel's speed);
// `ag` runs the plan of y and grad(y, x, seed = g) (forward and backward, 20 bytes per element).
// Repetitions of every figure take turns with the triad's, so that load changes touch all alike.
#include <cmath>
#include <cstdio>
#include <vector>

#include <oneapi/tbb/task_arena.h>
#include <CLI/CLI.hpp>

#include <dagprop/dagprop.hpp>
#include <dagprop/kernel_loops.hpp>

#include "ceilings_measure.hpp"
#include "peer_workloads.hpp"

namespace dagprop::bench {
namespace {

constexpr double kRepSeconds = 0.1;

struct SigmoidPlans {
  Graph graph;
  Expr y, dx, y_ag, dx_ag;
  Function forward, backward, both;
};

void build(const BandwidthData& data, SigmoidPlans& p) {
  const Shape shape{BandwidthData::kSize};
  Graph& g = p.graph;
  // Leaves hold their values: a plan reads them in place (an input would be copied in per run).
  const Expr x = g.parameter("x", Tensor::from(data.x, shape));
  const Expr upstream = g.constant(Tensor::from(data.g, shape), "g");
  p.y = sigmoid(x);
  p.forward = g.compile({p.y});
  p.forward.run();
  const Expr y_leaf = g.constant(Tensor(p.forward.value(p.y)), "y");
  p.dx = sigmoid_grad(y_leaf, upstream);
  p.backward = g.compile({p.dx});
  p.y_ag = sigmoid(x);
  p.dx_ag = grad(p.y_ag, x, upstream);
  p.both = g.compile({p.y_ag, p.dx_ag});
}

// Largest error of dagprop's float sigmoid against the double-precision formula, in units of the
// float spacing at the exact value (ulp).
double max_ulp_error(const BandwidthData& data, const TensorView& y) {
  const float* values = y.data<float>();
  double worst = 0;
  for (std::int64_t i = 0; i < y.numel(); ++i) {
    const double exact =
        1.0 / (1.0 + std::exp(-static_cast<double>(data.x[static_cast<std::size_t>(i)])));
    const float rounded = static_cast<float>(exact);
    const double ulp = std::nextafter(rounded, 2.0F) - rounded;
    worst = std::max(worst, std::abs(values[i] - exact) / ulp);
  }
  return worst;
}

void run(SigmoidPlans& p, int threads, int reps) {
  Stream stream(BandwidthData::kSize, threads);
  p.graph.set_num_threads(threads == 1 ? 0 : threads);
  tbb::task_arena arena(threads);
  auto timed = [&](Function& function) {
    double seconds = 0;
    arena.execute([&] {
      const KernelParallelism kernels(threads > 1);
      seconds = seconds_per_call([&] { function.run(); }, kRepSeconds);
    });
    return seconds;
  };
  std::vector<double> triad, forward, backward, both;
  timed(p.forward);  // warm-up
  timed(p.backward);
  timed(p.both);
  for (int r = 0; r < reps; ++r) {
    triad.push_back(seconds_per_call([&] { stream.triad_seconds(); }, kRepSeconds));
    forward.push_back(timed(p.forward));
    backward.push_back(timed(p.backward));
    both.push_back(timed(p.both));
  }
  const double n = BandwidthData::kSize;
  const Figure triad_gbs = inverse(summarize(triad), 12 * n / 1e9);
  const Figure forward_gbs = inverse(summarize(forward), BandwidthData::kForwardBytes * n / 1e9);
  const Figure backward_gbs = inverse(summarize(backward), BandwidthData::kBackwardBytes * n / 1e9);
  const Figure both_gbs = inverse(
      summarize(both), (BandwidthData::kForwardBytes + BandwidthData::kBackwardBytes) * n / 1e9);
  print_figure(row_name("W5", "stream", threads), "triad", triad_gbs, "GB/s");
  const std::string row = row_name("W5", "dagprop", threads);
  print_figure(row, "sigmoid forward out", forward_gbs, "GB/s");
  print_figure(row, "sigmoid backward out", backward_gbs, "GB/s");
  print_figure(row, "sigmoid fwd+bwd ag", both_gbs, "GB/s");
  print_ratio(row, "forward / triad", forward_gbs.median / triad_gbs.median, "(target >= 0.80)");
  print_ratio(row, "backward / triad", backward_gbs.median / triad_gbs.median, "(target >= 0.80)");
}

}  // namespace
}  // namespace dagprop::bench

int main(int argc, char** argv) {
  using namespace dagprop::bench;
  CLI::App app{"W5: sigmoid forward and backward bandwidth through dagprop plans"};
  RunOptions options;
  options.reps = 7;
  add_run_options(app, options);
  CLI11_PARSE(app, argc, argv);
  return run_program("dagprop_bench_w5", [&] {
    print_machine("dagprop_bench_w5");
    const BandwidthData data = make_bandwidth_data();
    SigmoidPlans plans;
    build(data, plans);
    std::printf("%-28s sigmoid accuracy: max error %.2f ulp against the double-precision formula\n",
                "W5 dagprop", max_ulp_error(data, plans.forward.value(plans.y)));
    for (const int t : options.threads) run(plans, t, options.reps);
  });
}
