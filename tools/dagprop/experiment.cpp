// Data and training options shared by the train and study commands.
#include "experiment.hpp"

#include <cstdio>
#include <system_error>

#include <dagprop/data/csv.hpp>
#include <dagprop/data/fashion_mnist.hpp>
#include <dagprop/data/synthetic.hpp>
#include <dagprop/error.hpp>
#include <dagprop/nn/activation.hpp>
#include <dagprop/nn/init.hpp>
#include <dagprop/nn/optim.hpp>
#include <dagprop/nn/schedule.hpp>

#include "options.hpp"

namespace dagprop::cli {
namespace {

std::vector<std::string> as_strings(std::span<const std::string_view> names) {
  return {names.begin(), names.end()};
}

std::string valid_data_values() {
  std::string text = "fashion-mnist";
  for (const std::string_view name : data::synthetic_names()) text += ", " + std::string(name);
  return text + ", or a FILE.csv";
}

bool is_csv_path(const std::string& value) {
  return value.size() > 4 && value.compare(value.size() - 4, 4, ".csv") == 0;
}

std::string describe(const LoadedData& d) {
  std::string text = d.train.name + ": " + std::to_string(d.train.size()) + " train";
  if (d.validation) text += " / " + std::to_string(d.validation->size()) + " validation";
  text += " / " + std::to_string(d.test.size()) + " test examples, " +
          std::to_string(d.train.num_features()) + " features, " +
          std::to_string(std::max(d.train.num_classes, d.test.num_classes)) + " classes";
  return text;
}

std::string& command_line_storage() {
  static std::string text;
  return text;
}

}  // namespace

void add_data_options(CLI::App& command, DataOptions& o) {
  command.add_option("--data", o.data, "Dataset: " + valid_data_values())->capture_default_str();
  command.add_option("--data-dir", o.data_dir,
                     "Folder of the Fashion-MNIST IDX files (default: " +
                         std::string(data::kFashionMnistDirectory) + ")");
  command.add_option("--label-column", o.label_column,
                     "CSV: the label column, by header name or 0-based index (default: the last)");
  command.add_flag("--no-standardize", o.no_standardize,
                   "CSV and generated sets: keep features as they are (default: standardize them "
                   "with the training set's mean and deviation)");
  command.add_option("--samples", o.samples, "Generated sets: number of points")
      ->capture_default_str()
      ->check(whole_number_from_to(2, std::int64_t{1} << 26));
  command.add_option("--noise", o.noise, "Generated sets: standard deviation of the noise")
      ->capture_default_str()
      ->check(number_from_to(0.0, 10.0));
  command
      .add_option("--test-fraction", o.test_fraction,
                  "Generated sets and CSV: share of examples held out as the test set")
      ->capture_default_str()
      ->check(number_from_to(0.01, 0.9));
  command
      .add_option("--validation", o.validation,
                  "Share of the training set held out for validation (0: none)")
      ->capture_default_str()
      ->check(number_from_to(0.0, 0.9));
  command
      .add_option("--train-subset", o.train_subset,
                  "Train on this many examples only, a seeded sample (0: all; at most the "
                  "training set's size)")
      ->capture_default_str()
      ->check(whole_number_from_to(0, std::int64_t{1} << 40));
  command
      .add_option("--data-seed", o.data_seed,
                  "Seed of data generation, splits and subsets (kept fixed while --seed varies)")
      ->capture_default_str()
      ->check(seed_number());
}

void add_training_options(CLI::App& command, nn::TrainOptions& o) {
  command.add_option("--hidden", o.hidden, "Hidden layer sizes, comma-separated")
      ->delimiter(',')
      ->capture_default_str()
      ->check(whole_number_from_to(1, std::int64_t{1} << 20));
  command.add_option("--init", o.init, "Weight initializer (auto: the activation's own)")
      ->capture_default_str()
      ->check(CLI::IsMember([] {
        std::vector<std::string> names{"auto"};
        for (const std::string_view n : nn::init_names()) names.emplace_back(n);
        return names;
      }()));
  command.add_option("--optimizer", o.optimizer, "Optimizer")
      ->capture_default_str()
      ->check(CLI::IsMember(as_strings(nn::optimizer_names())));
  command.add_option("--lr", o.optimizer_settings.learning_rate, "Learning rate")
      ->capture_default_str()
      ->check(number_above(0.0));
  command.add_option("--momentum", o.optimizer_settings.momentum, "SGD momentum")
      ->capture_default_str()
      ->check(number_from_to(0.0, 0.999));
  command
      .add_option("--weight-decay", o.optimizer_settings.weight_decay,
                  "Weight decay (L2 for sgd and adam, decoupled for adamw)")
      ->capture_default_str()
      ->check(number_at_least(0.0));
  command.add_option("--schedule", o.schedule, "Learning-rate schedule, per epoch")
      ->capture_default_str()
      ->check(CLI::IsMember(as_strings(nn::schedule_names())));
  command.add_option("--step-epochs", o.step_epochs, "Step schedule: epochs between decays")
      ->capture_default_str()
      ->check(whole_number_from_to(1, 100000));
  command.add_option("--gamma", o.gamma, "Step schedule: decay factor")
      ->capture_default_str()
      ->check(number_from_to(1e-6, 1.0));
  command.add_option("--epochs", o.epochs, "Epochs")
      ->capture_default_str()
      ->check(whole_number_from_to(1, 100000));
  command.add_option("--batch", o.batch_size, "Mini-batch size (incomplete batches are dropped)")
      ->capture_default_str()
      ->check(whole_number_from_to(1, std::int64_t{1} << 31));
  command.add_option("--eval-batch", o.eval_batch_size, "Evaluation batch size")
      ->capture_default_str()
      ->check(whole_number_from_to(1, std::int64_t{1} << 31));
  command.add_option("--seed", o.seed, "Seed of initialization and batch order")
      ->capture_default_str()
      ->check(seed_number());
}

LoadedData load_data(const DataOptions& o) {
  LoadedData d;
  if (o.data == "fashion-mnist") {
    data::TrainTest fashion =
        o.data_dir.empty() ? data::load_fashion_mnist() : data::load_fashion_mnist(o.data_dir);
    d.train = std::move(fashion.train);
    d.test = std::move(fashion.test);
  } else if (data::is_synthetic_name(o.data) || is_csv_path(o.data)) {
    const data::Dataset all =
        is_csv_path(o.data)
            ? data::load_csv(o.data, {.label_column = o.label_column})
            : data::make_synthetic(o.data,
                                   {.samples = o.samples, .noise = o.noise, .seed = o.data_seed});
    data::check_dataset(all);
    auto [train, test] = data::split(all, o.test_fraction, o.data_seed);
    d.train = std::move(train);
    d.test = std::move(test);
    if (!o.no_standardize) {
      const data::Standardizer s = data::Standardizer::fit(d.train);
      s.apply(d.train);
      s.apply(d.test);
    }
  } else {
    throw Error("--data '" + o.data + "' is not a dataset: use " + valid_data_values());
  }
  if (o.validation > 0.0) {
    auto [train, validation] = data::split(d.train, o.validation, o.data_seed + 1);
    d.train = std::move(train);
    d.validation = std::move(validation);
  }
  if (o.train_subset > d.train.size()) {
    throw Error("--train-subset " + std::to_string(o.train_subset) + " is larger than the " +
                std::to_string(d.train.size()) + " training examples of " + d.train.name +
                "; give at most " + std::to_string(d.train.size()) + " (0: all of them)");
  }
  if (o.train_subset > 0 && o.train_subset < d.train.size()) {
    d.train = data::sample(d.train, o.train_subset, o.data_seed + 2);
  }
  d.description = describe(d);
  return d;
}

std::string layer_sizes(const LoadedData& data, const nn::TrainOptions& options) {
  if (!options.model.empty()) return "'" + options.model + "'";
  std::string text = std::to_string(data.train.num_features());
  for (const std::int64_t h : options.hidden) text += "-" + std::to_string(h);
  return text + "-" + std::to_string(std::max(data.train.num_classes, data.test.num_classes));
}

std::filesystem::path prepare_output_folder(const std::string& path) {
  std::error_code error;
  std::filesystem::create_directories(path, error);
  if (error || !std::filesystem::is_directory(path)) {
    throw Error("cannot create the output folder '" + path +
                "': " + (error ? error.message() : std::string("a file of that name exists")) +
                "; choose another --out");
  }
  return path;
}

void remember_command_line(int argc, char** argv) {
  std::string text = "dagprop";
  for (int i = 1; i < argc; ++i) text += " " + std::string(argv[i]);
  command_line_storage() = text;
}

const std::string& remembered_command_line() {
  return command_line_storage();
}

std::string format_number(double value, int decimals) {
  char buffer[64];
  std::snprintf(buffer, sizeof buffer, "%.*f", decimals, value);
  return buffer;
}

}  // namespace dagprop::cli
