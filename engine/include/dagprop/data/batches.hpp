// Mini-batches over a dataset: each epoch a new seeded permutation (the same seed and epoch give
// the same batches on every platform), rows gathered into two tensors reused across batches, so a
// graph input of the batch shape can be fed without allocation. Incomplete last batches are
// dropped: a graph input has one fixed shape.
#pragma once

#include <cstdint>
#include <vector>

#include <dagprop/data/dataset.hpp>
#include <dagprop/export.hpp>

DAGPROP_API_BEGIN
namespace dagprop::data {

class MiniBatches {
 public:
  // shuffle = false keeps the dataset's order (evaluation).
  MiniBatches(const Dataset& dataset, std::int64_t batch_size, std::uint64_t seed,
              bool shuffle = true);

  // Starts epoch `epoch` (0-based): draws its permutation.
  void start_epoch(int epoch);
  // Gathers the next batch into features() and labels(); false when the epoch is done.
  bool next();
  // Passes over the next `count` batches of the epoch without gathering them (resuming mid-epoch);
  // false if the epoch has fewer left.
  bool skip(std::int64_t count);

  const Tensor& features() const { return features_; }  // [batch, d]
  const Tensor& labels() const { return labels_; }      // [batch]
  std::int64_t batch_size() const { return batch_size_; }
  std::int64_t batches_per_epoch() const { return dataset_->size() / batch_size_; }

 private:
  const Dataset* dataset_;
  std::int64_t batch_size_;
  std::uint64_t seed_;
  bool shuffle_;
  std::vector<std::int64_t> order_;
  std::int64_t position_ = 0;
  Tensor features_, labels_;
};

// Copies rows [first, first + count) of the dataset into the given tensors (shapes [count, d] and
// [count]); used for evaluation batches taken in order.
void copy_rows(const Dataset& dataset, std::int64_t first, std::int64_t count, Tensor& features,
               Tensor& labels);

}  // namespace dagprop::data
DAGPROP_API_END
