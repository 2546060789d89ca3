// Data of the peer workloads W2 to W5, element i of a tensor from output i of its stream.
#include "peer_workloads.hpp"

#include <cmath>

#include <dagprop/random.hpp>

namespace dagprop::bench {

std::uint64_t u64(std::uint64_t seed, std::uint64_t k) {
  // Output k of the counter form is the (k+1)-th output of the generator started from `seed`:
  // jump the state to seed + k * increment and draw once.
  SplitMix64 generator(seed + k * 0x9E3779B97F4A7C15ULL);
  return generator.next();
}

std::vector<float> symmetric_f32(std::uint64_t seed, std::size_t count, float scale) {
  SplitMix64 generator(seed);
  std::vector<float> values(count);
  for (float& v : values) v = (2.0F * generator.uniform_float() - 1.0F) * scale;
  return values;
}

float fan_in_scale(std::int64_t fan_in) {
  return static_cast<float>(1.0 / std::sqrt(static_cast<double>(fan_in)));
}

std::vector<float> transposed(const std::vector<float>& matrix, std::int64_t rows,
                              std::int64_t cols) {
  std::vector<float> result(matrix.size());
  for (std::int64_t r = 0; r < rows; ++r) {
    for (std::int64_t c = 0; c < cols; ++c)
      result[static_cast<std::size_t>(c * rows + r)] =
          matrix[static_cast<std::size_t>(r * cols + c)];
  }
  return result;
}

MlpData make_mlp_data() {
  MlpData data;
  for (std::size_t l = 0; l < 3; ++l) {
    const std::int64_t in = MlpData::kSizes[l], out = MlpData::kSizes[l + 1];
    const float scale = fan_in_scale(in);
    data.weights[l] = symmetric_f32(200 + 2 * l + 1, static_cast<std::size_t>(out * in), scale);
    data.biases[l] = symmetric_f32(200 + 2 * l + 2, static_cast<std::size_t>(out), scale);
  }
  const std::int64_t rows = MlpData::kBatches * MlpData::kBatch;
  data.inputs = symmetric_f32(207, static_cast<std::size_t>(rows * MlpData::kSizes[0]), 1.0F);
  data.labels.resize(static_cast<std::size_t>(rows));
  for (std::int64_t k = 0; k < rows; ++k)
    data.labels[static_cast<std::size_t>(k)] = static_cast<std::int64_t>(u64(208, k) % 10);
  return data;
}

HeadsData make_heads_data() {
  HeadsData data;
  data.inputs = symmetric_f32(301, HeadsData::kBatch * HeadsData::kWidth, 1.0F);
  data.targets = symmetric_f32(302, HeadsData::kBatch, 1.0F);
  data.weights.resize(HeadsData::kHeads);
  data.biases.resize(HeadsData::kHeads);
  const float scale = fan_in_scale(HeadsData::kWidth);
  for (int h = 0; h < HeadsData::kHeads; ++h) {
    for (int l = 0; l < 3; ++l) {
      const std::size_t out = l == 2 ? 1 : HeadsData::kWidth;
      const auto seed = static_cast<std::uint64_t>(400 + 10 * h + 2 * l);
      data.weights[static_cast<std::size_t>(h)][static_cast<std::size_t>(l)] =
          symmetric_f32(seed, out * HeadsData::kWidth, scale);
      data.biases[static_cast<std::size_t>(h)][static_cast<std::size_t>(l)] =
          symmetric_f32(seed + 1, out, scale);
    }
  }
  return data;
}

ChainData make_chain_data() {
  ChainData data;
  data.x0 = symmetric_f32(400, ChainData::kWidth, 1.0F);
  return data;
}

BandwidthData make_bandwidth_data() {
  BandwidthData data;
  data.x = symmetric_f32(501, BandwidthData::kSize, 4.0F);
  data.g = symmetric_f32(502, BandwidthData::kSize, 1.0F);
  return data;
}

ConvNetData make_conv_net_data() {
  ConvNetData data;
  for (std::size_t i = 0; i < data.parameters.size(); ++i) {
    std::int64_t count = 1;
    for (const std::int64_t d : ConvNetData::kShapes[i]) count *= d;
    data.parameters[i] = symmetric_f32(611 + i, static_cast<std::size_t>(count),
                                       fan_in_scale(ConvNetData::kFanIn[i]));
  }
  const std::int64_t images = ConvNetData::kBatches * ConvNetData::kBatch;
  data.images = symmetric_f32(
      601, static_cast<std::size_t>(images * ConvNetData::kImage * ConvNetData::kImage), 1.0F);
  data.labels.resize(static_cast<std::size_t>(images));
  for (std::int64_t k = 0; k < images; ++k)
    data.labels[static_cast<std::size_t>(k)] = static_cast<std::int64_t>(u64(602, k) % 10);
  return data;
}

}  // namespace dagprop::bench
