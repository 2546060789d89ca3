// Classification metrics computed from a run's values (the loss itself is an op: cross_entropy).
#pragma once

#include <cstdint>

#include <dagprop/export.hpp>
#include <dagprop/tensor.hpp>

DAGPROP_API_BEGIN
namespace dagprop::nn {

// Rows of logits [batch, classes] whose largest entry (the first, on ties) is at the label's
// index; labels [batch] hold class indices.
std::int64_t count_correct(const TensorView& logits, const TensorView& labels);
// count_correct / batch.
double accuracy(const TensorView& logits, const TensorView& labels);

}  // namespace dagprop::nn
DAGPROP_API_END
