// Reading a trained classifier from its graph file and running it over a dataset.
#include "saved_model.hpp"

#include <algorithm>
#include <cstring>

#include <dagprop/error.hpp>

namespace dagprop::cli {
namespace {

NodeId find_named(const Graph& graph, std::string_view name) {
  for (NodeId id = 0; id < graph.size(); ++id) {
    if (graph.full_name_of(id) == name) return id;
  }
  return kNoNode;
}

}  // namespace

SavedClassifier load_classifier(const std::string& path) {
  SavedClassifier model;
  model.path = path;
  model.loaded = load_graph(path);
  Graph& graph = *model.loaded.graph;
  const NodeId x = find_named(graph, "x"), loss = find_named(graph, "loss");
  auto not_a_classifier = [&](const std::string& what) {
    throw Error("model '" + path + "' is a graph file but not a classifier written by dagprop " +
                "train: " + what + "; give the model.json of a dagprop train run");
  };
  if (x == kNoNode || !graph.is_input(x)) not_a_classifier("it has no input named 'x'");
  if (loss == kNoNode || graph.inputs_of(loss).size() != 2) {
    not_a_classifier("it has no node 'loss' of two operands (logits, labels)");
  }
  const NodeId logits = graph.inputs_of(loss)[0];
  const Shape x_shape = graph.shape_of(x), logits_shape = graph.shape_of(logits);
  if (x_shape.rank() != 2 || logits_shape.rank() != 2 || logits_shape[0] != x_shape[0] ||
      x_shape[0] < 1 || logits_shape[1] < 1) {
    not_a_classifier("its input 'x' is " + x_shape.to_string() + " and its logits " +
                     logits_shape.to_string() + ", not [batch, features] and [batch, classes]");
  }
  model.x = graph.expr(x);
  model.logits = graph.expr(logits);
  model.batch = x_shape[0];
  model.features = x_shape[1];
  model.classes = logits_shape[1];
  return model;
}

std::vector<double> classify(SavedClassifier& model, const data::Dataset& dataset) {
  Graph& graph = *model.loaded.graph;
  Function logits_of = graph.compile({model.logits});
  const std::int64_t n = dataset.size(), width = model.features;
  Tensor batch(Shape{model.batch, width}, DType::f32);
  std::vector<double> logits(static_cast<std::size_t>(n * model.classes));
  const float* rows = dataset.features.data<float>();
  for (std::int64_t first = 0; first < n; first += model.batch) {
    const std::int64_t count = std::min(model.batch, n - first);
    float* out = batch.data<float>();
    std::memcpy(out, rows + first * width, static_cast<std::size_t>(count * width) * sizeof(float));
    std::fill(out + count * width, out + model.batch * width, 0.0F);
    logits_of.run({{model.x, batch}});
    const TensorView values = logits_of.value(model.logits);
    for (std::int64_t i = 0; i < count * model.classes; ++i)
      logits[static_cast<std::size_t>(first * model.classes + i)] = values.at(i);
  }
  return logits;
}

void add_model_data_options(CLI::App& command, ModelDataOptions& o) {
  command.add_option("MODEL", o.model, "model.json written by dagprop train")->required();
  add_data_options(command, o.data);
  command
      .add_option("--split", o.split,
                  "Which examples: test, train or validation (as dagprop train split them "
                  "with the same data options)")
      ->capture_default_str()
      ->check(CLI::IsMember({"test", "train", "validation"}));
}

data::Dataset load_split(const ModelDataOptions& o, const SavedClassifier& model) {
  LoadedData d = load_data(o.data);
  data::Dataset chosen;
  if (o.split == "train") {
    chosen = std::move(d.train);
  } else if (o.split == "validation") {
    if (!d.validation) {
      throw Error(
          "--split validation: no validation set; give the --validation share the model "
          "was trained with");
    }
    chosen = std::move(*d.validation);
  } else {
    chosen = std::move(d.test);
  }
  if (chosen.num_features() != model.features) {
    throw Error("model '" + model.path + "' takes " + std::to_string(model.features) +
                " features per example, but " + chosen.name + " has " +
                std::to_string(chosen.num_features()) +
                "; give the --data (and data options) it was trained on");
  }
  if (chosen.num_classes > model.classes) {
    throw Error("model '" + model.path + "' tells " + std::to_string(model.classes) +
                " classes apart, but " + chosen.name + " has labels up to " +
                std::to_string(chosen.num_classes - 1) + "; give the data it was trained on");
  }
  if (chosen.size() == 0) throw Error("the " + o.split + " set of " + chosen.name + " is empty");
  return chosen;
}

std::int64_t predicted_class(const std::vector<double>& logits, std::int64_t classes,
                             std::int64_t row) {
  const double* r = logits.data() + row * classes;
  std::int64_t best = 0;
  for (std::int64_t k = 1; k < classes; ++k) {
    if (r[k] > r[best]) best = k;
  }
  return best;
}

}  // namespace dagprop::cli
