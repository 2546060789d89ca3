// Weight initializers drawn from a seeded SplitMix64: Glorot/Xavier (variance 2 / (fan_in +
// fan_out), for tanh and sigmoid) and He/Kaiming (variance 2 / fan_in, for ReLU-like units, which
// zero half their inputs), each uniform or normal.
#pragma once

#include <cstdint>
#include <span>
#include <string_view>

#include <dagprop/export.hpp>
#include <dagprop/random.hpp>
#include <dagprop/tensor.hpp>

DAGPROP_API_BEGIN
namespace dagprop::nn {

enum class Init : std::uint8_t { glorot_uniform, glorot_normal, he_uniform, he_normal, zeros };

std::span<const std::string_view> init_names();  // "glorot_uniform", ...
std::string_view name_of(Init init);
// Throws dagprop::Error listing the valid names.
Init init_by_name(std::string_view name);

// A weight matrix [fan_in, fan_out] (the layout matmul(x, W) uses), drawn row by row.
Tensor initialize(Init init, std::int64_t fan_in, std::int64_t fan_out, SplitMix64& random,
                  DType dtype = DType::f32);

}  // namespace dagprop::nn
DAGPROP_API_END
