// Work/span analysis: a longest-path relaxation over the Boost.Graph topological order.
#include <dagprop/parallelism.hpp>

#include <algorithm>
#include <cstdio>

#include <dagprop/error.hpp>
#include <dagprop/graph.hpp>
#include <dagprop/op_def.hpp>
#include "graph_internals.hpp"
#include "plan.hpp"

namespace dagprop {
namespace {

std::string format_number(double value) {
  char text[32];
  std::snprintf(text, sizeof text, "%.4g", value);
  return text;
}

double elementwise_work(const OpDef& op, std::int64_t largest_numel) {
  return static_cast<double>(largest_numel) * op.cost_per_element * kNanosecondsPerCostUnit;
}

}  // namespace

double estimated_work(const Graph& graph, NodeId node) {
  if (graph.is_leaf(node)) return 0.0;
  const OpDef& op = graph.op_of(node);
  if (op.work != nullptr) {  // the rule reads shapes; no operand is allocated otherwise
    std::vector<KernelArg> operands;
    for (const NodeId input : graph.inputs_of(node))
      operands.push_back({nullptr, &graph.shape_of(input)});
    operands.push_back({nullptr, &graph.shape_of(node)});
    return op.work(operands);
  }
  std::int64_t largest = graph.shape_of(node).numel();
  for (const NodeId input : graph.inputs_of(node))
    largest = std::max(largest, graph.shape_of(input).numel());
  return elementwise_work(op, largest);
}

double estimated_work(const OpDef& op, std::span<const KernelArg> operands) {
  if (op.work != nullptr) return op.work(operands);
  std::int64_t largest = 0;
  for (const KernelArg& operand : operands) largest = std::max(largest, operand.numel());
  return elementwise_work(op, largest);
}

ParallelismReport analyze_parallelism(const Graph& graph, const std::vector<Expr>& outputs) {
  std::vector<NodeId> roots;
  roots.reserve(outputs.size());
  for (const Expr& e : outputs) {
    GraphInternals::check_owns(graph, e, "analyze_parallelism");
    roots.push_back(e.id());
  }
  const std::vector<NodeId> order = topological_order(graph, roots);

  // finish[v]: the heaviest path that ends with v, v included. Inputs come before their consumers
  // in `order`, so one forward sweep relaxes every edge after its source is final (the DAG
  // shortest-path relaxation of Boost's dag_shortest_paths, with max instead of min).
  std::vector<std::uint32_t> position(graph.size(), kNoNode);
  for (std::size_t i = 0; i < order.size(); ++i) position[order[i]] = static_cast<std::uint32_t>(i);
  std::vector<double> finish(order.size(), 0.0);
  std::vector<std::uint32_t> heaviest_input(order.size(), kNoNode);

  ParallelismReport report;
  std::uint32_t path_end = kNoNode;
  for (std::size_t i = 0; i < order.size(); ++i) {
    const NodeId id = order[i];
    if (graph.is_leaf(id)) continue;
    double longest_input = 0.0;
    for (const NodeId input : graph.inputs_of(id)) {
      const std::uint32_t p = position[input];
      // Ties keep the first input: the same graph always reports the same path.
      if (!graph.is_leaf(input) && (heaviest_input[i] == kNoNode || finish[p] > longest_input)) {
        longest_input = finish[p];
        heaviest_input[i] = p;
      }
    }
    const double work = estimated_work(graph, id);
    finish[i] = longest_input + work;
    report.work += work;
    ++report.num_nodes;
    if (path_end == kNoNode || finish[i] > finish[path_end])
      path_end = static_cast<std::uint32_t>(i);
  }
  if (path_end == kNoNode) return report;

  report.span = finish[path_end];
  for (std::uint32_t p = path_end; p != kNoNode; p = heaviest_input[p])
    report.critical_path.push_back(order[p]);
  std::reverse(report.critical_path.begin(), report.critical_path.end());
  if (report.span > 0) report.parallelism = report.work / report.span;
  return report;
}

std::string ParallelismReport::to_string(const Graph& graph) const {
  std::string text = "estimated work " + format_number(work) + " ns, span " + format_number(span) +
                     " ns, parallelism " + format_number(parallelism) + " over " +
                     std::to_string(num_nodes) +
                     " op nodes\ncritical path: " + std::to_string(critical_path.size()) + " nodes";
  if (!critical_path.empty()) {
    text += ", from " + graph.describe(critical_path.front()) + " to " +
            graph.describe(critical_path.back());
  }
  return text + "\n";
}

}  // namespace dagprop
