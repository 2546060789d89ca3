// Seeded mini-batches gathered into reused tensors.
#include <dagprop/data/batches.hpp>

#include <cstring>

#include <dagprop/error.hpp>
#include <dagprop/random.hpp>

namespace dagprop::data {

MiniBatches::MiniBatches(const Dataset& dataset, std::int64_t batch_size, std::uint64_t seed,
                         bool shuffle)
    : dataset_(&dataset), batch_size_(batch_size), seed_(seed), shuffle_(shuffle) {
  if (batch_size < 1 || batch_size > dataset.size()) {
    throw Error("batch size " + std::to_string(batch_size) + " for dataset '" + dataset.name +
                "' of " + std::to_string(dataset.size()) +
                " examples: use 1..number of examples (incomplete batches are dropped)");
  }
  features_ = Tensor(Shape{batch_size, dataset.num_features()}, DType::f32);
  labels_ = Tensor(Shape{batch_size}, DType::f32);
  start_epoch(0);
}

void MiniBatches::start_epoch(int epoch) {
  if (shuffle_) {
    // Each epoch's order comes from its own stream, derived from the seed and the epoch by one
    // SplitMix64 step, so epoch k is the same whether or not earlier epochs were drawn.
    SplitMix64 derive(seed_ ^ (0x5851F42D4C957F2DULL * static_cast<std::uint64_t>(epoch + 1)));
    order_ = shuffled_indices(dataset_->size(), derive.next());
  } else {
    order_.resize(static_cast<std::size_t>(dataset_->size()));
    for (std::size_t i = 0; i < order_.size(); ++i) order_[i] = static_cast<std::int64_t>(i);
  }
  position_ = 0;
}

bool MiniBatches::next() {
  if (position_ + batch_size_ > dataset_->size()) return false;
  const std::int64_t width = dataset_->num_features();
  const float* features = dataset_->features.data<float>();
  const float* labels = dataset_->labels.data<float>();
  float* out_features = features_.data<float>();
  float* out_labels = labels_.data<float>();
  for (std::int64_t i = 0; i < batch_size_; ++i) {
    const std::int64_t row = order_[static_cast<std::size_t>(position_ + i)];
    std::memcpy(out_features + i * width, features + row * width,
                static_cast<std::size_t>(width) * sizeof(float));
    out_labels[i] = labels[row];
  }
  position_ += batch_size_;
  return true;
}

bool MiniBatches::skip(std::int64_t count) {
  if (count < 0 || count > (dataset_->size() - position_) / batch_size_) return false;
  position_ += count * batch_size_;
  return true;
}

void copy_rows(const Dataset& dataset, std::int64_t first, std::int64_t count, Tensor& features,
               Tensor& labels) {
  const std::int64_t width = dataset.num_features();
  if (first < 0 || count < 0 || first + count > dataset.size() ||
      !(features.shape() == Shape{count, width}) || !(labels.shape() == Shape{count})) {
    throw Error("copy_rows: rows " + std::to_string(first) + ".." + std::to_string(first + count) +
                " of dataset '" + dataset.name + "' (" + std::to_string(dataset.size()) +
                " examples) into tensors " + features.shape().to_string() + " and " +
                labels.shape().to_string() + "; the tensors must be [count, features] and [count]");
  }
  std::memcpy(features.data<float>(), dataset.features.data<float>() + first * width,
              static_cast<std::size_t>(count * width) * sizeof(float));
  std::memcpy(labels.data<float>(), dataset.labels.data<float>() + first,
              static_cast<std::size_t>(count) * sizeof(float));
}

}  // namespace dagprop::data
