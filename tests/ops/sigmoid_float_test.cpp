// The vectorized float sigmoid (ops/src/vector_math.hpp): accuracy over the whole float range,
// subnormal results kept, special values, and the same bits from the vector build this CPU runs as
// from the scalar formula.
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

Tensor float_sigmoid(const std::vector<float>& x) {
  Graph g;
  return g.run(sigmoid(g.constant(Tensor::from(x, Shape{static_cast<std::int64_t>(x.size())}))));
}

double exact_sigmoid(float x) {
  return 1.0 / (1.0 + std::exp(-static_cast<double>(x)));
}

TEST(FloatSigmoid, IsWithinTwoAndAHalfUlpOverTheFloatRange) {
  const std::vector<float> x = float_sweep();
  const Tensor y = float_sigmoid(x);
  const float* values = y.data<float>();
  for (std::size_t i = 0; i < x.size(); ++i)
    ASSERT_LE(ulp_error(values[i], exact_sigmoid(x[i])), 2.5) << "sigmoid(" << x[i] << ")";
}

TEST(FloatSigmoid, KeepsSubnormalResults) {
  const std::vector<float> x{-88.0F, -95.0F, -100.0F, -103.0F};
  const Tensor y = float_sigmoid(x);
  for (std::size_t i = 0; i < x.size(); ++i) {
    const float value = y.data<float>()[i];
    EXPECT_GT(value, 0.0F) << "sigmoid(" << x[i] << ") was flushed to zero";
    EXPECT_LE(ulp_error(value, exact_sigmoid(x[i])), 1.0) << "sigmoid(" << x[i] << ")";
  }
}

TEST(FloatSigmoid, SpecialValues) {
  const float inf = std::numeric_limits<float>::infinity();
  const Tensor y = float_sigmoid({std::numeric_limits<float>::quiet_NaN(), inf, -inf, -0.0F, 0.0F});
  const float* v = y.data<float>();
  EXPECT_TRUE(std::isnan(v[0]));
  EXPECT_EQ(v[1], 1.0F);
  EXPECT_EQ(v[2], 0.0F);
  EXPECT_EQ(v[3], 0.5F);
  EXPECT_EQ(v[4], 0.5F);
}

// The kernel runs the widest vector build this CPU supports; this file is compiled for the x86-64
// baseline. Both must give the same bits, or results would depend on the machine.
TEST(FloatSigmoid, VectorBuildGivesTheScalarFormulasBits) {
  const std::vector<float> x = float_sweep();
  const Tensor y = float_sigmoid(x);
  for (std::size_t i = 0; i < x.size(); ++i) {
    ASSERT_EQ(std::bit_cast<std::uint32_t>(y.data<float>()[i]),
              std::bit_cast<std::uint32_t>(ops::logistic(x[i])))
        << "sigmoid(" << x[i] << ")";
  }
}

}  // namespace
}  // namespace dagprop
