// `dagprop train`: trains an MLP classifier on a dataset, showing progress, and leaves its metrics
// (CSV and JSON), loss and accuracy curves (PNG and SVG, through gnuplot) and run facts in --out.
// SIGINT and SIGTERM end the run after the current step with a checkpoint and the metrics so far;
// `--resume DIR` continues it to the same bytes an uninterrupted run writes.
#include <signal.h>
#include <unistd.h>

#include <csignal>
#include <cstdio>
#include <cstdlib>
#include <fstream>
#include <limits>
#include <memory>
#include <string>
#include <type_traits>
#include <vector>

#include <nlohmann/json.hpp>

#include <dagprop/data/batches.hpp>
#include <dagprop/dot.hpp>
#include <dagprop/error.hpp>
#include <dagprop/graph_io.hpp>
#include <dagprop/nn/activation.hpp>
#include <dagprop/nn/checkpoint.hpp>
#include <dagprop/nn/trainer.hpp>
#include <dagprop/ops.hpp>
#include <dagprop/reproducibility.hpp>
#include <dagprop/snapshot.hpp>

#include "commands.hpp"
#include "experiment.hpp"
#include "gnuplot.hpp"
#include "options.hpp"
#include "process_group.hpp"
#include "progress.hpp"

namespace dagprop::cli {
namespace {

using Json = nlohmann::ordered_json;

struct TrainCommand {
  DataOptions data;
  nn::TrainOptions training;
  std::string out = "runs/train";
  bool no_plots = false;
  std::int64_t checkpoint_every = 0;  // steps; 0: only when interrupted
  std::string resume;                 // a folder holding checkpoint.json
};

constexpr const char* kCheckpointFile = "checkpoint.json";

// ---------------------------------------------------------------- the run's settings
// A checkpoint carries the command's options, so `--resume DIR` needs nothing else. They come back
// from an untrusted file: every field is type-checked here and range-checked where the data and
// the trainer are built, as if typed.

Json settings_json(const TrainCommand& c) {
  const DataOptions& d = c.data;
  const nn::TrainOptions& t = c.training;
  return {{"data",
           {{"data", d.data},
            {"data_dir", d.data_dir},
            {"label_column", d.label_column},
            {"no_standardize", d.no_standardize},
            {"samples", d.samples},
            {"noise", d.noise},
            {"test_fraction", d.test_fraction},
            {"validation", d.validation},
            {"train_subset", d.train_subset},
            {"data_seed", d.data_seed}}},
          {"training",
           {{"model", t.model},
            {"hidden", t.hidden},
            {"activation", t.activation},
            {"init", t.init},
            {"optimizer", t.optimizer},
            {"learning_rate", t.optimizer_settings.learning_rate},
            {"momentum", t.optimizer_settings.momentum},
            {"weight_decay", t.optimizer_settings.weight_decay},
            {"schedule", t.schedule},
            {"step_epochs", t.step_epochs},
            {"gamma", t.gamma},
            {"epochs", t.epochs},
            {"batch", t.batch_size},
            {"eval_batch", t.eval_batch_size},
            {"seed", t.seed},
            {"shards", t.shards}}},
          {"no_plots", c.no_plots},
          {"checkpoint_every", c.checkpoint_every}};
}

class SettingsReader {
 public:
  SettingsReader(const std::string& source, const Json& object, std::string path)
      : source_(source), object_(object), path_(std::move(path)) {
    if (!object_.is_object()) fail("", "must be an object");
  }
  [[noreturn]] void fail(const std::string& key, const std::string& what) const {
    throw Error("checkpoint '" + source_ + "': run_settings." + path_ + (key.empty() ? "" : ".") +
                key + " " + what + "; the file is damaged or was not written by dagprop train");
  }
  bool has(const std::string& key) const { return object_.find(key) != object_.end(); }
  const Json& at(const std::string& key) const {
    const auto it = object_.find(key);
    if (it == object_.end()) fail(key, "is missing");
    return *it;
  }
  template <class T>
  T get(const std::string& key) const {
    const Json& v = at(key);
    bool ok = false;
    if constexpr (std::is_same_v<T, bool>) {
      ok = v.is_boolean();
    } else if constexpr (std::is_same_v<T, std::string>) {
      ok = v.is_string();
    } else if constexpr (std::is_floating_point_v<T>) {
      ok = v.is_number();
    } else if constexpr (std::is_unsigned_v<T>) {
      ok = v.is_number_unsigned();
    } else {
      ok = v.is_number_integer() &&
           (!v.is_number_unsigned() ||
            v.get<std::uint64_t>() <= static_cast<std::uint64_t>(std::numeric_limits<T>::max())) &&
           v.get<std::int64_t>() >= std::numeric_limits<T>::min() &&
           v.get<std::int64_t>() <= std::numeric_limits<T>::max();
    }
    if (!ok) fail(key, "has the wrong type or is out of range");
    return v.get<T>();
  }

