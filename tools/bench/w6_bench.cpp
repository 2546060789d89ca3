// dagprop_bench_w6: W6 of WORKLOADS.md, one training step of a LeNet-sized CNN (conv 1->16 5x5 pad
// 2, relu, maxpool 2, conv 16->32 5x5 pad 2, relu, maxpool 2, flatten, dense 1568->128, relu, dense
// 128->10, softmax cross-entropy, SGD lr 0.01, batch 64, float32) through dagprop. Prints ms per
// step, GFLOP/s of the convolution and dense products against SGEMM measured in the same run, and
// the checksums; tools/bench/run.sh runs the libtorch peer beside it and prints dagprop/libtorch.
//
//   build/tools/dagprop_bench_w6 --threads 1 2 --blocks 5
//   build/tools/dagprop_bench_w6 --threads 1 --profile     the time of every plan step
#include <algorithm>
#include <cstdio>
#include <map>
#include <vector>

#include <CLI/CLI.hpp>

#include <dagprop/dagprop.hpp>
#include <dagprop/kernel_loops.hpp>

// The engine's plan (engine/src): the step profile times each compiled step alone.
#include "graph_internals.hpp"
#include "plan.hpp"

#include "ceilings_measure.hpp"
#include "peer_workloads.hpp"

namespace dagprop::bench {
namespace {

using Net = ConvNetData;

void sgd_update(const TensorView& parameter, const TensorView& gradient) {
  float* p = parameter.data<float>();
  const float* g = gradient.data<float>();
  for_each_chunk(parameter.numel(), [=](std::int64_t begin, std::int64_t end) {
    for (std::int64_t i = begin; i < end; ++i) p[i] -= Net::kLearningRate * g[i];
  });
}

// The step as a dagprop user writes it, with PyTorch's layouts: conv2d weights [out][in][kh][kw],
// dense weights [out][in] read transposed by matmul; one plan computes the loss and its gradients.
class ConvNetTrainer {
 public:
  explicit ConvNetTrainer(const ConvNetData& data) : data_(data) {
    x_ = graph_.input("x", Shape{Net::kBatch, 1, Net::kImage, Net::kImage}, DType::f32);
    labels_ = graph_.input("labels", Shape{Net::kBatch}, DType::f32);
    const char* names[] = {"conv1/W", "conv1/b", "conv2/W", "conv2/b",
                           "fc1/W",   "fc1/b",   "fc2/W",   "fc2/b"};
    for (std::size_t i = 0; i < data.parameters.size(); ++i) {
      const auto& s = Net::kShapes[i];
      const Shape shape = i % 2 == 1 ? Shape{s[0]}
                          : i < 4    ? Shape{s[0], s[1], s[2], s[3]}
                                     : Shape{s[0], s[1]};
      initial_.push_back(Tensor::from(data.parameters[i], shape));
      parameters_.push_back(graph_.parameter(names[i], initial_.back()));
    }
    const Conv2dOptions same{.padding = {2, 2}};
    Expr h = max_pool2d(relu(conv2d(x_, parameters_[0], parameters_[1], same)));
    h = max_pool2d(relu(conv2d(h, parameters_[2], parameters_[3], same)));
    h = relu(matmul(flatten(h), parameters_[4], {.b = true}) + parameters_[5]);
    const Expr logits = matmul(h, parameters_[6], {.b = true}) + parameters_[7];
    loss_ = cross_entropy(logits, labels_);
    labels_f32_.assign(data.labels.begin(), data.labels.end());
    gradients_ = grad(loss_, parameters_);
    std::vector<Expr> outputs{loss_};
    outputs.insert(outputs.end(), gradients_.begin(), gradients_.end());
    function_ = graph_.compile(outputs);
  }

  void reset() {
    for (std::size_t i = 0; i < parameters_.size(); ++i)
      graph_.set_value(parameters_[i], initial_[i]);
  }

  double step(int t) {
    const std::int64_t first = (t % Net::kBatches) * Net::kBatch;
    const std::int64_t image = Net::kImage * Net::kImage;
    const std::vector<Feed> feeds{
        {x_, TensorView(const_cast<float*>(data_.images.data()) + first * image,
                        Shape{Net::kBatch, 1, Net::kImage, Net::kImage}, DType::f32)},
        {labels_, TensorView(labels_f32_.data() + first, Shape{Net::kBatch}, DType::f32)}};
    function_.run(feeds);
    graph_.run_kernels([&] {
      for (std::size_t i = 0; i < parameters_.size(); ++i)
        sgd_update(graph_.value(parameters_[i]), function_.value(gradients_[i]));
    });
    return function_.value(loss_).item();
  }

