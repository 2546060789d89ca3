// SplitMix64: the seeded generator behind initializers, shuffles, projections and the benchmark
// workloads (WORKLOADS.md defines its counter form). Same seed, same numbers, on every platform.
#pragma once

#include <cstdint>

#include <dagprop/export.hpp>

DAGPROP_API_BEGIN
namespace dagprop {

class SplitMix64 {
 public:
  explicit SplitMix64(std::uint64_t seed) : state_(seed) {}

  std::uint64_t next() {
    std::uint64_t z = (state_ += 0x9E3779B97F4A7C15ULL);
    z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ULL;
    z = (z ^ (z >> 27)) * 0x94D049BB133111EBULL;
    return z ^ (z >> 31);
  }
  // Uniform in [0, 1) with 53 random bits.
  double uniform() { return static_cast<double>(next() >> 11) * 0x1.0p-53; }
  // Uniform in [0, 1) with 24 random bits, exact in float.
  float uniform_float() { return static_cast<float>(next() >> 40) * 0x1.0p-24F; }
  // Standard normal (Box-Muller on two uniforms; uses two draws).
  double normal();

 private:
  std::uint64_t state_;
};

// Independent streams derived from one seed (the trainer's initialization, batch order, and a
// study's probe sample are streams 0, 1 and 2), so that changing how one of them draws never
// shifts the others.
inline std::uint64_t stream_seed(std::uint64_t seed, std::uint64_t stream) {
  return SplitMix64(seed ^ (0xD1B54A32D192ED03ULL * (stream + 1))).next();
}

}  // namespace dagprop
DAGPROP_API_END
