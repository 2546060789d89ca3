// What `dagprop train` and `dagprop study` share: the data and training options with their
// command-line flags, loading the data they name, and the output folder.
#pragma once

#include <cstdint>
#include <filesystem>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include <CLI/CLI.hpp>

#include <dagprop/data/dataset.hpp>
#include <dagprop/nn/trainer.hpp>

namespace dagprop::cli {

struct DataOptions {
  std::string data = "moons";   // fashion-mnist, a generated set's name, or FILE.csv
  std::string data_dir;         // Fashion-MNIST folder; empty: the Debian package's
  std::string label_column;     // CSV
  bool no_standardize = false;  // CSV and generated sets are standardized with training statistics
  std::int64_t samples = 1000;  // generated sets
  double noise = 0.1;           // generated sets
  double test_fraction = 0.2;   // generated sets and CSV: share held out as the test set
  double validation = 0.0;      // share of the training set held out for validation
  std::int64_t train_subset = 0;  // > 0: train on that many examples only (quick runs)
  std::uint64_t data_seed = 1;    // generation, splits and subsets: fixed while --seed varies
};

struct LoadedData {
  data::Dataset train, test;
  std::optional<data::Dataset> validation;
  std::string description;  // "fashion-mnist: 60000 train / 10000 test, 784 features, 10 classes"
};

void add_data_options(CLI::App& command, DataOptions& options);
// Model and optimization flags. The activation flag is left to the caller (train takes one,
// study a list).
void add_training_options(CLI::App& command, nn::TrainOptions& options);

LoadedData load_data(const DataOptions& options);

// "784-256-128-10".
std::string layer_sizes(const LoadedData& data, const nn::TrainOptions& options);

// Creates the folder (and its parents) or throws dagprop::Error saying why not.
std::filesystem::path prepare_output_folder(const std::string& path);

// The command line as typed, kept by main() for reports ("dagprop train --data moons ...").
void remember_command_line(int argc, char** argv);
const std::string& remembered_command_line();

// Thrown by a command that has finished with a status other than success and has already said
// why (an interrupted training run exits 128 + the signal's number, as a shell expects); main()
// returns the status.
struct ExitRequest {
  int status = 1;
};

// Fixed-precision text for metric files: the same number always prints the same way.
std::string format_number(double value, int decimals = 6);

}  // namespace dagprop::cli
