// The model files `dagprop info` and `dagprop dot` read: dagprop graph files, and ONNX models
// (FILE.onnx) where dagprop was built with dagprop::onnx; inputs for them from .npy files.
#pragma once

#include <string>
#include <vector>

#include <dagprop/graph_io.hpp>

namespace dagprop::cli {

struct ModelFile {
  LoadedGraph loaded;  // the graph (and, for graph files, the values they carry)
  bool onnx = false;
  std::string onnx_summary;        // "ONNX model: producer pytorch 1.13, opset 17"
  std::vector<Expr> inputs;        // ONNX graph inputs, in the model's order
  std::vector<bool> index_inputs;  // per input: integer indices (not differentiable)
  std::vector<Expr> outputs;       // ONNX graph outputs
};

bool is_onnx_path(const std::string& path);

// `dims` are "name=N" values of symbolic ONNX dimensions.
ModelFile load_model_file(const std::string& path, const std::vector<std::string>& dims = {});

// Feeds from "--input NAME=FILE.npy" (or "FILE.npy" for a model of one input), each read in the
// input's dtype and checked against its shape, then one forward and backward run (the gradient of
// the sum of the first output), every value kept for the picture. Marks float inputs as
// requiring gradients.
void run_with_inputs(ModelFile& model, const std::vector<std::string>& inputs);

}  // namespace dagprop::cli
