// Small helpers shared by the tests of the tensor ops: values of a tensor as a vector, and
// float64 parameters with given values.
#pragma once

#include <vector>

#include <dagprop/dagprop.hpp>

namespace dagprop::testing {

inline std::vector<double> values_of(const TensorView& t) {
  std::vector<double> v(static_cast<std::size_t>(t.numel()));
  for (std::int64_t i = 0; i < t.numel(); ++i) v[static_cast<std::size_t>(i)] = t.at(i);
  return v;
}

inline Expr parameter_of(Graph& g, const char* name, std::vector<double> values, Shape shape) {
  return g.parameter(name, Tensor::from(values, shape));
}

}  // namespace dagprop::testing
