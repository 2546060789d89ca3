// The vectorized float tanh (ops/src/vector_math.hpp): accuracy over the whole float range and at
// the seam between its two formulas, special values, and the same bits from the vector build this
// CPU runs as from the scalar formula.
#include <gtest/gtest.h>

#include <bit>
#include <cmath>
#include <limits>
#include <vector>

#include <dagprop/dagprop.hpp>

#include "ops/float_sweep.hpp"
#include "vector_math.hpp"

namespace dagprop {
namespace {

using testing::float_sweep;
using testing::ulp_error;

// The sweep, plus every float within 2^12 ulps of the seam at |x| = 0.625.
std::vector<float> tanh_inputs() {
  std::vector<float> x = float_sweep();
  for (const float seam : {0.625F, -0.625F}) {
    float below = seam, above = seam;
    for (int i = 0; i < 4096; ++i) {
      below = std::nextafter(below, 0.0F);
      above = std::nextafter(above, 2 * seam);
      x.push_back(below);
      x.push_back(above);
    }
  }
  return x;
}

Tensor float_tanh(const std::vector<float>& x) {
  Graph g;
  return g.run(tanh(g.constant(Tensor::from(x, Shape{static_cast<std::int64_t>(x.size())}))));
}

TEST(FloatTanh, IsWithinOneAndAHalfUlpOverTheFloatRange) {
  const std::vector<float> x = tanh_inputs();
  const Tensor y = float_tanh(x);
  const float* values = y.data<float>();
  double worst = 0;
  for (std::size_t i = 0; i < x.size(); ++i) {
    const double error = ulp_error(values[i], std::tanh(static_cast<double>(x[i])));
    ASSERT_LE(error, 1.51) << "tanh(" << x[i] << ")";
    worst = std::max(worst, error);
  }
  EXPECT_GT(worst, 0.0) << "no rounding error at all: the test did not reach the vector formula";
}

TEST(FloatTanh, SpecialValues) {
  const float inf = std::numeric_limits<float>::infinity();
  const Tensor y = float_tanh({std::numeric_limits<float>::quiet_NaN(), inf, -inf, -0.0F, 0.0F,
                               1e-40F, -1e-40F, 20.0F, -800.0F});
  const float* v = y.data<float>();
  EXPECT_TRUE(std::isnan(v[0]));
  EXPECT_EQ(v[1], 1.0F);
  EXPECT_EQ(v[2], -1.0F);
  EXPECT_TRUE(v[3] == 0.0F && std::signbit(v[3]));
  EXPECT_TRUE(v[4] == 0.0F && !std::signbit(v[4]));
  EXPECT_EQ(v[5], 1e-40F) << "a subnormal input was flushed";
  EXPECT_EQ(v[6], -1e-40F);
  EXPECT_EQ(v[7], 1.0F);
  EXPECT_EQ(v[8], -1.0F);
}

// The kernel runs the widest vector build this CPU supports; this file is compiled for the x86-64
// baseline. Both must give the same bits, or results would depend on the machine.
TEST(FloatTanh, VectorBuildGivesTheScalarFormulasBits) {
  const std::vector<float> x = tanh_inputs();
  const Tensor y = float_tanh(x);
  for (std::size_t i = 0; i < x.size(); ++i) {
    ASSERT_EQ(std::bit_cast<std::uint32_t>(y.data<float>()[i]),
              std::bit_cast<std::uint32_t>(ops::hyperbolic_tangent(x[i])))
        << "tanh(" << x[i] << ")";
  }
}

}  // namespace
}  // namespace dagprop
