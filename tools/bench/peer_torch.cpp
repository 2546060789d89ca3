// dagprop_bench_peer_torch: the libtorch C++ peer of W2 to W6 (WORKLOADS.md), written the
// way a libtorch user would, each reproducing its checksums. Prints the same figure names as
// dagprop's benchmarks, so tools/bench/run.sh can print dagprop/libtorch ratios.
//
//   OMP_WAIT_POLICY=PASSIVE OMP_NUM_THREADS=2 OPENBLAS_NUM_THREADS=2
//   build/tools/dagprop_bench_peer_torch --threads 2   (with that environment)
//
// One thread count per process: at::set_num_interop_threads may be called only once. Threads are
// set for libtorch (intra- and inter-op) and for OpenBLAS, which libtorch's matmul calls and which
// at::set_num_threads does not control. Rows are named libtorch-hugetlb when glibc's malloc gets
// transparent huge pages (GLIBC_TUNABLES=glibc.malloc.hugetlb=1): the allocator-tuned peer.
#include <cstdio>
#include <cstdlib>
#include <string>
#include <vector>

#include <ATen/Parallel.h>
#include <torch/torch.h>
#include <CLI/CLI.hpp>

#include "ceilings_measure.hpp"
#include "peer_workloads.hpp"

namespace dagprop::bench {
namespace {

std::string engine_name() {
  return peer_name("libtorch");
}

torch::Tensor tensor_of(const std::vector<float>& values, std::vector<std::int64_t> shape) {
  return torch::from_blob(const_cast<float*>(values.data()), shape, torch::kFloat32).clone();
}

// ---- W2: Linear layers as (weight [out][in], bias) leaves, torch::optim::SGD.
void run_mlp(int threads, int blocks) {
  const MlpData data = make_mlp_data();
  std::vector<torch::Tensor> parameters;
  for (std::size_t l = 0; l < 3; ++l) {
    const std::int64_t in = MlpData::kSizes[l], out = MlpData::kSizes[l + 1];
    parameters.push_back(tensor_of(data.weights[l], {out, in}).requires_grad_(true));
    parameters.push_back(tensor_of(data.biases[l], {out}).requires_grad_(true));
  }
  const torch::Tensor inputs =
      tensor_of(data.inputs, {MlpData::kBatches * MlpData::kBatch, MlpData::kSizes[0]});
  const torch::Tensor labels =
      torch::from_blob(const_cast<std::int64_t*>(data.labels.data()),
                       {static_cast<std::int64_t>(data.labels.size())}, torch::kInt64)
          .clone();
  torch::optim::SGD optimizer(parameters, torch::optim::SGDOptions(MlpData::kLearningRate));
  auto step = [&](int t) {
    const std::int64_t first = (t % MlpData::kBatches) * MlpData::kBatch;
    const torch::Tensor x = inputs.narrow(0, first, MlpData::kBatch);
    optimizer.zero_grad();
    torch::Tensor h = x;
    for (std::size_t l = 0; l < 3; ++l) {
      h = torch::nn::functional::linear(h, parameters[2 * l], parameters[2 * l + 1]);
      if (l < 2) h = torch::relu(h);
    }
    const torch::Tensor loss =
        torch::nn::functional::cross_entropy(h, labels.narrow(0, first, MlpData::kBatch));
    loss.backward();
    optimizer.step();
    return loss.item<double>();
  };
  const std::string row = row_name("W2", engine_name(), threads);
  int t = 0;
  const double loss0 = step(t++);
  while (t < MlpData::kWarmupSteps) step(t++);
  std::vector<double> block_ms;
  for (int b = 0; b < blocks; ++b) {
    const Clock::time_point start = Clock::now();
    double loss = 0;
    for (int s = 0; s < MlpData::kBlockSteps; ++s) loss = step(t++);
    block_ms.push_back(seconds_since(start) * 1e3 / MlpData::kBlockSteps);
    if (b == 0) {
      print_checksum(row, "loss step 0", loss0, MlpData::kLossAtStep0, 1e-6);
      print_checksum(row, "loss step 219", loss, MlpData::kLossAtStep219, 1e-6);
    }
  }
  const Figure ms = summarize(block_ms);
  print_figure(row, "ms/step", ms, "ms");
  print_value(row, "GEMM rate", MlpData::kFlopsPerStep / (ms.median * 1e-3) / 1e9, "GFLOP/s");
}

// ---- W3: 64 independent heads, a loop over the heads, losses summed in head order.
void run_heads(int threads, int blocks) {
  const HeadsData data = make_heads_data();
  const torch::Tensor x = tensor_of(data.inputs, {HeadsData::kBatch, HeadsData::kWidth});
  const torch::Tensor target = tensor_of(data.targets, {HeadsData::kBatch});
  std::vector<std::array<torch::Tensor, 6>> heads(HeadsData::kHeads);
  std::vector<torch::Tensor> parameters;
  for (std::size_t h = 0; h < heads.size(); ++h) {
    for (std::size_t l = 0; l < 3; ++l) {
      const std::int64_t out = l == 2 ? 1 : HeadsData::kWidth;
      heads[h][2 * l] =
          tensor_of(data.weights[h][l], {out, HeadsData::kWidth}).requires_grad_(true);
      heads[h][2 * l + 1] = tensor_of(data.biases[h][l], {out}).requires_grad_(true);
      parameters.push_back(heads[h][2 * l]);
      parameters.push_back(heads[h][2 * l + 1]);
    }
  }
  auto iteration = [&] {
    for (torch::Tensor& p : parameters) p.mutable_grad() = torch::Tensor();
    torch::Tensor loss;
    for (const auto& head : heads) {
      torch::Tensor h = torch::tanh(torch::nn::functional::linear(x, head[0], head[1]));
      h = torch::tanh(torch::nn::functional::linear(h, head[2], head[3]));
      const torch::Tensor out = torch::nn::functional::linear(h, head[4], head[5]).squeeze(1);
      const torch::Tensor head_loss = (out - target).pow(2).mean();
      loss = loss.defined() ? loss + head_loss : head_loss;
    }
    loss.backward();
    return loss.item<double>();
  };
  const std::string row = row_name("W3", engine_name(), threads);
  const double loss = iteration();
  double gradient_sum = 0;
  for (const torch::Tensor& p : parameters) gradient_sum += p.grad().sum().item<double>();
  print_checksum(row, "loss", loss, HeadsData::kLoss, 1e-6);
  print_checksum(row, "gradient sum", gradient_sum, HeadsData::kGradientSum, 1e-6);
  for (int i = 1; i < HeadsData::kWarmup; ++i) iteration();
  std::vector<double> block_ms;
  for (int b = 0; b < blocks; ++b) {
    const Clock::time_point start = Clock::now();
    for (int i = 0; i < HeadsData::kBlock; ++i) iteration();
    block_ms.push_back(seconds_since(start) * 1e3 / HeadsData::kBlock);
  }
  print_figure(row, "forward+backward", summarize(block_ms), "ms/iter");
}

// ---- W4: 100,000 alternating x*0.999 + 0.001 and tanh on 16 floats. The natural spelling takes
// two aten ops for the affine step; the add_alpha variant one (c + 0.999 x with c = 0.001).
void run_chain(int threads, int reps, bool add_alpha) {
  const ChainData data = make_chain_data();
  const torch::Tensor c = torch::full({ChainData::kWidth}, 0.001F);
  const std::string row = row_name(add_alpha ? "W4-add_alpha" : "W4", engine_name(), threads);
  std::vector<double> forward_ns, both_ns, backward_ns;
  for (int rep = 0; rep <= reps; ++rep) {  // rep 0 warms up and checks the sums
    const torch::Tensor x0 = tensor_of(data.x0, {ChainData::kWidth}).requires_grad_(true);
    const Clock::time_point start = Clock::now();
    torch::Tensor x = x0;
    for (int k = 0; k < ChainData::kOps; ++k) {
      if (k % 2 == 1) {
        x = torch::tanh(x);
      } else {
        x = add_alpha ? torch::add(c, x, 0.999) : x * 0.999 + 0.001;
      }
    }
    const torch::Tensor loss = x.sum();
    const double loss_value = loss.item<double>();
    const double forward_s = seconds_since(start);
    const Clock::time_point backward_start = Clock::now();
    loss.backward();
    const double backward_s = seconds_since(backward_start);
    if (rep == 0) {
      print_checksum(row, "loss", loss_value, ChainData::kLoss, 1e-6);
      print_checksum(row, "gradient sum", x0.grad().sum().item<double>(), ChainData::kGradientSum,
                     1e-48);
      continue;
    }
    forward_ns.push_back(forward_s * 1e9 / ChainData::kOps);
    backward_ns.push_back(backward_s * 1e9 / ChainData::kOps);
    both_ns.push_back((forward_s + backward_s) * 1e9 / ChainData::kOps);
  }
  print_figure(row, "forward+backward", summarize(both_ns), "ns/op");
  print_figure(row, "forward", summarize(forward_ns), "ns/op");
  print_figure(row, "backward (difference)", summarize(backward_ns), "ns/op");
}

// ---- W5: sigmoid and sigmoid_backward over 16M floats: out (preallocated), alloc (a fresh
// result per call, libtorch's default), ag (autograd: y = sigmoid(x), y.backward(g)).
void run_bandwidth(int threads, int reps) {
  const BandwidthData data = make_bandwidth_data();
  const std::int64_t n = BandwidthData::kSize;
  const torch::Tensor x = tensor_of(data.x, {n}), g = tensor_of(data.g, {n});
  torch::Tensor y = torch::sigmoid(x), dx = torch::empty_like(x);
  const torch::Tensor x_leaf = x.clone().requires_grad_(true);
  Stream stream(static_cast<std::size_t>(n), threads);
  constexpr double kRepSeconds = 0.1;
  std::vector<double> triad, forward_out, backward_out, forward_alloc, backward_alloc, autograd;
  for (int rep = 0; rep <= reps; ++rep) {  // rep 0 warms up
    triad.push_back(seconds_per_call([&] { stream.triad_seconds(); }, kRepSeconds));
    forward_out.push_back(seconds_per_call([&] { torch::sigmoid_out(y, x); }, kRepSeconds));
    backward_out.push_back(
        seconds_per_call([&] { at::sigmoid_backward_out(dx, g, y); }, kRepSeconds));
    forward_alloc.push_back(seconds_per_call([&] { (void)torch::sigmoid(x); }, kRepSeconds));
    backward_alloc.push_back(
        seconds_per_call([&] { (void)at::sigmoid_backward(g, y); }, kRepSeconds));
    autograd.push_back(seconds_per_call(
        [&] {
          x_leaf.mutable_grad() = torch::Tensor();
          torch::sigmoid(x_leaf).backward(g);
        },
        kRepSeconds));
    if (rep == 0) {
      for (auto* samples :
           {&triad, &forward_out, &backward_out, &forward_alloc, &backward_alloc, &autograd})
        samples->clear();
    }
  }
  const double elements = static_cast<double>(n);
  const double forward_gb = BandwidthData::kForwardBytes * elements / 1e9;
  const double backward_gb = BandwidthData::kBackwardBytes * elements / 1e9;
  print_figure(row_name("W5", "stream", threads), "triad",
               inverse(summarize(triad), 12 * elements / 1e9), "GB/s");
  const std::string row = row_name("W5", engine_name(), threads);
  print_figure(row, "sigmoid forward out", inverse(summarize(forward_out), forward_gb), "GB/s");
  print_figure(row, "sigmoid backward out", inverse(summarize(backward_out), backward_gb), "GB/s");
  print_figure(row, "sigmoid forward alloc", inverse(summarize(forward_alloc), forward_gb), "GB/s");
  print_figure(row, "sigmoid backward alloc", inverse(summarize(backward_alloc), backward_gb),
               "GB/s");
  print_figure(row, "sigmoid fwd+bwd ag", inverse(summarize(autograd), forward_gb + backward_gb),
               "GB/s");
}

// ---- W6: a LeNet-sized CNN step, as a libtorch user writes it (functional conv2d, max_pool2d,
// linear, cross_entropy; torch::optim::SGD). Convolutions go wherever libtorch sends them on this
// CPU (oneDNN where it was built with it, else its own im2col "slow_conv2d").
void run_conv_net(int threads, int blocks) {
  const ConvNetData data = make_conv_net_data();
  std::vector<torch::Tensor> parameters;
  for (std::size_t i = 0; i < data.parameters.size(); ++i) {
    const auto& s = ConvNetData::kShapes[i];
    std::vector<std::int64_t> shape;
    if (i % 2 == 1) {
      shape = {s[0]};  // a bias
    } else if (i < 4) {
      shape = {s[0], s[1], s[2], s[3]};  // a convolution's weights
    } else {
      shape = {s[0], s[1]};  // a dense layer's weights
    }
    parameters.push_back(tensor_of(data.parameters[i], shape).requires_grad_(true));
  }
  const std::int64_t count = ConvNetData::kBatches * ConvNetData::kBatch;
  const torch::Tensor images =
      tensor_of(data.images, {count, 1, ConvNetData::kImage, ConvNetData::kImage});
  const torch::Tensor labels =
      torch::from_blob(const_cast<std::int64_t*>(data.labels.data()), {count}, torch::kInt64)
          .clone();
  torch::optim::SGD optimizer(parameters, torch::optim::SGDOptions(ConvNetData::kLearningRate));
  namespace F = torch::nn::functional;
  auto conv = [](const torch::Tensor& bias) {
    return F::Conv2dFuncOptions().padding(2).bias(bias);
  };
  auto step = [&](int t) {
    const std::int64_t first = (t % ConvNetData::kBatches) * ConvNetData::kBatch;
    optimizer.zero_grad();
    torch::Tensor h = images.narrow(0, first, ConvNetData::kBatch);
    h = F::max_pool2d(torch::relu(F::conv2d(h, parameters[0], conv(parameters[1]))),
                      F::MaxPool2dFuncOptions(2));
    h = F::max_pool2d(torch::relu(F::conv2d(h, parameters[2], conv(parameters[3]))),
                      F::MaxPool2dFuncOptions(2));
    h = torch::relu(F::linear(h.flatten(1), parameters[4], parameters[5]));
    h = F::linear(h, parameters[6], parameters[7]);
    const torch::Tensor loss = F::cross_entropy(h, labels.narrow(0, first, ConvNetData::kBatch));
    loss.backward();
    optimizer.step();
    return loss.item<double>();
  };
  const std::string row = row_name("W6", engine_name(), threads);
  int t = 0;
  const double loss0 = step(t++);
  while (t < ConvNetData::kWarmupSteps) step(t++);
  std::vector<double> block_ms;
  for (int b = 0; b < blocks; ++b) {
    const Clock::time_point start = Clock::now();
    double loss19 = 0;
    for (int s = 0; s < ConvNetData::kBlockSteps; ++s, ++t) {
      const double loss = step(t);
      if (t == 19) loss19 = loss;
    }
    block_ms.push_back(seconds_since(start) * 1e3 / ConvNetData::kBlockSteps);
    if (b == 0) {
      print_checksum(row, "loss step 0", loss0, ConvNetData::kLossAtStep0,
                     ConvNetData::kLossTolerance);
      print_checksum(row, "loss step 19", loss19, ConvNetData::kLossAtStep19,
                     ConvNetData::kLossTolerance);
    }
  }
  const Figure ms = summarize(block_ms);
  print_figure(row, "ms/step", ms, "ms");
  print_value(row, "GEMM rate", ConvNetData::kFlopsPerStep / (ms.median * 1e-3) / 1e9, "GFLOP/s");
}

}  // namespace
}  // namespace dagprop::bench

