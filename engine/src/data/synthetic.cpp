// The generated two-dimensional sets. Each point draws its position, then its noise, from one
// SplitMix64 stream in a fixed order, so a seed always gives the same set.
#include <dagprop/data/synthetic.hpp>

#include <algorithm>
#include <array>
#include <cmath>
#include <numbers>
#include <string>

#include <dagprop/error.hpp>
#include <dagprop/random.hpp>

#include "../unknown_name.hpp"

namespace dagprop::data {
namespace {

constexpr std::array<std::string_view, 4> kNames{"xor", "moons", "circles", "spirals"};

struct Point {
  double x, y;
  int label;
};

// Builds a set of two-class points: `point(i, random)` gives the noiseless point i, then each
// coordinate gets its Gaussian noise.
template <class PointOf>
Dataset generate(std::string_view name, const SyntheticOptions& o, PointOf point) {
  if (o.samples < 2 || o.samples > (std::int64_t{1} << 26)) {
    throw Error("make_" + std::string(name) + ": samples = " + std::to_string(o.samples) +
                "; give between 2 and 2^26 points");
  }
  if (!(o.noise >= 0.0) || !std::isfinite(o.noise)) {
    throw Error("make_" + std::string(name) + ": noise = " + std::to_string(o.noise) +
                "; it is a standard deviation, a finite number >= 0");
  }
  SplitMix64 random(o.seed);
  Dataset d;
  d.name = std::string(name);
  d.num_classes = 2;
  d.features = Tensor(Shape{o.samples, 2}, DType::f32);
  d.labels = Tensor(Shape{o.samples}, DType::f32);
  for (std::int64_t i = 0; i < o.samples; ++i) {
    const Point p = point(i, random);
    d.features.set(2 * i, p.x + o.noise * random.normal());
    d.features.set(2 * i + 1, p.y + o.noise * random.normal());
    d.labels.set(i, p.label);
  }
  return d;
}

}  // namespace

Dataset make_xor(const SyntheticOptions& options) {
  return generate("xor", options, [](std::int64_t, SplitMix64& random) {
    const double x = 2.0 * random.uniform() - 1.0, y = 2.0 * random.uniform() - 1.0;
    return Point{x, y, (x > 0.0) != (y > 0.0) ? 1 : 0};
  });
}

Dataset make_moons(const SyntheticOptions& options) {
  return generate("moons", options, [](std::int64_t i, SplitMix64& random) {
    const bool upper = i % 2 == 0;
    const double t = std::numbers::pi * random.uniform();
    return upper ? Point{std::cos(t), std::sin(t), 0}
                 : Point{1.0 - std::cos(t), 0.5 - std::sin(t), 1};
  });
}

Dataset make_circles(const SyntheticOptions& options) {
  return generate("circles", options, [](std::int64_t i, SplitMix64& random) {
    const int label = static_cast<int>(i % 2);
    const double radius = label == 0 ? 1.0 : 0.5;
    const double angle = 2.0 * std::numbers::pi * random.uniform();
    return Point{radius * std::cos(angle), radius * std::sin(angle), label};
  });
}

Dataset make_spirals(const SyntheticOptions& options) {
  return generate("spirals", options, [](std::int64_t i, SplitMix64& random) {
    const int label = static_cast<int>(i % 2);
    // Radius grows with the angle; starting at 0.05 keeps the two arms apart at the centre.
    const double t = 0.05 + 0.95 * random.uniform();
    const double angle = 1.75 * 2.0 * std::numbers::pi * t + label * std::numbers::pi;
    return Point{t * std::cos(angle), t * std::sin(angle), label};
  });
}

std::span<const std::string_view> synthetic_names() {
  return kNames;
}

bool is_synthetic_name(std::string_view name) {
  return std::find(kNames.begin(), kNames.end(), name) != kNames.end();
}

Dataset make_synthetic(std::string_view name, const SyntheticOptions& options) {
  if (name == "xor") return make_xor(options);
  if (name == "moons") return make_moons(options);
  if (name == "circles") return make_circles(options);
  if (name == "spirals") return make_spirals(options);
  throw_unknown_name("generated dataset", name, kNames);
}

}  // namespace dagprop::data
