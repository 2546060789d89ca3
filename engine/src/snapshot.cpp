// Snapshots of values and gradients, and the gradient of a loss with respect to every node.
#include <dagprop/snapshot.hpp>

#include <dagprop/autodiff.hpp>
#include <dagprop/op_def.hpp>
#include "graph_internals.hpp"
#include "plan.hpp"

namespace dagprop {

const Tensor* Snapshot::value(NodeId id) const {
  const auto it = values.find(id);
  return it == values.end() ? nullptr : &it->second;
}

const Tensor* Snapshot::gradient(NodeId id) const {
  const auto it = gradients.find(id);
  return it == gradients.end() ? nullptr : &it->second;
}

Snapshot trace_gradients(Expr loss, const std::vector<Feed>& feeds) {
  Graph& graph = loss.graph();
  const std::vector<NodeId> order = topological_order(graph, {loss.id()});
  // grad() refuses to differentiate through an input an op declares non-differentiable, so the
  // nodes feeding such an input, and everything they depend on, are left out. The reverse order
  // visits every consumer before its inputs.
  std::vector<bool> excluded(graph.size(), false);
  for (auto it = order.rbegin(); it != order.rend(); ++it) {
    const NodeId id = *it;
    const std::uint32_t nondifferentiable = graph.op_of(id).nondifferentiable_inputs;
    const auto inputs = graph.inputs_of(id);
    for (std::size_t slot = 0; slot < inputs.size(); ++slot) {
      if (excluded[id] || (nondifferentiable >> slot & 1U)) excluded[inputs[slot]] = true;
    }
  }
  std::vector<Expr> wrt;
  for (const NodeId id : order) {
    if (!excluded[id]) wrt.push_back(graph.expr(id));
  }
  const std::vector<Expr> gradients = grad(loss, wrt);
  // The loss with its gradients, keeping the value of every node the loss depends on.
  std::vector<Expr> outputs{loss};
  outputs.insert(outputs.end(), gradients.begin(), gradients.end());
  std::vector<Expr> keep;
  keep.reserve(order.size());
  for (const NodeId id : order) keep.push_back(graph.expr(id));
  Plan& plan = GraphInternals::plan_for(graph, outputs, keep);
  GraphInternals::run_plan(graph, plan, feeds);

  Snapshot snapshot;
  for (const NodeId id : order) snapshot.values.emplace(id, Tensor(plan.value(id)));
  for (std::size_t i = 0; i < wrt.size(); ++i)
    snapshot.gradients.emplace(wrt[i].id(), Tensor(plan.value(gradients[i].id())));
  return snapshot;
}

std::optional<TensorView> latest_value(const Graph& graph, const Snapshot* snapshot, NodeId id) {
  if (snapshot != nullptr) {
    if (const Tensor* stored = snapshot->value(id)) return stored->view();
  }
  if (graph.has_value(id)) return graph.value(id);
  return std::nullopt;
}

std::optional<TensorView> latest_gradient(const Graph& graph, const Snapshot* snapshot, NodeId id) {
  if (snapshot != nullptr) {
    if (const Tensor* stored = snapshot->gradient(id)) return stored->view();
  }
  if (graph.has_grad(id)) return graph.grad(id);
  return std::nullopt;
}

}  // namespace dagprop