int main(int argc, char** argv) {
  CLI::App app{"libtorch C++ peer of W2, W3, W4, W5 and W6"};
  int threads = 1;
  int reps = 5;
  std::vector<std::string> workloads{"w2", "w3", "w4", "w5", "w6"};
  app.add_option("--threads", threads, "threads for libtorch and OpenBLAS")
      ->check(CLI::Range(1, 256));
  app.add_option("--reps", reps, "timed repetitions (W2, W3: blocks)")->check(CLI::Range(5, 1000));
  app.add_option("--workload", workloads, "workloads to run")
      ->check(CLI::IsMember({"w2", "w3", "w4", "w5", "w6"}));
  CLI11_PARSE(app, argc, argv);
  using namespace dagprop::bench;
  return run_program("dagprop_bench_peer_torch", [&] {
    at::set_num_threads(threads);
    at::set_num_interop_threads(threads);
    set_blas_threads(threads);
    print_machine("dagprop_bench_peer_torch (libtorch " TORCH_VERSION ")");
    const char* wait_policy = std::getenv("OMP_WAIT_POLICY");
    std::printf("# libtorch threads %d (intra-op %d, inter-op %d), OMP_WAIT_POLICY=%s\n", threads,
                at::get_num_threads(), at::get_num_interop_threads(),
                wait_policy ? wait_policy : "unset");
    auto wanted = [&](const char* w) {
      return std::find(workloads.begin(), workloads.end(), w) != workloads.end();
    };
    if (wanted("w2")) run_mlp(threads, reps);
    if (wanted("w3")) run_heads(threads, reps);
    if (wanted("w4")) {
      run_chain(threads, reps, false);
      run_chain(threads, reps, true);
    }
    if (wanted("w5")) run_bandwidth(threads, reps);
    if (wanted("w6")) run_conv_net(threads, reps);
  });
}
