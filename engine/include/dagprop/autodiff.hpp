// Reverse-mode autodiff that writes gradients as new nodes of the same graph.
#pragma once

#include <vector>

#include <dagprop/export.hpp>
#include <dagprop/expr.hpp>

DAGPROP_API_BEGIN
namespace dagprop {

// Gradients of y with respect to each node in `wrt`, as expressions of y's graph (run them, draw
// them, differentiate them again). y must be a scalar unless a seed of y's shape is given (then the
// result is the vector-Jacobian product seed^T dy/dwrt). A node y does not depend on gets a zero
// constant. Contributions from several consumers are summed in a fixed order (reverse topological,
// then input position), so the same graph always gives the same bits. Asking again for the same
// y, wrt and seed returns the nodes built the first time: the graph does not grow.
std::vector<Expr> grad(Expr y, const std::vector<Expr>& wrt, Expr seed = {});
Expr grad(Expr y, Expr wrt, Expr seed = {});

// The one way a gradient contribution is added to what a node already received: it checks that the
// shapes agree and adds in the order it is called.
Expr accumulate_gradient(Expr existing, Expr contribution, NodeId node);

}  // namespace dagprop
DAGPROP_API_END
