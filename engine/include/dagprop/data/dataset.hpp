// Dataset: a classification set in memory (features [n, d] and class labels [n], both float32),
// with the row operations training needs: subsets, seeded splits and standardization.
#pragma once

#include <cstdint>
#include <span>
#include <string>
#include <utility>
#include <vector>

#include <dagprop/export.hpp>
#include <dagprop/tensor.hpp>

DAGPROP_API_BEGIN
namespace dagprop::data {

struct Dataset {
  std::string name;                          // "moons", "fashion-mnist/train", a file path
  Tensor features{Shape{0, 0}, DType::f32};  // [n, d]
  // [n], class indices stored as floats because cross_entropy takes float labels.
  Tensor labels{Shape{0}, DType::f32};
  std::int64_t num_classes = 0;
  std::vector<std::string> class_names;  // empty, or one per class
  // The shape of one example before it was flattened into a row ([rows, cols] for images), when
  // the source has one; empty otherwise. Sets of one model must agree on it, not only on the width.
  std::vector<std::int64_t> example_shape;

  std::int64_t size() const { return features.shape()[0]; }
  std::int64_t num_features() const { return features.shape()[1]; }
};

// Throws dagprop::Error unless features are [n, d] float32, labels [n] float32 holding whole
// numbers in 0..num_classes-1, and class_names is empty or has num_classes entries.
void check_dataset(const Dataset& dataset);

// The rows at `rows`, in that order (a row may repeat).
Dataset take_rows(const Dataset& dataset, std::span<const std::int64_t> rows);

// A seeded permutation of 0..n-1 (Fisher-Yates on SplitMix64): the same seed gives the same order
// on every platform.
std::vector<std::int64_t> shuffled_indices(std::int64_t n, std::uint64_t seed);

// Shuffles the rows with `seed`, then cuts off round(fraction * n) of them as the second set:
// {rest, held_out}. fraction must be in [0, 1).
std::pair<Dataset, Dataset> split(const Dataset& dataset, double fraction, std::uint64_t seed);

// A seeded sample of `count` rows (all rows, shuffled, when count >= size).
Dataset sample(const Dataset& dataset, std::int64_t count, std::uint64_t seed);

// Per-feature mean and standard deviation, measured on a training set and applied to every set
// (so that test data never leaks into the statistics).
struct Standardizer {
  std::vector<float> mean, inverse_std;
  static Standardizer fit(const Dataset& train);
  void apply(Dataset& dataset) const;
};

}  // namespace dagprop::data
DAGPROP_API_END
