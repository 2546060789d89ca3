// vjp, jvp, jacobian, hessian and hvp against central finite differences and closed forms.
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <cmath>

#include <dagprop/dagprop.hpp>
#include <dagprop/transforms.hpp>

namespace dagprop {
namespace {

// f(x) = sum(tanh(W x) * c) with x [3]; y(x) = tanh(W x), [2].
struct Problem {
  Graph g;
  Expr x, w, c, y, f;
  Problem() {
    x = g.parameter("x", Tensor::from({0.3, -0.7, 1.1}, Shape{3}));
    w = g.constant(Tensor::from({0.5, -1.2, 0.8, 1.5, 0.2, -0.6}, Shape{2, 3}));
    c = g.constant(Tensor::from({1.3, -0.4}, Shape{2}));
    y = tanh(matmul(w, reshape(x, {3, 1})));
    y = reshape(y, {2});
    f = sum(y * c);
  }
};

// Central differences of y (flattened) with respect to x element j.
std::vector<double> column(Problem& p, Expr out, std::int64_t j) {
  const double h = 1e-6;
  TensorView x = p.x.value();
  const double original = x.at(j);
  x.set(j, original + h);
  const Tensor plus = p.g.run(out);
  x.set(j, original - h);
  const Tensor minus = p.g.run(out);
  x.set(j, original);
  std::vector<double> d;
  for (std::int64_t i = 0; i < plus.numel(); ++i) d.push_back((plus.at(i) - minus.at(i)) / (2 * h));
  return d;
}

TEST(Transforms, JacobianMatchesFiniteDifferences) {
  Problem p;
  const Expr jac = jacobian(p.y, p.x);
  EXPECT_EQ(jac.shape(), (Shape{2, 3}));
  const Tensor value = p.g.run(jac);
  for (std::int64_t j = 0; j < 3; ++j) {
    const auto d = column(p, p.y, j);
    for (std::int64_t i = 0; i < 2; ++i) EXPECT_NEAR(value.at(i * 3 + j), d[i], 1e-7);
  }
}

TEST(Transforms, JvpIsTheJacobianTimesTheTangent) {
  Problem p;
  const Expr t = p.g.constant(Tensor::from({0.4, -1.0, 2.0}, Shape{3}));
  const Tensor forward = p.g.run(jvp(p.y, p.x, t));
  const Tensor jac = p.g.run(jacobian(p.y, p.x));
  for (std::int64_t i = 0; i < 2; ++i) {
    double expected = 0;
    for (std::int64_t j = 0; j < 3; ++j) expected += jac.at(i * 3 + j) * t.value().at(j);
    EXPECT_NEAR(forward.at(i), expected, 1e-12);
  }
}

TEST(Transforms, VjpIsTheCotangentTimesTheJacobian) {
  Problem p;
  const Expr v = p.g.constant(Tensor::from({0.7, -2.0}, Shape{2}));
  const Tensor pulled = p.g.run(vjp(p.y, {p.x}, v)[0]);
  for (std::int64_t j = 0; j < 3; ++j) {
    const auto d = column(p, p.y, j);
    EXPECT_NEAR(pulled.at(j), 0.7 * d[0] - 2.0 * d[1], 1e-7);
  }
}

TEST(Transforms, HessianAndHvpMatchFiniteDifferencesOfTheGradient) {
  Problem p;
  const Expr gradient = grad(p.f, p.x);
  const Tensor hess = p.g.run(hessian(p.f, p.x));
  EXPECT_EQ(hess.shape(), (Shape{3, 3}));
  const Expr v = p.g.constant(Tensor::from({1.0, 0.5, -0.3}, Shape{3}));
  const Tensor hv = p.g.run(hvp(p.f, p.x, v));
  std::vector<double> expected_hv(3, 0.0);
  for (std::int64_t j = 0; j < 3; ++j) {
    const auto d = column(p, gradient, j);
    for (std::int64_t i = 0; i < 3; ++i) {
      EXPECT_NEAR(hess.at(i * 3 + j), d[i], 1e-6);
      expected_hv[i] += d[i] * v.value().at(j);
    }
  }
  for (std::int64_t i = 0; i < 3; ++i) EXPECT_NEAR(hv.at(i), expected_hv[i], 1e-6);
  // Symmetric, as a Hessian of a smooth function is.
  EXPECT_NEAR(hess.at(1), hess.at(3), 1e-12);
}

TEST(Transforms, ShapeMismatchesAreErrorsNamingTheNodes) {
  Problem p;
  EXPECT_THAT([&] { jvp(p.y, p.x, p.c); },
              ::testing::ThrowsMessage<Error>(::testing::HasSubstr("jvp: the tangent")));
  EXPECT_THAT([&] { hessian(p.y, p.x); },
              ::testing::ThrowsMessage<Error>(::testing::HasSubstr("is not a scalar")));
}

}  // namespace
}  // namespace dagprop
