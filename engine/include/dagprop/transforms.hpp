// Function transforms over graphs, built on gradients being nodes: vjp, jvp (forward mode by the
// double-VJP construction), jacobian, hessian and hvp. Each returns expressions of the same graph
// that can be run, drawn and differentiated again.
#pragma once

#include <vector>

#include <dagprop/export.hpp>
#include <dagprop/expr.hpp>

DAGPROP_API_BEGIN
namespace dagprop {

// v^T dy/dx for each x of wrt; v has y's shape.
std::vector<Expr> vjp(Expr y, const std::vector<Expr>& wrt, Expr v);

// dy/dx t, of y's shape; t has x's shape. The double-VJP construction: u -> vjp(y, x, u) is linear
// in u, and its own vjp with t is the jvp. u is a zero constant of y's shape that the result
// refers to but whose value does not matter; the cost is about two backward passes.
Expr jvp(Expr y, Expr x, Expr t);

// The full Jacobian, of shape y.shape ++ x.shape: one vjp per element of y (reverse mode), stacked.
// Meant for small y; the graph grows by one backward graph per element.
Expr jacobian(Expr y, Expr x);

// The Hessian of a scalar f, of shape x.shape ++ x.shape: the jacobian of grad(f, x).
Expr hessian(Expr f, Expr x);

// H v for a scalar f, of x's shape: grad(sum(grad(f, x) * v), x).
Expr hvp(Expr f, Expr x, Expr v);

}  // namespace dagprop
DAGPROP_API_END
