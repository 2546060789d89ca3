// vjp, jvp, jacobian, hessian and hvp as compositions of grad().
#include <dagprop/transforms.hpp>

#include <dagprop/autodiff.hpp>
#include <dagprop/error.hpp>
#include <dagprop/graph.hpp>
#include <dagprop/ops.hpp>

namespace dagprop {
namespace {

void check_same_shape(Expr a, Expr b, const char* what, const char* transform) {
  if (!(a.shape() == b.shape())) {
    throw Error(std::string(transform) + ": " + what + " " + b.graph().describe(b.id()) +
                " must have the shape of " + a.graph().describe(a.id()));
  }
}

std::vector<std::int64_t> joined_dims(const Shape& a, const Shape& b) {
  std::vector<std::int64_t> dims(a.dims().begin(), a.dims().end());
  dims.insert(dims.end(), b.dims().begin(), b.dims().end());
  return dims;
}

}  // namespace

std::vector<Expr> vjp(Expr y, const std::vector<Expr>& wrt, Expr v) {
  check_same_shape(y, v, "the cotangent", "vjp");
  return grad(y, wrt, v);
}

Expr jvp(Expr y, Expr x, Expr t) {
  check_same_shape(x, t, "the tangent", "jvp");
  Graph& g = y.graph();
  const Expr u = g.constant(Tensor::zeros(y.shape(), y.dtype()));
  const Expr pulled_back = grad(y, x, u);  // u^T dy/dx, linear in u
  return grad(pulled_back, u, t);
}

Expr jacobian(Expr y, Expr x) {
  const std::int64_t n = y.shape().numel();
  if (n > 4096) {
    throw Error("jacobian: " + y.graph().describe(y.id()) + " has " + std::to_string(n) +
                " elements, one backward graph each; use vjp or jvp for large outputs");
  }
  Graph& g = y.graph();
  std::vector<Expr> rows;
  rows.reserve(static_cast<std::size_t>(n));
  for (std::int64_t i = 0; i < n; ++i) {
    Tensor basis(y.shape(), y.dtype());
    basis.set(i, 1.0);
    rows.push_back(grad(y, x, g.constant(basis)));
  }
  return reshape(stack(rows, 0), joined_dims(y.shape(), x.shape()));
}

Expr hessian(Expr f, Expr x) {
  if (!f.shape().is_scalar()) {
    throw Error("hessian: " + f.graph().describe(f.id()) +
                " is not a scalar; take the jacobian of a gradient instead");
  }
  return jacobian(grad(f, x), x);
}

Expr hvp(Expr f, Expr x, Expr v) {
  check_same_shape(x, v, "the vector", "hvp");
  return grad(sum(grad(f, x) * v), x);
}

}  // namespace dagprop
