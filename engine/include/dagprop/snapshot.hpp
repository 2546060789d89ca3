// Snapshot: copies of node values and gradients kept beside a graph. Pictures draw them and graph
// files carry them; the gradient of a loss with respect to an intermediate node lives only here.
#pragma once

#include <optional>
#include <unordered_map>
#include <vector>

#include <dagprop/export.hpp>
#include <dagprop/graph.hpp>
#include <dagprop/tensor.hpp>

DAGPROP_API_BEGIN
namespace dagprop {

struct Snapshot {
  std::unordered_map<NodeId, Tensor> values;
  std::unordered_map<NodeId, Tensor> gradients;  // d loss / d node

  const Tensor* value(NodeId id) const;  // null when the snapshot holds none
  const Tensor* gradient(NodeId id) const;
};

// Runs `loss` (a scalar) with the feeds and returns the value of every node it depends on and the
// gradient of loss with respect to each of them (micrograd's picture of a graph). Nodes that only
// feed inputs an op cannot differentiate (class labels) get no gradient. Builds a new gradient
// graph on each call: call it once for a picture, not inside a training loop.
Snapshot trace_gradients(Expr loss, const std::vector<Feed>& feeds = {});

// A node's value as pictures and files see it: the snapshot's if it holds one (snapshot may be
// null), else the graph's (a leaf's own, or what the last run left); nullopt when neither has one.
std::optional<TensorView> latest_value(const Graph& graph, const Snapshot* snapshot, NodeId id);
// Likewise for gradients: the snapshot's, else the one the last backward() stored.
std::optional<TensorView> latest_gradient(const Graph& graph, const Snapshot* snapshot, NodeId id);

}  // namespace dagprop
DAGPROP_API_END
