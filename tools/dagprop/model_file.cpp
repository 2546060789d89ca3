// Reading graph files and ONNX models for the commands that inspect them.
#include "model_file.hpp"

#include <dagprop/error.hpp>
#include <dagprop/npy.hpp>
#ifdef DAGPROP_HAVE_ONNX
#include <dagprop/onnx.hpp>
#endif

namespace dagprop::cli {

bool is_onnx_path(const std::string& path) {
  return path.size() > 5 && path.compare(path.size() - 5, 5, ".onnx") == 0;
}

ModelFile load_model_file(const std::string& path, const std::vector<std::string>& dims) {
  ModelFile model;
  if (!is_onnx_path(path)) {
    if (!dims.empty()) throw Error("--dim applies to ONNX models (FILE.onnx) only");
    model.loaded = load_graph(path);
    return model;
  }
#ifdef DAGPROP_HAVE_ONNX
  OnnxImportOptions options;
  for (const std::string& d : dims) {
    const auto eq = d.find('=');
    std::size_t used = 0;
    long long value = -1;
    try {
      value = std::stoll(d.substr(eq + 1), &used);
    } catch (const std::exception&) {
      used = 0;
    }
    if (eq == std::string::npos || eq == 0 || used == 0 || used != d.size() - eq - 1 || value < 0) {
      throw Error("--dim '" + d + "': give NAME=N with a whole number N >= 0 (e.g. --dim batch=8)");
    }
    options.dim_values[d.substr(0, eq)] = value;
  }
  OnnxModel onnx = load_onnx(path, options);
  model.onnx = true;
  model.onnx_summary = "ONNX model: producer " +
                       (onnx.producer.empty() ? std::string("(none)") : onnx.producer) +
                       ", opset " + std::to_string(onnx.opset);
  model.inputs = onnx.inputs;
  model.index_inputs = onnx.index_inputs;
  model.outputs = onnx.outputs;
  model.loaded.graph = std::move(onnx.graph);
  return model;
#else
  throw Error(path +
              ": this dagprop was built without ONNX support (dagprop::onnx needs "
              "libonnx-dev at configure time)");
#endif
}

void run_with_inputs(ModelFile& model, const std::vector<std::string>& inputs) {
  if (!model.onnx)
    throw Error("--input applies to ONNX models (FILE.onnx); graph files carry their values");
  if (model.outputs.empty()) throw Error("the model has no outputs to run");
  Graph& g = *model.loaded.graph;
  std::vector<Tensor> values;
  std::vector<Feed> feeds;
  std::vector<char> fed(model.inputs.size(), 0);
  for (const std::string& spec : inputs) {
    const auto eq = spec.find('=');
    std::size_t k = 0;
    std::string file = spec;
    if (eq == std::string::npos) {
      if (model.inputs.size() != 1) {
        throw Error("--input " + spec + ": the model has " + std::to_string(model.inputs.size()) +
                    " inputs; name each one, --input NAME=FILE.npy");
      }
    } else {
      const std::string name = spec.substr(0, eq);
      file = spec.substr(eq + 1);
      while (k < model.inputs.size() && model.inputs[k].name() != name) ++k;
      if (k == model.inputs.size()) {
        std::string names;
        for (const Expr& in : model.inputs) names += (names.empty() ? "" : ", ") + in.name();
        throw Error("--input " + spec + ": the model has no input '" + name + "'; its inputs are " +
                    names);
      }
    }
    const Expr input = model.inputs[k];
    Tensor value = load_npy(file, input.dtype(), input.dtype());
    if (!(value.shape() == input.shape())) {
      throw Error("--input " + spec + ": the array has shape " + value.shape().to_string() +
                  ", input '" + input.name() + "' needs " + input.shape().to_string());
    }
    fed[k] = 1;
    values.push_back(std::move(value));
  }
  for (std::size_t k = 0; k < model.inputs.size(); ++k) {
    if (!fed[k])
      throw Error("input '" + model.inputs[k].name() + "' is not given: add --input " +
                  model.inputs[k].name() + "=FILE.npy");
  }
  std::size_t v = 0;
  for (const std::string& spec : inputs) {
    const auto eq = spec.find('=');
    std::size_t k = 0;
    if (eq != std::string::npos) {
      while (model.inputs[k].name() != spec.substr(0, eq)) ++k;
    }
    feeds.push_back({model.inputs[k], values[v++]});
  }
  // Indices (integer ONNX inputs) cannot be differentiated; every other input gets its gradient.
  g.set_keep_values(true);
  const Expr y = model.outputs[0];
  for (std::size_t k = 0; k < model.inputs.size(); ++k) {
    if (!model.index_inputs[k]) g.set_requires_grad(model.inputs[k]);
  }
  g.backward(y, Tensor::full(y.shape(), 1.0, y.dtype()), feeds);
}

}  // namespace dagprop::cli
