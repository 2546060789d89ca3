// Floats for testing float math over the whole range, and the error of a float result in ulps.
#pragma once

#include <algorithm>
#include <bit>
#include <cmath>
#include <cstdint>
#include <limits>
#include <vector>

namespace dagprop::testing {

// Every 4099th bit pattern: about a million floats of every sign and exponent, NaNs left out.
inline std::vector<float> float_sweep() {
  std::vector<float> values;
  for (std::uint64_t bits = 0; bits <= 0xFFFFFFFFULL; bits += 4099) {
    const float x = std::bit_cast<float>(static_cast<std::uint32_t>(bits));
    if (!std::isnan(x)) values.push_back(x);
  }
  for (const float special : {0.0F, -0.0F, std::numeric_limits<float>::infinity(),
                              -std::numeric_limits<float>::infinity(), -87.0F, -88.7F, -100.0F,
                              -103.9F, -104.0F, -110.0F, 88.7F, 1e-30F, -1e-30F})
    values.push_back(special);
  return values;
}

// |value - exact| in units of the float spacing at the exact value (the subnormal spacing below
// 2^-126).
inline double ulp_error(float value, double exact) {
  const float rounded = static_cast<float>(exact);
  const double spacing =
      std::max(static_cast<double>(std::nextafter(rounded, 2.0F) - rounded), 0x1p-149);
  return std::abs(value - exact) / spacing;
}

}  // namespace dagprop::testing
