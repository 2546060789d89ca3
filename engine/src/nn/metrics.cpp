// Accuracy from logits.
#include <dagprop/nn/metrics.hpp>

#include <dagprop/error.hpp>

namespace dagprop::nn {

std::int64_t count_correct(const TensorView& logits, const TensorView& labels) {
  const Shape& shape = logits.shape();
  if (shape.rank() != 2 || labels.shape().rank() != 1 || labels.shape()[0] != shape[0]) {
    throw Error("accuracy needs logits [batch, classes] and labels [batch], got " +
                shape.to_string() + " and " + labels.shape().to_string());
  }
  const std::int64_t batch = shape[0], classes = shape[1];
  std::int64_t correct = 0;
  for (std::int64_t r = 0; r < batch; ++r) {
    std::int64_t best = 0;
    for (std::int64_t c = 1; c < classes; ++c) {
      if (logits.at(r * classes + c) > logits.at(r * classes + best)) best = c;
    }
    if (static_cast<double>(best) == labels.at(r)) ++correct;
  }
  return correct;
}

double accuracy(const TensorView& logits, const TensorView& labels) {
  const std::int64_t batch = logits.shape().rank() == 2 ? logits.shape()[0] : 0;
  const std::int64_t correct = count_correct(logits, labels);
  return batch == 0 ? 0.0 : static_cast<double>(correct) / static_cast<double>(batch);
}

}  // namespace dagprop::nn
