// `dagprop predict MODEL`: a trained classifier's prediction for every example of a dataset, as
// CSV (index, true label, predicted class, and the softmax probability of each class).
#include <cerrno>
#include <cmath>
#include <cstdio>
#include <cstring>
#include <fstream>
#include <memory>
#include <sstream>
#include <string>
#include <vector>

#include <dagprop/error.hpp>

#include "commands.hpp"
#include "saved_model.hpp"

namespace dagprop::cli {
namespace {

struct PredictCommand {
  ModelDataOptions input;
  std::string output;  // empty: standard output
};

void write_predictions(std::ostream& out, const data::Dataset& dataset,
                       const std::vector<double>& logits, std::int64_t classes) {
  out << "index,label,predicted";
  for (std::int64_t k = 0; k < classes; ++k) out << ",probability_" << k;
  out << '\n';
  std::vector<double> p(static_cast<std::size_t>(classes));
  char number[32];
  for (std::int64_t i = 0; i < dataset.size(); ++i) {
    const double* row = logits.data() + i * classes;
    // Softmax with the largest logit subtracted: exp never overflows, whatever the logits.
    const std::int64_t best = predicted_class(logits, classes, i);
    double sum = 0.0;
    for (std::int64_t k = 0; k < classes; ++k) {
      p[static_cast<std::size_t>(k)] = std::exp(row[k] - row[best]);
      sum += p[static_cast<std::size_t>(k)];
    }
    out << i << ',' << static_cast<std::int64_t>(dataset.labels.data<float>()[i]) << ',' << best;
    for (const double v : p) {
      std::snprintf(number, sizeof number, "%.6f", v / sum);
      out << ',' << number;
    }
    out << '\n';
  }
}

void run_predict(const PredictCommand& c) {
  SavedClassifier model = load_classifier(c.input.model);
  const data::Dataset dataset = load_split(c.input, model);
  const std::vector<double> logits = classify(model, dataset);
  if (c.output.empty()) {
    std::ostringstream text;
    write_predictions(text, dataset, logits, model.classes);
    const std::string csv = text.str();
    if (std::fwrite(csv.data(), 1, csv.size(), stdout) != csv.size() || std::fflush(stdout) != 0) {
      throw Error("cannot write the predictions to standard output: " +
                  std::string(std::strerror(errno)));
    }
    return;
  }
  errno = 0;
  std::ofstream file(c.output);
  if (!file) {
    throw Error("cannot write '" + c.output +
                "': " + (errno != 0 ? std::strerror(errno) : "cannot open") +
                "; check that its folder exists and is writable, or choose another -o");
  }
  write_predictions(file, dataset, logits, model.classes);
  file.close();
  if (!file) throw Error("writing '" + c.output + "' failed (disk full?)");
  std::printf("wrote %lld predictions of %s to %s\n", static_cast<long long>(dataset.size()),
              c.input.model.c_str(), c.output.c_str());
}

}  // namespace

void add_predict_command(CLI::App& app) {
  auto command = std::make_shared<PredictCommand>();
  CLI::App* predict = app.add_subcommand(
      "predict", "Predict the class of every example of a dataset with a trained model (CSV)");
  add_model_data_options(*predict, command->input);
  predict->add_option("-o,--output", command->output, "CSV file (default: standard output)");
  predict->callback([command] { run_predict(*command); });
}

}  // namespace dagprop::cli
