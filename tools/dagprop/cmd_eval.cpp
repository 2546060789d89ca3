// `dagprop eval MODEL`: a trained classifier's accuracy on a dataset, its confusion matrix and the
// accuracy of each class; -o also writes them as JSON.
#include <cerrno>
#include <cstdio>
#include <cstring>
#include <fstream>
#include <memory>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include <dagprop/error.hpp>

#include "commands.hpp"
#include "saved_model.hpp"

namespace dagprop::cli {
namespace {

struct EvalCommand {
  ModelDataOptions input;
  std::string output;
};

std::string class_label(const data::Dataset& d, std::int64_t k) {
  return k < static_cast<std::int64_t>(d.class_names.size())
             ? d.class_names[static_cast<std::size_t>(k)]
             : std::to_string(k);
}

void run_eval(const EvalCommand& c) {
  SavedClassifier model = load_classifier(c.input.model);
  const data::Dataset dataset = load_split(c.input, model);
  const std::vector<double> logits = classify(model, dataset);
  const std::int64_t n = dataset.size(), classes = model.classes;
  // confusion[true][predicted]
  std::vector<std::vector<std::int64_t>> confusion(
      static_cast<std::size_t>(classes),
      std::vector<std::int64_t>(static_cast<std::size_t>(classes)));
  std::int64_t correct = 0;
  for (std::int64_t i = 0; i < n; ++i) {
    const auto truth = static_cast<std::int64_t>(dataset.labels.data<float>()[i]);
    const std::int64_t predicted = predicted_class(logits, classes, i);
    ++confusion[static_cast<std::size_t>(truth)][static_cast<std::size_t>(predicted)];
    correct += truth == predicted ? 1 : 0;
  }
  const double accuracy = static_cast<double>(correct) / static_cast<double>(n);
  std::printf("model %s on %s (%s set): %lld examples, %lld classes\n", c.input.model.c_str(),
              dataset.name.c_str(), c.input.split.c_str(), static_cast<long long>(n),
              static_cast<long long>(classes));
  std::printf("accuracy %.4f (%lld of %lld)\n", accuracy, static_cast<long long>(correct),
              static_cast<long long>(n));
  std::printf("confusion matrix (rows: true class, columns: predicted class):\n%8s", "");
  for (std::int64_t k = 0; k < classes; ++k) std::printf(" %7lld", static_cast<long long>(k));
  std::printf("\n");
  for (std::int64_t t = 0; t < classes; ++t) {
    std::printf("%8lld", static_cast<long long>(t));
    for (std::int64_t p = 0; p < classes; ++p)
      std::printf(" %7lld", static_cast<long long>(confusion[t][p]));
    std::printf("\n");
  }
  std::printf("per-class accuracy (recall):\n");
  nlohmann::ordered_json per_class = nlohmann::ordered_json::array();
  for (std::int64_t t = 0; t < classes; ++t) {
    std::int64_t total = 0;
    for (const std::int64_t count : confusion[t]) total += count;
    const std::int64_t hits = confusion[t][t];
    nlohmann::ordered_json row = {
        {"class", t}, {"name", class_label(dataset, t)}, {"examples", total}, {"correct", hits}};
    if (total > 0) {
      const double share = static_cast<double>(hits) / static_cast<double>(total);
      std::printf("  %-3lld %-14s %.4f (%lld of %lld)\n", static_cast<long long>(t),
                  class_label(dataset, t).c_str(), share, static_cast<long long>(hits),
                  static_cast<long long>(total));
      row["accuracy"] = share;
    } else {
      std::printf("  %-3lld %-14s no examples\n", static_cast<long long>(t),
                  class_label(dataset, t).c_str());
      row["accuracy"] = nullptr;
    }
    per_class.push_back(row);
  }
  if (!c.output.empty()) {
    const nlohmann::ordered_json report = {{"model", c.input.model}, {"dataset", dataset.name},
                                           {"split", c.input.split}, {"examples", n},
                                           {"correct", correct},     {"accuracy", accuracy},
                                           {"confusion", confusion}, {"per_class", per_class}};
    errno = 0;
    std::ofstream file(c.output);
    file << report.dump(2) << '\n';
    file.close();
    if (!file) {
      throw Error("cannot write '" + c.output +
                  "': " + (errno != 0 ? std::strerror(errno) : "write error") +
                  "; check that its folder exists and is writable, or choose another -o");
    }
    std::printf("wrote %s\n", c.output.c_str());
  }
}

}  // namespace

void add_eval_command(CLI::App& app) {
  auto command = std::make_shared<EvalCommand>();
  CLI::App* eval = app.add_subcommand(
      "eval", "Evaluate a trained model on a dataset: accuracy, confusion matrix, per class");
  add_model_data_options(*eval, command->input);
  eval->add_option("-o,--output", command->output, "Also write the results to this JSON file");
  eval->callback([command] { run_eval(*command); });
}

}  // namespace dagprop::cli
