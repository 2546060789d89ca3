// dagprop_bench_w2: W2 of WORKLOADS.md, one MLP training step (784-512-512-10, ReLU, softmax
// cross-entropy averaged over the batch, SGD lr 0.01, batch 128, float32), through dagprop and
// through a hand-written OpenBLAS backprop of the same step (the practical limit). Prints ms per
// step, GFLOP/s against SGEMM measured in the same run, the checksums, and dagprop/reference.
//
//   build/tools/dagprop_bench_w2 --threads 1 2 --blocks 5
//
// Blocks of 200 steps of every engine take turns, so that a change in the load of this shared
// machine touches every engine alike.
#include <cblas.h>

#include <cmath>
#include <cstdio>
#include <memory>
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

using Sizes = MlpData;

// One engine's training state; step(t) trains on batch t % 8 and returns that step's loss.
class Trainer {
 public:
  virtual ~Trainer() = default;
  virtual std::string name() const = 0;
  virtual void reset() = 0;  // the initial parameters of WORKLOADS.md
  virtual double step(int t) = 0;
  // Runs f (a block of steps) with the engine's threads set to `threads`.
  virtual void with_threads(int threads, const std::function<void()>& f) = 0;
  // Prints the memory the engine's step uses beyond the parameters, where it knows.
  virtual void print_memory(const std::string& /*row*/) const {}
};

// ---- dagprop

// p -= lr * g, split like dagprop's own kernels when they may run in parallel (inside
// Graph::run_kernels).
void sgd_update(const TensorView& parameter, const TensorView& gradient) {
  float* p = parameter.data<float>();
  const float* g = gradient.data<float>();
  for_each_chunk(parameter.numel(), [=](std::int64_t begin, std::int64_t end) {
    for (std::int64_t i = begin; i < end; ++i) p[i] -= Sizes::kLearningRate * g[i];
  });
}

// The step as a dagprop user writes it: Linear layers (weights [in][out], built from the
// generator's [out][in] numbers), relu, cross_entropy; gradients either from backward() (stored
// per parameter) or from one plan that computes the loss and grad(loss, parameters) together and
// is read in place.
class DagpropTrainer final : public Trainer {
 public:
  DagpropTrainer(const MlpData& data, bool use_backward)
      : data_(data), use_backward_(use_backward) {
    const Shape batch_shape{Sizes::kBatch, Sizes::kSizes[0]};
    x_ = graph_.input("x", batch_shape, DType::f32);
    labels_ = graph_.input("labels", Shape{Sizes::kBatch}, DType::f32);
    Expr h = x_;
    for (std::size_t l = 0; l < 3; ++l) {
      auto scope = graph_.scope("layer" + std::to_string(l + 1));
      const std::int64_t in = Sizes::kSizes[l], out = Sizes::kSizes[l + 1];
      initial_.push_back(Tensor::from(transposed(data.weights[l], out, in), Shape{in, out}));
      initial_.push_back(Tensor::from(data.biases[l], Shape{out}));
      parameters_.push_back(graph_.parameter("W", initial_[initial_.size() - 2]));
      parameters_.push_back(graph_.parameter("b", initial_.back()));
      const Expr z = matmul(h, parameters_[parameters_.size() - 2]) + parameters_.back();
      h = l < 2 ? relu(z) : z;
    }
    loss_ = cross_entropy(h, labels_);
    labels_f32_.assign(data.labels.begin(), data.labels.end());
    if (!use_backward_) {
      gradients_ = grad(loss_, parameters_);
      std::vector<Expr> outputs{loss_};
      outputs.insert(outputs.end(), gradients_.begin(), gradients_.end());
      function_ = graph_.compile(outputs);
    }
  }
  std::string name() const override { return use_backward_ ? "dagprop-backward" : "dagprop"; }
  void print_memory(const std::string& row) const override {
    if (!function_.valid()) return;
    char note[96];
    std::snprintf(note, sizeof note, "(a buffer per value: %.2f MB)",
                  static_cast<double>(function_.unshared_workspace_bytes()) / 1e6);
    print_value(row, "plan workspace", static_cast<double>(function_.workspace_bytes()) / 1e6, "MB",
                note);
  }
  void reset() override {
    for (std::size_t i = 0; i < parameters_.size(); ++i)
      graph_.set_value(parameters_[i], initial_[i]);
  }
  double step(int t) override {
    const std::int64_t first_row = (t % Sizes::kBatches) * Sizes::kBatch;
    const std::vector<Feed> feeds{
        {x_, TensorView(const_cast<float*>(data_.inputs.data()) + first_row * Sizes::kSizes[0],
                        Shape{Sizes::kBatch, Sizes::kSizes[0]}, DType::f32)},
        {labels_, TensorView(labels_f32_.data() + first_row, Shape{Sizes::kBatch}, DType::f32)}};
    if (use_backward_) {
      graph_.backward(loss_, feeds);
      graph_.run_kernels([&] {
        for (const Expr& p : parameters_) sgd_update(graph_.value(p), graph_.grad(p));
      });
    } else {
      function_.run(feeds);
      graph_.run_kernels([&] {
        for (std::size_t i = 0; i < parameters_.size(); ++i)
          sgd_update(graph_.value(parameters_[i]), function_.value(gradients_[i]));
      });
      return function_.value(loss_).item();
    }
    return graph_.value(loss_).item();
  }
  // Where a step's time goes: each plan step timed alone (repeated on the inputs the last run
  // left), then what remains of a whole step (feeding the batch, the SGD update, the executor).
  void print_step_profile(int threads) {
    const std::string row = row_name("W2", name(), threads);
    const int repeats = 200;
    with_threads(threads, [&] {
      double whole = 0, steps_total = 0;
      const Clock::time_point start = Clock::now();
      for (int t = 0; t < repeats; ++t) step(t);
      whole = seconds_since(start) / repeats;
      struct Entry {
        std::string label;
        double seconds;
      };
      std::vector<Entry> entries;
      const Plan& plan = FunctionInternals::plan(function_);
      for (const PlanStep& plan_step : plan.steps()) {
        const Clock::time_point step_start = Clock::now();
        graph_.run_kernels([&] {
          for (int r = 0; r < repeats; ++r) run_step(plan, plan_step, graph_);
        });
        const double seconds = seconds_since(step_start) / repeats;
        steps_total += seconds;
        entries.push_back({step_label(plan_step.node), seconds});
      }
      std::sort(entries.begin(), entries.end(),
                [](const Entry& a, const Entry& b) { return a.seconds > b.seconds; });
      entries.push_back({"outside the plan", whole - steps_total});
      for (const Entry& e : entries) {
        char note[32];
        std::snprintf(note, sizeof note, "%5.1f %% of a step", 100 * e.seconds / whole);
        print_value(row, "profile " + e.label, e.seconds * 1e6, "us", note);
      }
    });
  }

