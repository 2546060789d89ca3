// The gradient graph that backward() builds once per loss and reruns. Private to engine/.
#pragma once

#include <cstdint>
#include <memory>
#include <vector>

#include <dagprop/graph.hpp>
#include "plan.hpp"

namespace dagprop {

struct Graph::BackwardGraph {
  std::vector<Expr> targets;             // parameters and inputs that require a gradient
  std::vector<Expr> gradients;           // their gradient nodes, in the same order
  Expr seed_input;                       // fed with the caller's seed; invalid for a scalar loss
  std::vector<Expr> retained;            // inner nodes whose gradients are stored (retain_grad)
  std::vector<Expr> retained_gradients;  // their gradient nodes
  bool built = false;         // the gradient nodes exist for these targets and retained nodes
  std::vector<Expr> outputs;  // the loss, the gradients, the retained gradients
  // The plan that computes them, compiled for these kept nodes and keep-values setting. Owned here,
  // not in the graph's plan cache: its gradient outputs are bound to the targets' .grad() storage,
  // which a run() of the same outputs must not write to.
  std::unique_ptr<Plan> plan;
  std::vector<NodeId> plan_keep;
  bool plan_keeps_all = false;
  // Per target: whether its gradient node can be bound to the target's .grad() (a computed node
  // that is no other target's gradient), and the storage it is bound to now (null: the workspace).
  std::vector<std::uint8_t> bindable;
  std::vector<std::byte*> bound_to;
};

}  // namespace dagprop
