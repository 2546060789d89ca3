// Tensor summaries and unit health for pictures.
#include "tensor_summary.hpp"

#include <algorithm>
#include <charconv>
#include <cmath>
#include <cstdio>
#include <limits>
#include <vector>

namespace dagprop {
namespace {

template <class T>
TensorSummary summarize_elements(const T* data, std::int64_t n) {
  TensorSummary s;
  s.numel = n;
  if (n == 0) return s;
  double lo = data[0], hi = data[0], sum = 0, squares = 0;
  for (std::int64_t i = 0; i < n; ++i) {
    const double v = data[i];
    if (!std::isfinite(v)) s.finite = false;
    lo = std::min(lo, v);
    hi = std::max(hi, v);
    sum += v;
    squares += v * v;
  }
  s.min = lo;
  s.max = hi;
  s.mean = sum / static_cast<double>(n);
  s.l2 = std::sqrt(squares);
  s.rms = std::sqrt(squares / static_cast<double>(n));
  if (!s.finite) s.rms = std::numeric_limits<double>::quiet_NaN();
  return s;
}

template <class T>
bool is_saturated(UnitKind kind, T y, double threshold) {
  const double v = y;
  if (kind == UnitKind::sigmoid) return v < 1 - threshold || v > threshold;
  return std::abs(v) > threshold;
}

template <class T>
UnitHealth health_of(UnitKind kind, const T* y, std::int64_t rows, std::int64_t units,
                     double threshold) {
  UnitHealth health;
  health.units = units;
  if (rows == 0) return health;
  std::vector<char> dead(static_cast<std::size_t>(units), 1);
  std::vector<char> saturated(static_cast<std::size_t>(units), 1);
  for (std::int64_t r = 0; r < rows; ++r) {
    const T* row = y + r * units;
    for (std::int64_t u = 0; u < units; ++u) {
      if (row[u] != T(0)) dead[static_cast<std::size_t>(u)] = 0;
      if (!is_saturated(kind, row[u], threshold)) saturated[static_cast<std::size_t>(u)] = 0;
    }
  }
  if (kind == UnitKind::rectifier) {
    health.dead = std::count(dead.begin(), dead.end(), 1);
  } else {
    health.saturated = std::count(saturated.begin(), saturated.end(), 1);
  }
  return health;
}

}  // namespace

TensorSummary summarize(const TensorView& tensor) {
  return tensor.dtype() == DType::f32
             ? summarize_elements(static_cast<const float*>(tensor.raw()), tensor.numel())
             : summarize_elements(static_cast<const double*>(tensor.raw()), tensor.numel());
}

// printf's %.4g, without printf's cost (a picture formats millions of numbers).
std::string format_number(double value) {
  char text[32];
  const auto result = std::to_chars(text, text + sizeof text, value, std::chars_format::general, 4);
  return std::string(text, result.ptr);
}

std::string format_summary(const TensorSummary& s) {
  if (s.numel == 0) return "empty";
  if (s.numel == 1) return format_number(s.min);
  return "min " + format_number(s.min) + " mean " + format_number(s.mean) + " max " +
         format_number(s.max) + " L2 " + format_number(s.l2) + (s.finite ? "" : " (has NaN/Inf)");
}

UnitHealth unit_health(UnitKind kind, const TensorView& output, double threshold) {
  if (kind == UnitKind::none) return {};
  const Shape& shape = output.shape();
  const std::int64_t units = shape.rank() >= 1 ? shape[shape.rank() - 1] : 1;
  const std::int64_t rows = shape.rank() >= 2 && units > 0 ? output.numel() / units : 1;
  if (units == 0) return {};
  return output.dtype() == DType::f32
             ? health_of(kind, static_cast<const float*>(output.raw()), rows, units, threshold)
             : health_of(kind, static_cast<const double*>(output.raw()), rows, units, threshold);
}

}  // namespace dagprop