  // 1 thread: the serial executor. n threads: the TBB executor with n threads, whose threads also
  // run the SGD update's loops (Graph::run_kernels, as the nn optimizers do).
  void with_threads(int threads, const std::function<void()>& f) override {
    graph_.set_num_threads(threads == 1 ? 0 : threads);
    f();
  }

 private:
  // "matmul NT 128x512x512" (m x n x k; N/T: operand read as stored or transposed) or the op name.
  std::string step_label(NodeId node) const {
    const std::string op(graph_.op_name_of(node));
    if (op != "matmul") return op;
    const bool ta = graph_.attribute(node, "transpose_a") == AttrValue(true);
    const bool tb = graph_.attribute(node, "transpose_b") == AttrValue(true);
    const Shape& out = graph_.shape_of(node);
    const Shape& a = graph_.shape_of(graph_.inputs_of(node)[0]);
    const std::int64_t k = ta ? a[0] : a[1];
    return op + " " + (ta ? "T" : "N") + (tb ? "T" : "N") + " " + std::to_string(out[0]) + "x" +
           std::to_string(out[1]) + "x" + std::to_string(k);
  }

  const MlpData& data_;
  bool use_backward_;
  Graph graph_;
  Expr x_, labels_, loss_;
  std::vector<Expr> parameters_, gradients_;
  std::vector<Tensor> initial_;
  std::vector<float> labels_f32_;
  Function function_;  // the loss and its gradients (without use_backward_)
};

// ---- hand-written OpenBLAS reference

