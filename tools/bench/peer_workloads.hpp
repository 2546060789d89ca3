// The data of the peer workloads W2 to W5 (WORKLOADS.md), from the SplitMix64 streams the
// definitions name. Shared by dagprop's benchmarks, the hand-written references and the peer
// programs, so that every engine computes on the same numbers.
#pragma once

#include <array>
#include <cstdint>
#include <vector>

namespace dagprop::bench {

// Output k of stream `seed` (the counter form of SplitMix64).
std::uint64_t u64(std::uint64_t seed, std::uint64_t k);
// (2u - 1) * scale in float, u = u01f(seed, k) with 24 random bits: outputs 0, 1, ... of `seed`.
std::vector<float> symmetric_f32(std::uint64_t seed, std::size_t count, float scale);
// 1 / sqrt(fan_in) computed in double, rounded to float (the weight scale of W2 and W3).
float fan_in_scale(std::int64_t fan_in);

// ---- W2 MLP training step: 784-512-512-10, ReLU, softmax cross-entropy (mean), SGD, batch 128.
struct MlpData {
  static constexpr std::array<std::int64_t, 4> kSizes{784, 512, 512, 10};
  static constexpr std::int64_t kBatch = 128;
  static constexpr std::int64_t kBatches = 8;
  static constexpr float kLearningRate = 0.01F;
  static constexpr int kWarmupSteps = 20;
  static constexpr int kBlockSteps = 200;
  static constexpr double kFlopsPerStep = 410.7e6;  // the GEMMs of one step
  static constexpr double kLossAtStep0 = 2.303486;
  static constexpr double kLossAtStep219 = 2.278945;  // last step of the first timed block

  std::array<std::vector<float>, 3> weights;  // layer l: [out][in], row-major (PyTorch's Linear)
  std::array<std::vector<float>, 3> biases;   // layer l: [out]
  std::vector<float> inputs;                  // [kBatches * kBatch][784]
  std::vector<std::int64_t> labels;           // [kBatches * kBatch], classes 0..9
};
MlpData make_mlp_data();
// A weight [out][in] as [in][out] (dagprop's Linear layout), the same numbers.
std::vector<float> transposed(const std::vector<float>& matrix, std::int64_t rows,
                              std::int64_t cols);

// ---- W3 independent heads: 64 heads Linear(64,64)-tanh-Linear(64,64)-tanh-Linear(64,1), batch 32.
struct HeadsData {
  static constexpr int kHeads = 64;
  static constexpr std::int64_t kBatch = 32;
  static constexpr std::int64_t kWidth = 64;
  static constexpr int kWarmup = 20;
  static constexpr int kBlock = 100;
  static constexpr double kLoss = 18.270706;
  static constexpr double kGradientSum = 1.214728;

  std::vector<float> inputs;   // [32][64]
  std::vector<float> targets;  // [32]
  // [head][layer]: weight [out][in] and bias [out]; layer 2 has out = 1.
  std::vector<std::array<std::vector<float>, 3>> weights;
  std::vector<std::array<std::vector<float>, 3>> biases;
};
HeadsData make_heads_data();

// ---- W4 deep chain: 100,000 alternating x*0.999 + 0.001 and tanh on 16 floats.
struct ChainData {
  static constexpr int kOps = 100'000;
  static constexpr std::int64_t kWidth = 16;
  static constexpr double kLoss = 2.188893;
  static constexpr double kGradientSum = 1.121039e-43;  // subnormal: not flushed to zero
  std::vector<float> x0;
};
ChainData make_chain_data();

// ---- W5 bandwidth: sigmoid forward and backward over 16M floats.
struct BandwidthData {
  static constexpr std::int64_t kSize = std::int64_t{1} << 24;
  static constexpr double kForwardBytes = 8;    // per element: read x, write y
  static constexpr double kBackwardBytes = 12;  // read y and g, write dx
  std::vector<float> x;                         // sym_f32(501, k, 4)
  std::vector<float> g;                         // sym_f32(502, k, 1)
};
BandwidthData make_bandwidth_data();

// ---- W6 convolutional training step: conv 1->16 5x5 pad 2, relu, maxpool 2, conv 16->32 5x5 pad
// 2, relu, maxpool 2, flatten, Linear(1568, 128), relu, Linear(128, 10); batch 64, SGD 0.01.
struct ConvNetData {
  static constexpr std::int64_t kBatch = 64;
  static constexpr std::int64_t kBatches = 4;
  static constexpr std::int64_t kImage = 28;
  static constexpr float kLearningRate = 0.01F;
  static constexpr int kWarmupSteps = 10;
  static constexpr int kBlockSteps = 50;
  // The convolution and dense products of one step: forward, every weight gradient, the input
  // gradients of every layer but the first.
  static constexpr double kFlopsPerStep = 1121.2e6;
  static constexpr double kLossAtStep0 = 2.309506;
  static constexpr double kLossAtStep19 = 2.302383;
  static constexpr double kLossTolerance = 2e-6;
  // Parameter i in WORKLOADS.md's order: conv1.weight [16][1][5][5], conv1.bias, conv2.weight
  // [32][16][5][5], conv2.bias, fc1.weight [128][1568], fc1.bias, fc2.weight [10][128], fc2.bias.
  static constexpr std::array<std::array<std::int64_t, 4>, 8> kShapes{{{16, 1, 5, 5},
                                                                       {16, 1, 1, 1},
                                                                       {32, 16, 5, 5},
                                                                       {32, 1, 1, 1},
                                                                       {128, 1568, 1, 1},
                                                                       {128, 1, 1, 1},
                                                                       {10, 128, 1, 1},
                                                                       {10, 1, 1, 1}}};
  static constexpr std::array<std::int64_t, 8> kFanIn{25, 25, 400, 400, 1568, 1568, 128, 128};

  std::array<std::vector<float>, 8> parameters;
  std::vector<float> images;         // [kBatches * kBatch][1][28][28]
  std::vector<std::int64_t> labels;  // [kBatches * kBatch]
};
ConvNetData make_conv_net_data();

}  // namespace dagprop::bench