  // 1 thread: the serial executor; n: the TBB executor with n threads.
  void set_threads(int threads) { graph_.set_num_threads(threads == 1 ? 0 : threads); }

  // Each plan step timed alone (repeated on the inputs the last run left), summed per op.
  void print_step_profile(int threads) {
    set_threads(threads);
    const std::string row = row_name("W6", "dagprop", threads);
    const int repeats = 50;
    const Clock::time_point start = Clock::now();
    for (int t = 0; t < repeats; ++t) step(t);
    const double whole = seconds_since(start) / repeats;
    std::map<std::string, double> per_op;
    double inside = 0;
    const Plan& plan = FunctionInternals::plan(function_);
    for (const PlanStep& plan_step : plan.steps()) {
      const Clock::time_point step_start = Clock::now();
      graph_.run_kernels([&] {
        for (int r = 0; r < repeats; ++r) run_step(plan, plan_step, graph_);
      });
      const double seconds = seconds_since(step_start) / repeats;
      inside += seconds;
      const NodeId node = plan_step.node;
      std::string label(graph_.op_name_of(node));
      label += " " + graph_.shape_of(node).to_string();
      per_op[label] += seconds;
    }
    std::vector<std::pair<std::string, double>> sorted(per_op.begin(), per_op.end());
    std::sort(sorted.begin(), sorted.end(),
              [](const auto& a, const auto& b) { return a.second > b.second; });
    sorted.emplace_back("outside the plan", whole - inside);
    for (const auto& [label, seconds] : sorted) {
      char note[32];
      std::snprintf(note, sizeof note, "%5.1f %% of a step", 100 * seconds / whole);
      print_value(row, "profile " + label, seconds * 1e6, "us", note);
    }
  }

 private:
  const ConvNetData& data_;
  Graph graph_;
  Expr x_, labels_, loss_;
  std::vector<Expr> parameters_, gradients_;
  std::vector<Tensor> initial_;
  std::vector<float> labels_f32_;
  Function function_;  // the loss and its gradients
};

void run(int threads, int blocks, ConvNetTrainer& trainer) {
  set_blas_threads(threads);
  std::vector<double> sgemm;
  for (int r = 0; r < 5; ++r) sgemm.push_back(sgemm_openblas_gflops(1024, 0.1));
  set_blas_threads(1);
  const double peak = summarize(sgemm).median;
  print_value(row_name("W6", "sgemm-1024", threads), "peak", peak, "GFLOP/s",
              "(OpenBLAS " + blas_core_name() + ", its own threads)");
  const std::string row = row_name("W6", "dagprop", threads);
  trainer.set_threads(threads);
  trainer.reset();
  int t = 0;
  const double loss0 = trainer.step(t++);
  while (t < Net::kWarmupSteps) trainer.step(t++);
  std::vector<double> block_ms;
  for (int b = 0; b < blocks; ++b) {
    const Clock::time_point start = Clock::now();
    double loss19 = 0;
    for (int s = 0; s < Net::kBlockSteps; ++s, ++t) {
      const double loss = trainer.step(t);
      if (t == 19) loss19 = loss;
    }
    block_ms.push_back(seconds_since(start) * 1e3 / Net::kBlockSteps);
    if (b == 0) {
      print_checksum(row, "loss step 0", loss0, Net::kLossAtStep0, Net::kLossTolerance);
      print_checksum(row, "loss step 19", loss19, Net::kLossAtStep19, Net::kLossTolerance);
    }
  }
  const Figure ms = summarize(block_ms);
  print_figure(row, "ms/step", ms, "ms");
  const double gflops = Net::kFlopsPerStep / (ms.median * 1e-3) / 1e9;
  char note[64];
  std::snprintf(note, sizeof note, "(%.2f of the SGEMM-1024 peak)", gflops / peak);
  print_value(row, "GEMM rate", gflops, "GFLOP/s", note);
}

}  // namespace
}  // namespace dagprop::bench

int main(int argc, char** argv) {
  using namespace dagprop::bench;
  CLI::App app{"W6: a LeNet-sized CNN training step through dagprop"};
  RunOptions options;
  add_run_options(app, options, "--blocks", "timed blocks of 50 steps");
  bool profile = false;
  app.add_flag("--profile", profile, "print the time of every plan step instead");
  CLI11_PARSE(app, argc, argv);
  return run_program("dagprop_bench_w6", [&] {
    print_machine("dagprop_bench_w6");
    const ConvNetData data = make_conv_net_data();
    ConvNetTrainer trainer(data);
    if (profile) {
      trainer.reset();
      for (const int t : options.threads) trainer.print_step_profile(t);
      return;
    }
    for (const int t : options.threads) run(t, options.reps, trainer);
  });
}
