// What a picture says about a tensor: a short summary (min, mean, max, L2 norm, RMS) and the
// health of activation units (dead ReLU, saturated sigmoid/tanh). Private to engine/.
#pragma once

#include <cstdint>
#include <string>

#include <dagprop/op_def.hpp>
#include <dagprop/tensor.hpp>

namespace dagprop {

struct TensorSummary {
  std::int64_t numel = 0;
  double min = 0, max = 0, mean = 0, l2 = 0;
  double rms = 0;      // L2 / sqrt(numel): a magnitude that does not grow with the size
  bool finite = true;  // no NaN or Inf among the elements
};
TensorSummary summarize(const TensorView& tensor);

// "0.47" for one element; "min -1.2 mean 0.03 max 2.1 L2 4.5" for more; "empty" for none.
std::string format_summary(const TensorSummary& summary);
std::string format_number(double value);

// Units are the last axis of a tensor of rank 2 or more (the leading axes are the batch), each
// element of a vector, or the one element of a scalar. A unit is dead when it is exactly zero on
// every row, saturated when every row lies beyond the threshold (sigmoid: y < 1 - t or y > t;
// tanh: |y| > t), where the derivative has all but vanished.
struct UnitHealth {
  std::int64_t units = 0;
  std::int64_t dead = 0;
  std::int64_t saturated = 0;
};
UnitHealth unit_health(UnitKind kind, const TensorView& output, double threshold);

}  // namespace dagprop
