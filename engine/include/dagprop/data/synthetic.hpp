// Generated two-dimensional classification sets (xor, two moons, circles, spirals): small, seeded,
// and not linearly separable, so that a network needs its hidden layer.
#pragma once

#include <cstdint>
#include <span>
#include <string_view>

#include <dagprop/data/dataset.hpp>
#include <dagprop/export.hpp>

DAGPROP_API_BEGIN
namespace dagprop::data {

struct SyntheticOptions {
  std::int64_t samples = 1000;
  double noise = 0.1;  // standard deviation of the Gaussian noise added to each coordinate
  std::uint64_t seed = 1;
};

// Points uniform in [-1, 1]^2; class 1 where x and y have different signs.
Dataset make_xor(const SyntheticOptions& options);
// Two interleaved half circles; even rows are the upper moon (class 0), odd rows the lower one.
Dataset make_moons(const SyntheticOptions& options);
// Two concentric circles of radius 1 (class 0) and 0.5 (class 1).
Dataset make_circles(const SyntheticOptions& options);
// Two spirals winding 1.75 turns around the origin, one per class.
Dataset make_spirals(const SyntheticOptions& options);

// "xor", "moons", "circles", "spirals".
std::span<const std::string_view> synthetic_names();
bool is_synthetic_name(std::string_view name);
// Throws dagprop::Error listing the valid names if `name` is not one.
Dataset make_synthetic(std::string_view name, const SyntheticOptions& options);

}  // namespace dagprop::data
DAGPROP_API_END
