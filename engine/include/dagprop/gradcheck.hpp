// Numerical gradient checks: the whole graph against central finite differences (like
// torch.autograd.gradcheck), and each node's own gradient rule where it sits in the graph.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include <dagprop/export.hpp>
#include <dagprop/graph.hpp>

DAGPROP_API_BEGIN
namespace dagprop {

struct GradcheckOptions {
  double eps = 1e-6;   // finite-difference step
  double atol = 1e-5;  // |analytic - numeric| <= atol + rtol * |numeric|
  double rtol = 1e-3;
  std::uint64_t seed = 0;  // for the random projection of a non-scalar output
};

struct GradcheckResult {
  bool ok = true;
  double max_abs_error = 0;  // over all checked elements
  std::string worst_node;    // description of the node holding the worst element
  std::int64_t worst_index = -1;
  double analytic = 0, numeric = 0;  // at the worst element
  std::int64_t elements_checked = 0;
  std::string report() const;
};

// Compares grad(y, wrt) with central differences of y. y and every wrt node must be float64; wrt
// nodes must be parameters or inputs (they are perturbed in place and restored). A non-scalar y is
// projected on a fixed random vector r: the check is then of r^T dy/dwrt.
GradcheckResult gradcheck(Expr y, const std::vector<Expr>& wrt, const std::vector<Feed>& feeds = {},
                          GradcheckOptions options = {});

struct LocalGradientFailure {
  NodeId node = kNoNode;
  std::string reason;  // which input, the worst element, analytic and numeric values
};

// Runs the graph, then checks every op node that `output` depends on in isolation: its gradient
// rule at the node's actual input values against finite differences of its own forward kernel (in
// float64). Returns the nodes that fail; empty when every rule is right.
std::vector<LocalGradientFailure> check_local_gradients(Expr output,
                                                        const std::vector<Feed>& feeds = {},
                                                        GradcheckOptions options = {});

}  // namespace dagprop
DAGPROP_API_END
