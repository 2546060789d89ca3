// The scalar formulas of the activations and their local gradients, written once: the op units'
// kernels (float64 and the scalar float paths), the scalar tape's recording and reverse sweep, and
// the layers' unit-health checks all call these. The float kernels of sigmoid and tanh use the
// vectorized forms in ops/src/vector_math.hpp instead (tests/ops/*_float_test.cpp bound their
// error).
// Each backward form is written as its callers multiply (g * y * (1 - y), not g * (y * (1 - y))),
// so moving a caller onto it changes no bit.
#pragma once

#include <algorithm>
#include <cmath>

#include <dagprop/export.hpp>

DAGPROP_API_BEGIN
namespace dagprop::formulas {

// The logistic function without overflow: exp is only ever taken of a non-positive number, so
// |x| = 800 gives exactly 1 or 0, never NaN.
template <class T>
T sigmoid(T x) {
  if (x >= T(0)) return T(1) / (T(1) + std::exp(-x));
  const T e = std::exp(x);
  return e / (T(1) + e);
}
// d sigmoid(x) / dx = y (1 - y), from the output y as the seed text has it; times the incoming g.
template <class T>
T sigmoid_backward(T y, T g) {
  return g * y * (T(1) - y);
}

// d tanh(x) / dx = 1 - y^2, from the output.
template <class T>
T tanh_backward(T y, T g) {
  return g * (T(1) - y * y);
}

// log(1 + e^x) as max(x, 0) + log1p(e^-|x|): finite for every finite x, and the small tail of a
// very negative x is kept rather than rounded to 0. Its derivative is sigmoid(x).
template <class T>
T softplus(T x) {
  return std::max(x, T(0)) + std::log1p(std::exp(-std::abs(x)));
}

// max(x, 0); the derivative at 0 is taken as 0, and NaN passes through neither branch as x.
template <class T>
T relu(T x) {
  return x > T(0) ? x : T(0);
}
template <class T>
T relu_backward(T x, T g) {
  return x > T(0) ? g : T(0);
}

}  // namespace dagprop::formulas
DAGPROP_API_END
