// What the engine's own units (autodiff, executors, graph files, checks) do to a graph that its
// users do not: mark the nodes of a backward graph, record where anomaly mode stopped, check that
// a handle belongs to the graph, compile and run its plans directly (plan.hpp), and reach the plan
// behind a Function (the engine's tests inspect its steps and tasks). Private to engine/ (inline,
// so every library of dagprop can use it, shared builds included).
#pragma once

#include <map>
#include <string_view>
#include <vector>

#include <dagprop/function.hpp>
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
  // The graph's cached plan for these outputs (what run() uses), and running a plan with feeds.
  static Plan& plan_for(Graph& graph, const std::vector<Expr>& outputs,
                        const std::vector<Expr>& keep = {}) {
    return graph.cached_plan(outputs, keep);
  }
  static void run_plan(Graph& graph, Plan& plan, const std::vector<Feed>& feeds = {}) {
    graph.run_plan(plan, feeds);
  }
  static Executor& executor(Graph& graph) { return graph.executor(); }
  static void set_class_labels(Graph& graph, NodeId input, std::int64_t num_classes) {
    graph.set_class_labels(input, num_classes);
  }
};

struct FunctionInternals {
  static const Plan& plan(const Function& function) { return *function.plan_; }
  static Plan& plan(Function& function) { return *function.plan_; }
};

}  // namespace dagprop