 private:
  const std::string& source_;
  const Json& object_;
  std::string path_;
};

TrainCommand command_from_settings(const std::string& text, const std::string& source) {
  const Json root = Json::parse(text, nullptr, false);
  if (root.is_discarded()) {
    throw Error("checkpoint '" + source + "': run_settings is not valid JSON");
  }
  const SettingsReader r(source, root, "");
  const SettingsReader data(source, r.at("data"), "data");
  const SettingsReader training(source, r.at("training"), "training");
  TrainCommand c;
  DataOptions& d = c.data;
  d.data = data.get<std::string>("data");
  d.data_dir = data.get<std::string>("data_dir");
  d.label_column = data.get<std::string>("label_column");
  d.no_standardize = data.get<bool>("no_standardize");
  d.samples = data.get<std::int64_t>("samples");
  d.noise = data.get<double>("noise");
  d.test_fraction = data.get<double>("test_fraction");
  d.validation = data.get<double>("validation");
  d.train_subset = data.get<std::int64_t>("train_subset");
  d.data_seed = data.get<std::uint64_t>("data_seed");
  nn::TrainOptions& t = c.training;
  // Runs written before --model existed have no "model": they trained an Mlp.
  t.model = training.has("model") ? training.get<std::string>("model") : std::string();
  const Json& hidden = training.at("hidden");
  if (!hidden.is_array() || hidden.size() > 1000)
    training.fail("hidden", "must be a list of sizes");
  t.hidden.clear();
  for (const Json& h : hidden) {
    if (!h.is_number_unsigned() || h.get<std::uint64_t>() < 1 ||
        h.get<std::uint64_t>() > (1U << 20))
      training.fail("hidden", "must hold sizes from 1 to 1048576");
    t.hidden.push_back(h.get<std::int64_t>());
  }
  t.activation = training.get<std::string>("activation");
  nn::activation_by_name(t.activation);  // throws, listing the valid names
  t.init = training.get<std::string>("init");
  t.optimizer = training.get<std::string>("optimizer");
  t.optimizer_settings.learning_rate = training.get<double>("learning_rate");
  t.optimizer_settings.momentum = training.get<double>("momentum");
  t.optimizer_settings.weight_decay = training.get<double>("weight_decay");
  t.schedule = training.get<std::string>("schedule");
  t.step_epochs = training.get<std::int64_t>("step_epochs");
  t.gamma = training.get<double>("gamma");
  t.epochs = training.get<int>("epochs");
  t.batch_size = training.get<std::int64_t>("batch");
  t.eval_batch_size = training.get<std::int64_t>("eval_batch");
  t.seed = training.get<std::uint64_t>("seed");
  // Runs written before --shards existed have none: they trained whole batches.
  t.shards = training.has("shards") ? training.get<std::int64_t>("shards") : 0;
  c.no_plots = r.get<bool>("no_plots");
  c.checkpoint_every = r.get<std::int64_t>("checkpoint_every");
  if (d.samples < 2 || !(d.test_fraction > 0.0 && d.test_fraction < 1.0) ||
      !(d.validation >= 0.0 && d.validation < 1.0) || d.train_subset < 0 ||
      !(d.noise >= 0.0 && d.noise <= 10.0) || c.checkpoint_every < 0 ||
      !(t.gamma > 0.0 && t.gamma <= 1.0) || t.step_epochs < 1) {
    r.fail("", "holds a value outside what dagprop train accepts");
  }
  return c;
}

// ---------------------------------------------------------------- signals
// The handler only sets a flag; the trainer looks at it between steps, so a step is never cut in
// half. SA_RESETHAND: a second Ctrl-C ends the program at once, as a user pressing it expects.
volatile std::sig_atomic_t g_stop_signal = 0;

extern "C" void request_stop(int signal) {
  g_stop_signal = signal;
}

void install_stop_handlers() {
  struct sigaction action {};
  action.sa_handler = request_stop;
  sigemptyset(&action.sa_mask);
  action.sa_flags = SA_RESETHAND;
  sigaction(SIGINT, &action, nullptr);
  sigaction(SIGTERM, &action, nullptr);
}

// Test hooks (tests/tools/train_resume.cmake): a real signal (SIGINT, or SIGTERM with
// DAGPROP_TEST_SIGNAL=TERM) sent by the process to itself at a chosen step, so the test interrupts
// exactly there; and an abrupt end with no cleanup, as a crash or a power cut would leave it.
std::int64_t step_from_environment(const char* name) {
  const char* text = std::getenv(name);
  return text == nullptr ? 0 : std::strtoll(text, nullptr, 10);
}

Json config_json(const TrainCommand& c, const LoadedData& d) {
  const nn::TrainOptions& t = c.training;
  return {{"data", c.data.data},
          {"dataset", d.description},
          {"layers", layer_sizes(d, t)},
          {"model", t.model},
          {"activation", t.activation},
          {"init", t.init},
          {"optimizer", t.optimizer},
          {"learning_rate", t.optimizer_settings.learning_rate},
          {"momentum", t.optimizer_settings.momentum},
          {"weight_decay", t.optimizer_settings.weight_decay},
          {"schedule", t.schedule},
          {"epochs", t.epochs},
          {"batch", t.batch_size},
          {"seed", t.seed},
          {"data_seed", c.data.data_seed}};
}

// Sharded runs say so in metrics.json (any number of ranks writes the same); others as before.
Json config_json_of_run(const TrainCommand& c, const LoadedData& d) {
  Json config = config_json(c, d);
  if (c.training.shards > 0) config["shards"] = c.training.shards;
  return config;
}

// What must be equal on every rank of a job: the command's settings, the data's description and a
// sample of its bytes, the layer sizes and the dtype (nn::agree_to_start compares fingerprints).
std::string rank_configuration(const TrainCommand& c, const LoadedData& d) {
  std::string text = settings_json(c).dump() + "\n" + d.description + "\n" +
                     layer_sizes(d, c.training) + "\nf32\n";
  for (const data::Dataset* set : {&d.train, &d.test}) {
    const TensorView features = set->features.view();
    const std::int64_t n = features.numel();
    const float* values = features.data<float>();
    // Every 997th value and the last: a different file or standardization shows, in little time.
    for (std::int64_t i = 0; i < n; i += 997) text += std::to_string(values[i]) + ",";
    if (n > 0) text += std::to_string(values[n - 1]);
    text += "\n";
  }
  return text;
}

// Everything here is a function of the options and the data: two runs with the same seed write
// the same bytes. Wall-clock times go to run.json and timing.csv instead.
void write_metrics(const std::filesystem::path& out, const TrainCommand& c, const LoadedData& d,
                   const nn::TrainHistory& history, const nn::Checkpoint* stopped_at = nullptr) {
  const bool validation = d.validation.has_value();
  std::ofstream csv(out / "metrics.csv");
  csv << "epoch,learning_rate,train_loss,train_accuracy,"
      << (validation ? "validation_loss,validation_accuracy," : "") << "test_loss,test_accuracy\n";
  Json epochs = Json::array();
  for (const nn::EpochRecord& e : history.epochs) {
    csv << e.epoch << ',' << format_number(e.learning_rate, 9) << ',' << format_number(e.train_loss)
        << ',' << format_number(e.train_accuracy) << ',';
    Json row = {{"epoch", e.epoch},
                {"learning_rate", e.learning_rate},
                {"train_loss", e.train_loss},
                {"train_accuracy", e.train_accuracy}};
    if (e.validation) {
      csv << format_number(e.validation->loss) << ',' << format_number(e.validation->accuracy)
          << ',';
      row["validation_loss"] = e.validation->loss;
      row["validation_accuracy"] = e.validation->accuracy;
    }
    csv << format_number(e.test.loss) << ',' << format_number(e.test.accuracy) << '\n';
    row["test_loss"] = e.test.loss;
    row["test_accuracy"] = e.test.accuracy;
    epochs.push_back(row);
  }
  Json metrics = {{"config", config_json_of_run(c, d)}, {"complete", stopped_at == nullptr}};
  if (stopped_at != nullptr) {
    // Interrupted: the epochs finished so far, and where the checkpoint stands.
    metrics["stopped_at"] = {{"epoch", stopped_at->epoch + 1},
                             {"step", stopped_at->step},
                             {"global_step", stopped_at->global_step},
                             {"checkpoint", kCheckpointFile}};
  }
  metrics["epochs"] = epochs;
  if (!history.epochs.empty()) {
    const nn::EpochRecord& last = history.epochs.back();
    metrics["final"] = {{"test_loss", last.test.loss}, {"test_accuracy", last.test.accuracy}};
  }
  std::ofstream json(out / "metrics.json");
  json << metrics.dump(2) << '\n';
  json.close();
  csv.close();
  if (!csv || !json) throw Error("cannot write the metrics in " + out.string() + " (disk full?)");
}

struct SavedModel {
  std::string model_file, network_picture;
};

// What the bits of the metrics depend on (reproducibility.hpp), in its order.
Json reproducibility_json() {
  Json settings = Json::object();
  for (const ReproducibilitySetting& s : reproducibility_settings()) settings[s.key] = s.value;
  return settings;
}

void write_timing(const std::filesystem::path& out, const nn::TrainHistory& history,
                  std::int64_t examples_per_epoch, const SavedModel& saved) {
  std::ofstream csv(out / "timing.csv");
  csv << "epoch,seconds,train_examples_per_second\n";
  for (const nn::EpochRecord& e : history.epochs) {
    csv << e.epoch << ',' << format_number(e.seconds, 3) << ','
        << format_number(static_cast<double>(examples_per_epoch) / e.seconds, 0) << '\n';
  }
  const Json run = {{"command", remembered_command_line()},
                    {"seconds", history.seconds},
                    {"blas", blas_kernels()},
                    {"reproducibility", reproducibility_json()},
                    {"model_file", saved.model_file},
                    {"network_picture", saved.network_picture}};
  std::ofstream(out / "run.json") << run.dump(2) << '\n';
}

void plot_curves(const std::filesystem::path& out, bool validation) {
  // Columns of metrics.csv: 1 epoch, 2 lr, 3 train loss, 4 train accuracy, then validation loss
  // and accuracy (if any), then test loss and accuracy.
  const int test_loss = validation ? 7 : 5;
  auto curves = [&](const std::string& ylabel, const std::string& key, int train, int val,
                    int test) {
    std::string body = "set datafile separator ','\nset grid\nset key " + key +
                       "\nset xlabel 'epoch'\nset ylabel '" + ylabel +
                       "'\nplot 'metrics.csv' skip 1 using 1:" + std::to_string(train) +
                       " with linespoints lw 2 title 'train (as trained, during the epoch)'";
    if (validation) {
      body += ", '' skip 1 using 1:" + std::to_string(val) +
              " with linespoints lw 2 title 'validation'";
    }
    return body + ", '' skip 1 using 1:" + std::to_string(test) +
           " with linespoints lw 2 title 'test'";
  };
  run_gnuplot(out, "curves.gp",
              png_and_svg("loss", curves("cross-entropy loss", "top right", 3, 5, test_loss)) +
                  png_and_svg("accuracy", curves("accuracy", "bottom right", 4, 6, test_loss + 1)));
}

// The trained graph as a graph file with the final parameters and, for the training part of the
// network, the values and gradients on the last training batch (`dagprop dot model.json --grad`
// draws it as trained; `dagprop info`, `eval` and `predict` read it), and a picture of that part.
// The evaluation heads share the parameters and are left out of the picture (focus).
SavedModel save_trained_graph(nn::Trainer& trainer, const std::filesystem::path& out) {
  SavedModel saved{(out / "model.json").string(), (out / "network.svg").string()};
  const auto [features, labels] = trainer.last_training_batch();
  const Snapshot snapshot = trace_gradients(trainer.loss(), trainer.batch_feeds(features, labels));
  save_graph(trainer.graph(), saved.model_file,
             {.values = true, .gradients = true, .snapshot = &snapshot});
  DotOptions options;
  options.snapshot = &snapshot;
  options.focus = trainer.loss().id();
  options.title = "The trained network: values and gradients on the last training batch";
  render(trainer.graph(), saved.network_picture, options);
  return saved;
}

// communication.json, under mpirun: what each rank gave to collectives during fit(), in all and per
// step (gathered to rank 0, which writes it). The per-step figure is the bound docs/distributed.md
// states: 8 bytes per gradient element, 4 per parameter tensor, 16 per shard, 4 for the stop flag.
void write_communication(const std::filesystem::path& out, nn::Collective& group,
                         std::int64_t payload_at_start, nn::Trainer& trainer, std::int64_t steps) {
  std::vector<std::int64_t> bytes(static_cast<std::size_t>(group.size()), 0);
  bytes[static_cast<std::size_t>(group.rank())] = group.payload_bytes() - payload_at_start;
  group.sum_in_place(bytes);
  if (group.rank() != 0) return;
  std::int64_t elements = 0;
  for (const Expr& p : trainer.parameters()) elements += p.shape().numel();
  const Json report = {{"ranks", group.size()},
                       {"gradient_elements", elements},
                       {"parameter_tensors", trainer.parameters().size()},
                       {"steps", steps},
                       {"payload_bytes_per_rank", bytes}};
  std::ofstream file(out / "communication.json");
  file << report.dump(2) << '\n';
  if (!file) throw Error("cannot write " + (out / "communication.json").string());
}

// Where --resume finds its run: the folder's checkpoint, and the command it was written by.
TrainCommand resumed_command(const std::string& folder, nn::Checkpoint& checkpoint) {
  const std::string path = (std::filesystem::path(folder) / kCheckpointFile).string();
  if (!std::filesystem::exists(path)) {
    const bool finished = std::filesystem::exists(std::filesystem::path(folder) / "metrics.json");
    throw Error("--resume " + folder + ": there is no " + kCheckpointFile + " in it; " +
                (finished ? "the run there has finished (its metrics.json is complete)"
                          : "give the --out folder of an interrupted dagprop train run"));
  }
  checkpoint = nn::load_checkpoint(path);
  TrainCommand c = command_from_settings(checkpoint.run_settings, path);
  c.out = folder;
  return c;
}

// Everything a rank needs before training; under mpirun every rank builds it, and a rank that
// cannot (a missing dataset, a refused option) tells the others at the start-up check.
struct PreparedRun {
  TrainCommand command;
  nn::Checkpoint resumed;
  LoadedData data;
  std::filesystem::path out;
  std::unique_ptr<nn::Trainer> trainer;
};

void prepare_run(const TrainCommand& typed, PreparedRun& run, nn::Collective& group) {
  const bool resuming = !typed.resume.empty();
  run.command = resuming ? resumed_command(typed.resume, run.resumed) : typed;
  const TrainCommand& c = run.command;
  run.data = load_data(c.data);
  const LoadedData& d = run.data;
  run.out = c.out;
  // Rank 0 writes every file.
  if (group.rank() == 0) run.out = prepare_output_folder(c.out);
  run.trainer = std::make_unique<nn::Trainer>(d.train, d.test, c.training,
                                              d.validation ? &*d.validation : nullptr, &group);
  if (resuming) run.trainer->restore(run.resumed);
}

void run_train(const TrainCommand& typed) {
  nn::Collective& group = process_group();
  const bool writer = group.rank() == 0;
  PreparedRun run;
  if (group.size() == 1) {
    prepare_run(typed, run, group);
  } else {
    std::string failure, configuration;
    try {
      prepare_run(typed, run, group);
      configuration = rank_configuration(run.command, run.data);
    } catch (const std::exception& e) {
      failure = e.what();
    }
    nn::agree_to_start(group, failure, configuration);
  }
  const TrainCommand& c = run.command;
  const LoadedData& d = run.data;
  const std::filesystem::path& out = run.out;
  nn::Trainer& trainer = *run.trainer;
  const bool resuming = !typed.resume.empty();
  const std::string checkpoint_path = (out / kCheckpointFile).string();
  if (writer) {
    std::printf("%s\nmodel %s, %s, %s lr %g, batch %lld, %d epochs, seed %llu\n",
                d.description.c_str(), layer_sizes(d, c.training).c_str(),
                c.training.activation.c_str(), c.training.optimizer.c_str(),
                c.training.optimizer_settings.learning_rate,
                static_cast<long long>(c.training.batch_size), c.training.epochs,
                static_cast<unsigned long long>(c.training.seed));
    if (group.size() > 1) {
      std::printf("%d ranks, %lld shards of %lld examples per batch\n", group.size(),
                  static_cast<long long>(c.training.shards),
                  static_cast<long long>(c.training.batch_size / c.training.shards));
    }
    if (resuming) {
      std::printf("resuming from %s at epoch %d, step %lld\n", checkpoint_path.c_str(),
                  run.resumed.epoch + 1, static_cast<long long>(run.resumed.step));
    }
  }
  const std::string settings = settings_json(c).dump();
  const std::int64_t signal_at = step_from_environment("DAGPROP_TEST_SIGNAL_AT_STEP");
  const std::int64_t crash_at = step_from_environment("DAGPROP_TEST_CRASH_AT_STEP");
  const char* signal_name = std::getenv("DAGPROP_TEST_SIGNAL");
  const int test_signal =
      signal_name != nullptr && std::string(signal_name) == "TERM" ? SIGTERM : SIGINT;
  g_stop_signal = 0;
  install_stop_handlers();
  Progress progress("");
  const std::int64_t payload_at_start = group.payload_bytes();
  const nn::TrainHistory history = trainer.fit(
      {.on_step =
           [&](const nn::StepReport& r) {
             if (writer) progress.on_step(r);
             if (writer && c.checkpoint_every > 0 && r.global_step % c.checkpoint_every == 0)
               nn::save_checkpoint(trainer.checkpoint(settings), checkpoint_path);
             if (r.global_step == crash_at) std::_Exit(137);
             if (r.global_step == signal_at) ::kill(::getpid(), test_signal);
           },
       .on_epoch =
           [&](const nn::EpochRecord& e) {
             if (writer) progress.on_epoch(e, c.training.epochs);
           },
       .stop_requested = [] { return g_stop_signal != 0; }});
  std::signal(SIGINT, SIG_DFL);
  std::signal(SIGTERM, SIG_DFL);
  if (group.size() > 1) {
    // Steps this fit() took: from where it started (0, or the checkpoint's) to where it stands.
    const std::int64_t per_epoch = d.train.size() / c.training.batch_size;
    const std::int64_t at_start = resuming ? run.resumed.global_step : 0;
    std::int64_t taken = static_cast<std::int64_t>(history.epochs.size()) * per_epoch - at_start;
    if (!history.complete) taken = trainer.checkpoint("").global_step - at_start;
    write_communication(out, group, payload_at_start, trainer, taken);
  }
  if (!history.complete) {
    const nn::Checkpoint checkpoint = trainer.checkpoint(settings);
    if (!writer) throw ExitRequest{128 + g_stop_signal};
    nn::save_checkpoint(checkpoint, checkpoint_path);
    write_metrics(out, c, d, history, &checkpoint);
    const int signal = g_stop_signal;
    std::printf(
        "\n%s at epoch %d, step %lld: checkpoint and the metrics so far (marked incomplete) "
        "in %s; continue with: dagprop train --resume %s\n",
        signal == SIGTERM ? "terminated" : "interrupted", checkpoint.epoch + 1,
        static_cast<long long>(checkpoint.step), out.c_str(), out.c_str());
    std::fflush(stdout);
    throw ExitRequest{128 + signal};
  }
  if (!writer) return;
  write_metrics(out, c, d, history);
  const std::int64_t trained_per_epoch =
      d.train.size() / c.training.batch_size * c.training.batch_size;
  const SavedModel saved = save_trained_graph(trainer, out);
  write_timing(out, history, trained_per_epoch, saved);
  if (!c.no_plots) plot_curves(out, d.validation.has_value());
  // The run is whole: a checkpoint left from --checkpoint-every would only invite a stale resume.
  std::filesystem::remove(checkpoint_path);
  std::printf("test accuracy %.4f after %d epochs in %.1f s; metrics, curves and run facts in %s\n",
              history.epochs.back().test.accuracy, c.training.epochs, history.seconds, out.c_str());
}

}  // namespace

void add_train_command(CLI::App& app) {
  auto command = std::make_shared<TrainCommand>();
  // Cosine decay by default: on Fashion-MNIST it settles the last epochs (test accuracy 0.893 to
  // 0.895 over three seeds, against 0.884 to 0.888 at a constant rate; docs/experiments.md).
  command->training.schedule = "cosine";
  CLI::App* train = app.add_subcommand(
      "train",
      "Train a classifier (an MLP, or any --model); metrics, curves and timings go to --out");
  add_data_options(*train, command->data);
  add_training_options(*train, command->training);
  std::vector<std::string> activations;
  for (const std::string_view name : nn::activation_names()) activations.emplace_back(name);
  train->add_option("--activation", command->training.activation, "Hidden-layer activation")
      ->capture_default_str()
      ->check(CLI::IsMember(activations));
  train
      ->add_option("--model", command->training.model,
                   "A model as a list of layers instead of an MLP of --hidden and --activation, "
                   "e.g. \"conv 32 5 pad 2, relu, maxpool 2, flatten, dense 10\" (images come "
                   "as [batch, 1, 28, 28]); the layers:\n" +
                       nn::model_spec_help())
      ->check([](const std::string& spec) {
        try {
          (void)nn::parse_model_spec(spec);
          return std::string();
        } catch (const Error& e) {
          return std::string(e.what());
        }
      });
  train
      ->add_option("--shards", command->training.shards,
                   "Cut each batch into this many equal shards whose gradients are summed exactly: "
                   "the same bits on any number of processes (mpirun -np N, N <= shards; "
                   "docs/distributed.md); 0: whole batches")
      ->capture_default_str()
      ->check(whole_number_from_to(0, std::int64_t{1} << 20));
  train->add_option("--out", command->out, "Output folder")->capture_default_str();
  train->add_flag("--no-plots", command->no_plots, "Skip the gnuplot curves");
  train
      ->add_option("--checkpoint-every", command->checkpoint_every,
                   "Write " + std::string(kCheckpointFile) +
                       " in --out every N training steps (0: only when interrupted by Ctrl-C or "
                       "SIGTERM)")
      ->capture_default_str()
      ->check(whole_number_from_to(0, std::int64_t{1} << 40));
  train->add_option("--resume", command->resume,
                    "Continue the interrupted run in this folder from its checkpoint (its options "
                    "come from the checkpoint; give no others)");
  train->callback([command, train] {
    if (!command->resume.empty()) {
      // The checkpoint holds the run's options: another value would change the run, not resume it.
      for (const CLI::Option* option : train->get_options()) {
        if (option->count() > 0 && option->get_name() != "--resume") {
          throw Error("--resume takes no other options (got " + option->get_name() +
                      "): the run continues with the options its checkpoint was written with");
        }
      }
    }
    run_train(*command);
  });
}

}  // namespace dagprop::cli
