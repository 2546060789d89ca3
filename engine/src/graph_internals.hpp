// What the engine's own units (autodiff, executors, graph files, checks) do to a graph that its
// users do not: mark the nodes of a backward graph, record where anomaly mode stopped, check that
// a handle belongs to the graph. Private to engine/ (inline, so every library of dagprop can use
// it, shared builds included).
#pragma once

#include <map>
#include <string_view>
#include <vector>

#include <dagprop/graph.hpp>

namespace dagprop {

struct GraphInternals {
  static void mark_gradient(Graph& graph, Expr node) { graph.mark_gradient(node); }
  static void set_anomaly_node(Graph& graph, NodeId id) { graph.set_anomaly_node(id); }
  static void check_owns(const Graph& graph, Expr e, std::string_view what) {
    graph.check_owns(e, what);
  }
  static std::map<std::vector<NodeId>, std::vector<NodeId>>& gradient_cache(Graph& graph) {
    return graph.gradient_cache_;
  }
};

}  // namespace dagprop
