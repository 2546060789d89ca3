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

// The version this dagprop writes, and the newest it reads (it reads every older one too).
// Version 2 added a CRC-32 to every tensor; version 3 writes attributes by the names their op
// declares (OpDef::attributes) instead of the raw OpAttrs fields.
inline constexpr int kGraphFileVersion = 3;

struct SaveOptions {
  bool values = false;     // the latest value of every input and op node that has one
  bool gradients = false;  // the latest gradient of every node that has one
  // Values and gradients beside the graph's own (trace_gradients()); consulted first.
  const Snapshot* snapshot = nullptr;
};

// Limits that keep a hostile or broken file from asking for unbounded time or memory; each is
// checked before the work it guards (docs/file-format.md lists every limit).
struct LoadOptions {
  std::int64_t max_elements = std::int64_t{1} << 32;  // of any one shape, leaf or computed
  std::size_t max_file_bytes = std::size_t{1} << 30;
  std::size_t max_name_bytes = 4096;  // of a node's own name (a scope path has the same bound)
};

struct LoadedGraph {
  std::unique_ptr<Graph> graph;
  Snapshot snapshot;  // the values and gradients the file carried (pass it to to_dot)
};

std::string write_graph(const Graph& graph, const SaveOptions& options = {});
// Writes the file in blocks; a failed write (a full disk) throws dagprop::Error naming the file.
void save_graph(const Graph& graph, const std::string& path, const SaveOptions& options = {});

// Rebuilds a graph from file contents. Every problem (bad JSON, a duplicate key, a wrong type, an
// unknown op, an input that refers to a later node, shapes that do not agree, sizes over the
// limits, a tensor whose CRC-32 does not match) throws dagprop::Error naming the node and field;
// nothing is trusted. Time and memory are linear in the file's size: the file is parsed as a
// stream, one node at a time (load_graph never holds the file's text).
LoadedGraph read_graph(std::string_view text, const LoadOptions& options = {});
LoadedGraph load_graph(const std::string& path, const LoadOptions& options = {});

}  // namespace dagprop
DAGPROP_API_END