// Every product one whole-matrix GEMM on OpenBLAS's own threads; bias, ReLU, softmax and the update
// as plain loops. Weights [in][out] like dagprop's (the generator's [out][in] layout, with the
// GEMMs reading the other operands transposed, measured the same).
class ReferenceTrainer final : public Trainer {
 public:
  explicit ReferenceTrainer(const MlpData& data) : data_(data) {
    for (std::size_t l = 0; l < 3; ++l) {
      const std::size_t out = static_cast<std::size_t>(Sizes::kSizes[l + 1]);
      weight_grads_[l].resize(data.weights[l].size());
      bias_grads_[l].resize(out);
      z_[l].resize(Sizes::kBatch * out);
      dz_[l].resize(Sizes::kBatch * out);
      if (l < 2) h_[l].resize(Sizes::kBatch * out);
    }
  }
  std::string name() const override { return "openblas-reference"; }
  void reset() override {
    biases_ = data_.biases;
    for (std::size_t l = 0; l < 3; ++l)
      weights_[l] = transposed(data_.weights[l], Sizes::kSizes[l + 1], Sizes::kSizes[l]);
  }
  double step(int t) override {
    constexpr int batch = static_cast<int>(Sizes::kBatch);
    const std::int64_t first_row = (t % Sizes::kBatches) * batch;
    const float* x = data_.inputs.data() + first_row * Sizes::kSizes[0];
    const std::int64_t* labels = data_.labels.data() + first_row;
    // Forward: z_l = h_{l-1} W_l + b_l (bias copied in, GEMM with beta = 1), h_l = relu(z_l).
    const float* input = x;
    for (std::size_t l = 0; l < 3; ++l) {
      const int in = size(l), out = size(l + 1);
      float* z = z_[l].data();
      for (int r = 0; r < batch; ++r) std::copy_n(biases_[l].data(), out, z + r * out);
      cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasNoTrans, batch, out, in, 1.0F, input, in,
                  weights_[l].data(), out, 1.0F, z, out);
      if (l < 2) {
        float* h = h_[l].data();
        for (int i = 0; i < batch * out; ++i) h[i] = z[i] > 0 ? z[i] : 0.0F;
        input = h;
      }
    }
    const double loss = softmax_cross_entropy(labels);
    // Backward: dW_l = h_{l-1}^T dz_l, db_l = column sums of dz_l, dz_{l-1} = (dz_l W_l^T) masked
    // where z_{l-1} <= 0.
    for (std::size_t l = 3; l-- > 0;) {
      const int in = size(l), out = size(l + 1);
      const float* below = l == 0 ? x : h_[l - 1].data();
      const float* dz = dz_[l].data();
      cblas_sgemm(CblasRowMajor, CblasTrans, CblasNoTrans, in, out, batch, 1.0F, below, in, dz, out,
                  0.0F, weight_grads_[l].data(), out);
      float* db = bias_grads_[l].data();
      std::fill_n(db, out, 0.0F);
      for (int r = 0; r < batch; ++r) {
        const float* row = dz + r * out;
        for (int j = 0; j < out; ++j) db[j] += row[j];
      }
      if (l == 0) continue;
      float* dz_below = dz_[l - 1].data();
      cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasTrans, batch, in, out, 1.0F, dz, out,
                  weights_[l].data(), out, 0.0F, dz_below, in);
      const float* z_below = z_[l - 1].data();
      for (int i = 0; i < batch * in; ++i) dz_below[i] = z_below[i] > 0 ? dz_below[i] : 0.0F;
    }
    for (std::size_t l = 0; l < 3; ++l) {
      cblas_saxpy(static_cast<int>(weights_[l].size()), -Sizes::kLearningRate,
                  weight_grads_[l].data(), 1, weights_[l].data(), 1);
      cblas_saxpy(size(l + 1), -Sizes::kLearningRate, bias_grads_[l].data(), 1, biases_[l].data(),
                  1);
    }
    return loss;
  }
  // OpenBLAS's own threads; back to one afterwards, which dagprop's matmul relies on.
  void with_threads(int threads, const std::function<void()>& f) override {
    set_blas_threads(threads);
    f();
    set_blas_threads(1);
  }

 private:
  static int size(std::size_t layer) { return static_cast<int>(Sizes::kSizes[layer]); }

  // The mean loss of the logits z_2, and dz_2 = (softmax(z_2) - onehot(labels)) / batch.
  double softmax_cross_entropy(const std::int64_t* labels) {
    const int classes = size(3);
    double loss = 0;
    for (int r = 0; r < Sizes::kBatch; ++r) {
      const float* z = z_[2].data() + r * classes;
      float* dz = dz_[2].data() + r * classes;
      const float max = *std::max_element(z, z + classes);
      double total = 0;
      for (int j = 0; j < classes; ++j) total += std::exp(static_cast<double>(z[j] - max));
      const double lse = max + std::log(total);
      loss += lse - z[labels[r]];
      for (int j = 0; j < classes; ++j)
        dz[j] = static_cast<float>(std::exp(static_cast<double>(z[j]) - lse)) / Sizes::kBatch;
      dz[labels[r]] -= 1.0F / Sizes::kBatch;
    }
    return loss / Sizes::kBatch;
  }

  const MlpData& data_;
  std::array<std::vector<float>, 3> weights_, biases_, weight_grads_, bias_grads_, z_, dz_;
  std::array<std::vector<float>, 2> h_;
};

// ---- the run

