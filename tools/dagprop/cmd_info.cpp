// `dagprop info FILE`: what a saved graph holds: nodes by op, parameters and their sizes, inputs,
// and outputs (nodes no other node consumes).
#include <cstdio>
#include <map>
#include <memory>
#include <string>
#include <vector>

#include <dagprop/graph_io.hpp>
#include <dagprop/op_def.hpp>
#include <dagprop/parallelism.hpp>

#include "commands.hpp"
#include "model_file.hpp"

namespace dagprop::cli {
namespace {

bool is_gradient(const Graph& graph, NodeId id) {
  return has_flag(graph.node(id).flags, NodeFlags::gradient);
}

std::string type_of(const Graph& graph, NodeId id) {
  return graph.shape_of(id).to_string() + " " + std::string(dtype_name(graph.node(id).dtype));
}

std::string name_of(const Graph& graph, NodeId id) {
  const std::string name = graph.full_name_of(id);
  return name.empty() ? "#" + std::to_string(id) : name;
}

void print_op_counts(const Graph& graph) {
  std::map<std::string_view, std::pair<std::size_t, std::size_t>> counts;  // forward, gradient
  std::size_t gradient_nodes = 0;
  for (NodeId id = 0; id < graph.size(); ++id) {
    auto& [forward, gradient] = counts[graph.op_name_of(id)];
    ++(is_gradient(graph, id) ? gradient : forward);
    gradient_nodes += is_gradient(graph, id) ? 1 : 0;
  }
  std::printf("nodes: %zu (%zu forward, %zu built by grad())\n", graph.size(),
              graph.size() - gradient_nodes, gradient_nodes);
  std::printf("  %-34s %9s %9s\n", "op", "forward", "gradient");
  for (const auto& [op, count] : counts) {
    std::printf("  %-34.*s %9zu %9zu\n", static_cast<int>(op.size()), op.data(), count.first,
                count.second);
  }
}

void print_parameters(const Graph& graph) {
  std::int64_t elements = 0, bytes = 0, count = 0;
  for (NodeId id = 0; id < graph.size(); ++id) {
    if (!graph.is_parameter(id)) continue;
    ++count;
    elements += graph.shape_of(id).numel();
    bytes +=
        graph.shape_of(id).numel() * static_cast<std::int64_t>(dtype_size(graph.node(id).dtype));
  }
  std::printf("parameters: %lld, %lld elements, %lld bytes\n", static_cast<long long>(count),
              static_cast<long long>(elements), static_cast<long long>(bytes));
  for (NodeId id = 0; id < graph.size(); ++id) {
    if (!graph.is_parameter(id)) continue;
    std::printf("  %-34s %-22s %12lld\n", name_of(graph, id).c_str(), type_of(graph, id).c_str(),
                static_cast<long long>(graph.shape_of(id).numel()));
  }
}

void print_inputs(const Graph& graph) {
  std::vector<NodeId> inputs;
  for (NodeId id = 0; id < graph.size(); ++id) {
    if (graph.is_input(id)) inputs.push_back(id);
  }
  std::printf("inputs: %zu\n", inputs.size());
  for (const NodeId id : inputs) {
    const bool requires_grad = has_flag(graph.node(id).flags, NodeFlags::requires_grad);
    if (requires_grad) {
      std::printf("  %-34s %-22s requires grad\n", name_of(graph, id).c_str(),
                  type_of(graph, id).c_str());
    } else {
      std::printf("  %-34s %s\n", name_of(graph, id).c_str(), type_of(graph, id).c_str());
    }
  }
}

// Outputs of the forward graph: nodes no forward node consumes (gradient nodes consume forward
// values, but do not make them intermediate). The results of grad() are counted apart.
// Prints the forward outputs and returns them, then every node nothing consumes (forward outputs
// and gradient results together).
std::pair<std::vector<NodeId>, std::vector<NodeId>> print_outputs(const Graph& graph) {
  std::vector<char> consumed_by_forward(graph.size(), 0), consumed(graph.size(), 0);
  for (NodeId id = 0; id < graph.size(); ++id) {
    for (const NodeId input : graph.inputs_of(id)) {
      consumed[input] = 1;
      if (!is_gradient(graph, id)) consumed_by_forward[input] = 1;
    }
  }
  std::vector<NodeId> outputs, sinks;
  std::size_t gradient_results = 0;
  for (NodeId id = 0; id < graph.size(); ++id) {
    if (!consumed[id] && !graph.is_leaf(id)) sinks.push_back(id);
    if (is_gradient(graph, id)) {
      gradient_results += consumed[id] ? 0 : 1;
    } else if (!consumed_by_forward[id]) {
      outputs.push_back(id);
    }
  }
  std::printf("outputs (consumed by no forward node): %zu\n", outputs.size());
  for (const NodeId id : outputs) {
    std::printf("  %-34s %-22s op %s\n", name_of(graph, id).c_str(), type_of(graph, id).c_str(),
                std::string(graph.op_name_of(id)).c_str());
  }
  if (gradient_results > 0)
    std::printf("gradient results (gradient nodes no node consumes): %zu\n", gradient_results);
  return {outputs, sinks};
}

void print_parallelism(Graph& graph, const std::vector<NodeId>& nodes, const char* what) {
  std::vector<Expr> outputs;
  for (const NodeId id : nodes) outputs.push_back(graph.expr(id));
  std::printf("parallelism of %s:\n%s", what,
              analyze_parallelism(graph, outputs).to_string(graph).c_str());
}

void print_info(const std::string& file, const std::vector<std::string>& dims) {
  const ModelFile model = load_model_file(file, dims);
  const LoadedGraph& loaded = model.loaded;
  Graph& graph = *loaded.graph;
  if (model.onnx) {
    std::printf("%s: %s\n", file.c_str(), model.onnx_summary.c_str());
  } else {
    std::printf("graph file: %s\n", file.c_str());
  }
  print_op_counts(graph);
  print_parameters(graph);
  print_inputs(graph);
  const auto [outputs, sinks] = print_outputs(graph);
  if (!model.onnx) {
    std::printf("carried with the graph: %zu values, %zu gradients\n",
                loaded.snapshot.values.size(), loaded.snapshot.gradients.size());
  }
  if (graph.anomaly_node() != kNoNode)
    std::printf("anomaly node: %s\n", graph.describe(graph.anomaly_node()).c_str());
  // Work, span and critical path: how many threads the graph can use (analyze_parallelism).
  print_parallelism(graph, outputs, "the forward outputs");
  if (sinks.size() > outputs.size())
    print_parallelism(graph, sinks, "the outputs and their gradients");
}

}  // namespace

void add_info_command(CLI::App& app) {
  auto file = std::make_shared<std::string>();
  auto dims = std::make_shared<std::vector<std::string>>();
  auto* info = app.add_subcommand(
      "info",
      "Summarize a saved graph or an ONNX model: nodes by op, parameters, inputs and outputs");
  info->add_option("FILE", *file,
                   "Graph file written by dagprop::save_graph, or an ONNX model (.onnx)")
      ->required();
  info->add_option("--dim", *dims,
                   "NAME=N: the value of a symbolic dimension of an ONNX model's inputs");
  info->callback([file, dims] { print_info(*file, *dims); });
}

}  // namespace dagprop::cli
