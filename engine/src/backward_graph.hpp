// The gradient graph that backward() builds once per loss and reruns. Private to engine/.
#pragma once

#include <vector>

#include <dagprop/graph.hpp>
#include <dagprop/plan.hpp>

namespace dagprop {

struct Graph::BackwardGraph {
  std::vector<Expr> targets;    // parameters and inputs that require a gradient
  std::vector<Expr> gradients;  // their gradient nodes, in the same order
  Expr seed_input;              // fed with the caller's seed; invalid for a scalar loss
  std::vector<Expr> outputs;    // the loss, then the gradients
  // The plan that computes them, compiled for these kept nodes and keep-values setting.
  Plan* plan = nullptr;
  std::vector<NodeId> plan_keep;
  bool plan_keeps_all = false;
};

}  // namespace dagprop
