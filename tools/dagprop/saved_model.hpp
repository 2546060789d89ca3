// What `dagprop eval` and `dagprop predict` share: a classifier read back from the model.json that
// `dagprop train` writes, run over a dataset in batches of the shape it was trained with.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include <CLI/CLI.hpp>

#include <dagprop/data/dataset.hpp>
#include <dagprop/graph_io.hpp>

#include "experiment.hpp"

namespace dagprop::cli {

struct SavedClassifier {
  std::string path;
  LoadedGraph loaded;
  Expr x, logits;             // the training batch's input "x" and the input of node "loss"
  std::int64_t batch = 0;     // rows per run (the training batch size)
  std::int64_t features = 0;  // columns of x
  std::int64_t classes = 0;   // columns of the logits
};

// Throws dagprop::Error when the file is not a graph, or a graph without the input "x" and the
// node "loss" = cross_entropy(logits, labels) that train writes.
SavedClassifier load_classifier(const std::string& path);

// The logits of every example, [n, classes] row-major, in double. The last batch is padded with
// zero rows, whose results are dropped.
std::vector<double> classify(SavedClassifier& model, const data::Dataset& dataset);

// The options both commands take to name the examples: the data options of train and --split.
struct ModelDataOptions {
  std::string model;
  DataOptions data;
  std::string split = "test";
};
void add_model_data_options(CLI::App& command, ModelDataOptions& options);
// The chosen split, checked against the model's width.
data::Dataset load_split(const ModelDataOptions& options, const SavedClassifier& model);

// The predicted class of row i: the first largest logit (as nn::count_correct decides ties).
std::int64_t predicted_class(const std::vector<double>& logits, std::int64_t classes,
                             std::int64_t row);

}  // namespace dagprop::cli
