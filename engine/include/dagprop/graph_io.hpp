// Graph files: save a graph (structure, names, scopes, flags, parameter and constant values, and
// optionally the latest values and gradients) and load it back through the public Graph API, so
// every shape rule checks the file again. The format is described in docs/file-format.md.
#pragma once

#include <cstddef>
#include <cstdint>
#include <memory>
#include <string>
#include <string_view>

#include <dagprop/export.hpp>
#include <dagprop/graph.hpp>
#include <dagprop/snapshot.hpp>

DAGPROP_API_BEGIN
namespace dagprop {

// The version this dagprop writes, and the newest it reads.
inline constexpr int kGraphFileVersion = 1;

struct SaveOptions {
  bool values = false;     // the latest value of every input and op node that has one
  bool gradients = false;  // the latest gradient of every node that has one
  // Values and gradients beside the graph's own (trace_gradients()); consulted first.
  const Snapshot* snapshot = nullptr;
};

// Limits that keep a hostile or broken file from asking for unbounded memory.
struct LoadOptions {
  std::int64_t max_elements = std::int64_t{1} << 32;  // of any one shape, leaf or computed
  std::size_t max_file_bytes = std::size_t{1} << 30;
};

struct LoadedGraph {
  std::unique_ptr<Graph> graph;
  Snapshot snapshot;  // the values and gradients the file carried (pass it to to_dot)
};

std::string write_graph(const Graph& graph, const SaveOptions& options = {});
void save_graph(const Graph& graph, const std::string& path, const SaveOptions& options = {});

// Rebuilds a graph from file contents. Every problem (bad JSON, a wrong type, an unknown op, an
// input that refers to a later node, shapes that do not agree, sizes over the limits) throws
// dagprop::Error naming the node and field; nothing is trusted.
LoadedGraph read_graph(std::string_view text, const LoadOptions& options = {});
LoadedGraph load_graph(const std::string& path, const LoadOptions& options = {});

}  // namespace dagprop
DAGPROP_API_END