void run(int threads, int blocks, std::vector<std::unique_ptr<Trainer>>& trainers) {
  set_blas_threads(threads);
  std::vector<double> sgemm;
  for (int r = 0; r < 5; ++r) sgemm.push_back(sgemm_openblas_gflops(1024, 0.1));
  set_blas_threads(1);
  const double peak = summarize(sgemm).median;
  print_value(row_name("W2", "sgemm-1024", threads), "peak", peak, "GFLOP/s",
              "(OpenBLAS " + blas_core_name() + ", its own threads)");

  std::vector<std::vector<double>> block_ms(trainers.size());
  std::vector<double> first_loss(trainers.size()), block_loss(trainers.size());
  std::vector<int> next_step(trainers.size(), 0);
  auto train = [&](std::size_t e, int steps) {
    trainers[e]->with_threads(threads, [&] {
      for (int s = 0; s < steps; ++s) {
        const double loss = trainers[e]->step(next_step[e]);
        if (next_step[e] == 0) first_loss[e] = loss;
        block_loss[e] = loss;
        ++next_step[e];
      }
    });
  };
  for (std::size_t e = 0; e < trainers.size(); ++e) {
    trainers[e]->reset();
    train(e, Sizes::kWarmupSteps);
  }
  for (int b = 0; b < blocks; ++b) {
    for (std::size_t e = 0; e < trainers.size(); ++e) {
      const Clock::time_point start = Clock::now();
      train(e, Sizes::kBlockSteps);
      block_ms[e].push_back(seconds_since(start) * 1e3 / Sizes::kBlockSteps);
      if (b == 0) {
        const std::string row = row_name("W2", trainers[e]->name(), threads);
        print_checksum(row, "loss step 0", first_loss[e], Sizes::kLossAtStep0, 1e-6);
        print_checksum(row, "loss step 219", block_loss[e], Sizes::kLossAtStep219, 1e-6);
      }
    }
  }
  std::vector<Figure> figures;
  for (std::size_t e = 0; e < trainers.size(); ++e) {
    const Figure ms = summarize(block_ms[e]);
    figures.push_back(ms);
    const std::string row = row_name("W2", trainers[e]->name(), threads);
    print_figure(row, "ms/step", ms, "ms");
    const double gflops = Sizes::kFlopsPerStep / (ms.median * 1e-3) / 1e9;
    char note[64];
    std::snprintf(note, sizeof note, "(%.2f of the SGEMM-1024 peak)", gflops / peak);
    print_value(row, "GEMM rate", gflops, "GFLOP/s", note);
    trainers[e]->print_memory(row);
  }
  const std::size_t reference = trainers.size() - 1;
  if (trainers[reference]->name() != "openblas-reference") return;
  for (std::size_t e = 0; e < reference; ++e) {
    print_ratio(row_name("W2", trainers[e]->name(), threads), "/ openblas-reference",
                figures[e].median / figures[reference].median, "(target <= 1.15)");
  }
}

}  // namespace
}  // namespace dagprop::bench

int main(int argc, char** argv) {
  using namespace dagprop::bench;
  CLI::App app{"W2: MLP training step through dagprop and a hand-written OpenBLAS reference"};
  RunOptions options;
  add_run_options(app, options, "--blocks", "timed blocks of 200 steps per engine");
  std::vector<std::string> engines{"dagprop", "dagprop-backward", "openblas-reference"};
  app.add_option("--engine", engines, "engines to run (for profiling one alone)")
      ->check(CLI::IsMember({"dagprop", "dagprop-backward", "openblas-reference"}));
  bool profile = false;
  app.add_flag("--profile", profile, "print the time of every plan step of dagprop's step instead");
  CLI11_PARSE(app, argc, argv);
  return run_program("dagprop_bench_w2", [&] {
    print_machine("dagprop_bench_w2");
    const MlpData data = make_mlp_data();
    if (profile) {
      DagpropTrainer trainer(data, false);
      trainer.reset();
      for (const int t : options.threads) trainer.print_step_profile(t);
      return;
    }
    auto wanted = [&](const char* name) {
      return std::find(engines.begin(), engines.end(), name) != engines.end();
    };
    std::vector<std::unique_ptr<Trainer>> trainers;
    if (wanted("dagprop")) trainers.push_back(std::make_unique<DagpropTrainer>(data, false));
    if (wanted("dagprop-backward"))
      trainers.push_back(std::make_unique<DagpropTrainer>(data, true));
    // Last: the denominator of the ratios.
    if (wanted("openblas-reference")) trainers.push_back(std::make_unique<ReferenceTrainer>(data));
    for (const int t : options.threads) run(t, options.reps, trainers);
  });
}
