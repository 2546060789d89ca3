// Row operations on datasets: checks, subsets, seeded shuffles and splits, standardization.
#include <dagprop/data/dataset.hpp>

#include <algorithm>
#include <cmath>
#include <cstring>

#include <dagprop/error.hpp>
#include <dagprop/random.hpp>

namespace dagprop::data {
namespace {

// An index in [0, n) from a 53-bit uniform: one draw per index and no rejection loop, so every
// platform draws the same sequence; the bias is below n / 2^53.
std::int64_t uniform_index(SplitMix64& random, std::int64_t n) {
  return std::min(n - 1, static_cast<std::int64_t>(random.uniform() * static_cast<double>(n)));
}

}  // namespace

void check_dataset(const Dataset& d) {
  const std::string what = "dataset '" + d.name + "'";
  if (d.features.shape().rank() != 2 || d.features.dtype() != DType::f32) {
    throw Error(what + ": features must be float32 [examples, features], got " +
                std::string(dtype_name(d.features.dtype())) + " " + d.features.shape().to_string());
  }
  if (d.labels.shape().rank() != 1 || d.labels.dtype() != DType::f32 ||
      d.labels.shape()[0] != d.size()) {
    throw Error(what + ": labels must be float32 [" + std::to_string(d.size()) +
                "] (one per example), got " + std::string(dtype_name(d.labels.dtype())) + " " +
                d.labels.shape().to_string());
  }
  if (d.num_classes < 1) {
    throw Error(what + ": num_classes is " + std::to_string(d.num_classes) +
                "; a classification set has at least one class");
  }
  if (!d.class_names.empty() && static_cast<std::int64_t>(d.class_names.size()) != d.num_classes) {
    throw Error(what + ": " + std::to_string(d.class_names.size()) + " class names for " +
                std::to_string(d.num_classes) + " classes; give one name per class or none");
  }
  const float* labels = d.labels.data<float>();
  for (std::int64_t i = 0; i < d.size(); ++i) {
    const float label = labels[i];
    if (!(label >= 0.0F) || label >= static_cast<float>(d.num_classes) ||
        label != std::floor(label)) {
      throw Error(what + ": label " + std::to_string(label) + " of example " + std::to_string(i) +
                  " is not a class index in 0.." + std::to_string(d.num_classes - 1));
    }
  }
}

Dataset take_rows(const Dataset& d, std::span<const std::int64_t> rows) {
  const std::int64_t width = d.num_features();
  Dataset out;
  out.name = d.name;
  out.num_classes = d.num_classes;
  out.class_names = d.class_names;
  out.example_shape = d.example_shape;
  const auto n = static_cast<std::int64_t>(rows.size());
  out.features = Tensor(Shape{n, width}, DType::f32);
  out.labels = Tensor(Shape{n}, DType::f32);
  const float* features = d.features.data<float>();
  const float* labels = d.labels.data<float>();
  float* out_features = out.features.data<float>();
  float* out_labels = out.labels.data<float>();
  for (std::int64_t i = 0; i < n; ++i) {
    const std::int64_t row = rows[static_cast<std::size_t>(i)];
    if (row < 0 || row >= d.size()) {
      throw Error("take_rows: row " + std::to_string(row) + " is outside dataset '" + d.name +
                  "' of " + std::to_string(d.size()) + " examples");
    }
    std::memcpy(out_features + i * width, features + row * width,
                static_cast<std::size_t>(width) * sizeof(float));
    out_labels[i] = labels[row];
  }
  return out;
}

std::vector<std::int64_t> shuffled_indices(std::int64_t n, std::uint64_t seed) {
  std::vector<std::int64_t> order(static_cast<std::size_t>(std::max<std::int64_t>(n, 0)));
  for (std::int64_t i = 0; i < n; ++i) order[static_cast<std::size_t>(i)] = i;
  SplitMix64 random(seed);
  for (std::int64_t i = n - 1; i > 0; --i) {
    std::swap(order[static_cast<std::size_t>(i)],
              order[static_cast<std::size_t>(uniform_index(random, i + 1))]);
  }
  return order;
}

std::pair<Dataset, Dataset> split(const Dataset& d, double fraction, std::uint64_t seed) {
  if (!(fraction >= 0.0 && fraction < 1.0)) {
    throw Error("split of dataset '" + d.name + "': fraction " + std::to_string(fraction) +
                " is not in [0, 1); it is the share of examples held out");
  }
  const std::vector<std::int64_t> order = shuffled_indices(d.size(), seed);
  const auto held_out =
      static_cast<std::int64_t>(std::llround(fraction * static_cast<double>(d.size())));
  const std::span<const std::int64_t> all(order);
  const auto kept = static_cast<std::size_t>(d.size() - held_out);
  return {take_rows(d, all.first(kept)), take_rows(d, all.subspan(kept))};
}

Dataset sample(const Dataset& d, std::int64_t count, std::uint64_t seed) {
  const std::vector<std::int64_t> order = shuffled_indices(d.size(), seed);
  const auto kept = static_cast<std::size_t>(std::clamp<std::int64_t>(count, 0, d.size()));
  return take_rows(d, std::span<const std::int64_t>(order).first(kept));
}

Standardizer Standardizer::fit(const Dataset& train) {
  const std::int64_t n = train.size(), width = train.num_features();
  if (n == 0) throw Error("Standardizer::fit: dataset '" + train.name + "' has no examples");
  std::vector<double> sum(static_cast<std::size_t>(width)), sum_sq(sum.size());
  const float* x = train.features.data<float>();
  for (std::int64_t i = 0; i < n; ++i) {
    for (std::int64_t j = 0; j < width; ++j) {
      const double v = x[i * width + j];
      sum[static_cast<std::size_t>(j)] += v;
      sum_sq[static_cast<std::size_t>(j)] += v * v;
    }
  }
  Standardizer s;
  for (std::size_t j = 0; j < sum.size(); ++j) {
    const double mean = sum[j] / static_cast<double>(n);
    const double variance = std::max(0.0, sum_sq[j] / static_cast<double>(n) - mean * mean);
    const double std = std::sqrt(variance);
    s.mean.push_back(static_cast<float>(mean));
    // A constant feature (an always-black border pixel) is only centred: dividing by a tiny
    // deviation would turn rounding noise into large inputs.
    s.inverse_std.push_back(std > 1e-6 ? static_cast<float>(1.0 / std) : 1.0F);
  }
  return s;
}

void Standardizer::apply(Dataset& d) const {
  const std::int64_t n = d.size(), width = d.num_features();
  if (static_cast<std::size_t>(width) != mean.size()) {
    throw Error("Standardizer::apply: dataset '" + d.name + "' has " + std::to_string(width) +
                " features but the statistics were measured on " + std::to_string(mean.size()));
  }
  float* x = d.features.data<float>();
  for (std::int64_t i = 0; i < n; ++i) {
    for (std::int64_t j = 0; j < width; ++j) {
      float& v = x[i * width + j];
      v = (v - mean[static_cast<std::size_t>(j)]) * inverse_std[static_cast<std::size_t>(j)];
    }
  }
}

}  // namespace dagprop::data
