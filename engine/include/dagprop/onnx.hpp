// ONNX models in and out: read a model that torch.onnx.export wrote into a dagprop graph
// (initializers become parameters named as in the model, graph inputs become inputs), and write a
// dagprop forward graph as an ONNX model. Built on Debian's libonnx (its protobuf classes); the
// supported operators are one table, listed by onnx_supported_ops() and docs/onnx.md.
#pragma once

#include <cstddef>
#include <cstdint>
#include <map>
#include <memory>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include <dagprop/export.hpp>
#include <dagprop/graph.hpp>

DAGPROP_API_BEGIN
namespace dagprop {

// Limits that keep a hostile or broken file from asking for unbounded time or memory; each is
// checked before the work it guards.
struct OnnxImportOptions {
  std::size_t max_file_bytes = std::size_t{1} << 30;
  std::int64_t max_elements = std::int64_t{1} << 28;  // of any one tensor, stored or computed
  std::size_t max_nodes = std::size_t{1} << 20;
  // Values of symbolic dimensions ("batch"), for inputs exported with dynamic axes.
  std::map<std::string, std::int64_t, std::less<>> dim_values;
};

struct OnnxModel {
  std::unique_ptr<Graph> graph;
  std::vector<Expr> inputs;  // the graph inputs, in the model's order (named as in the model)
  // Per input: an integer tensor of the model (indices), fed as whole numbers in the model's
  // float dtype and not differentiable.
  std::vector<bool> index_inputs;
  std::vector<Expr> outputs;  // the graph outputs, in the model's order
  std::vector<std::string> output_names;
  std::int64_t opset = 0;  // of the default ("ai.onnx") domain
  std::string producer;    // "pytorch 1.13.1"
};

// Every problem (not a model, an unsupported operator, attribute or opset, a missing or malformed
// tensor, an undefined name, shapes that do not agree, sizes over the limits) throws
// dagprop::Error naming the node (its name and operator) and what to do.
OnnxModel read_onnx(std::string_view bytes, const OnnxImportOptions& options = {});
OnnxModel load_onnx(const std::string& path, const OnnxImportOptions& options = {});

struct OnnxExportOptions {
  std::string graph_name = "dagprop";
  // Names given to outputs (default "output0", "output1", ...); as many as the outputs if given.
  std::vector<std::string> output_names;
};

// The forward graph that computes `outputs` as an ONNX model at opset kOnnxExportOpset:
// parameters and constants become initializers, inputs graph inputs; nodes are named after the
// dagprop nodes. An op without an ONNX form throws dagprop::Error naming the node.
inline constexpr std::int64_t kOnnxExportOpset = 17;
std::string write_onnx(const Graph& graph, const std::vector<Expr>& outputs,
                       const OnnxExportOptions& options = {});
void save_onnx(const Graph& graph, const std::vector<Expr>& outputs, const std::string& path,
               const OnnxExportOptions& options = {});

// One row of the importer's operator table.
struct OnnxOpSupport {
  std::string_view onnx_op;
  std::int64_t min_opset;
  std::int64_t max_opset;
  std::string_view dagprop_ops;  // what it becomes
  std::string_view notes;        // attributes and limits
};
std::span<const OnnxOpSupport> onnx_supported_ops();
// The table as docs/onnx.md holds it (between its markers).
std::string onnx_ops_markdown();

}  // namespace dagprop
DAGPROP_API_END
