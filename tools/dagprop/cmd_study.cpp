// `dagprop study activations`: the same model, data and seeds trained once per activation, then a
// Markdown report with tables and gnuplot figures: final accuracy over seeds, time, epochs to a
// threshold, loss curves, per-layer gradient norms, dead and saturated units over training.
#include <algorithm>
#include <array>
#include <chrono>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <fstream>
#include <numeric>
#include <sstream>
#include <string>
#include <vector>

#include <dagprop/error.hpp>
#include <dagprop/graph.hpp>
#include <dagprop/nn/activation.hpp>
#include <dagprop/nn/trainer.hpp>
#include <dagprop/ops.hpp>
#include <dagprop/reproducibility.hpp>

#include "commands.hpp"
#include "experiment.hpp"
#include "gnuplot.hpp"
#include "options.hpp"
#include "progress.hpp"
#include "unit_probe.hpp"

namespace dagprop::cli {
namespace {

struct StudyCommand {
  DataOptions data;
  nn::TrainOptions training;
  std::vector<std::string> activations;
  int seeds = 3;
  std::uint64_t first_seed = 1;
  double threshold = 0.85;
  std::int64_t probes_per_epoch = 10;
  std::int64_t probe_examples = 512;
  std::string out = "runs/study-activations";
  bool no_plots = false;
};

struct Run {
  std::string activation;
  std::uint64_t seed = 0;
  std::string failure;  // empty: trained; otherwise the error that stopped it
  nn::TrainHistory history;
  std::vector<study::ProbeRecord> probes;
};

// One activation's runs over all seeds, summarized.
struct Summary {
  const nn::Activation* activation = nullptr;
  std::vector<const Run*> runs;  // the ones that trained
  int failed = 0;
  double mean = 0, std = 0, min = 0, max = 0, seconds = 0;
  int reached = 0;                 // seeds whose test accuracy reached the threshold
  double epochs_to_threshold = 0;  // mean over those
  // Mean over seeds, per probe: epoch, train loss, per-layer gradient norms, and the hidden units'
  // dead and saturated shares (over all hidden units).
  std::vector<std::vector<double>> curve;
  // The same per probe, the smallest and the largest over seeds: the spread the figures draw.
  std::vector<std::vector<double>> curve_min, curve_max;
  std::vector<double> accuracy_by_epoch, accuracy_min, accuracy_max;
};

// Tableau's ten colours: one per activation, by its place in the activation table, so a colour
// means the same activation in every figure.
constexpr std::array<const char*, 10> kColors{"#4e79a7", "#f28e2b", "#e15759", "#76b7b2",
                                              "#59a14f", "#edc948", "#b07aa1", "#ff9da7",
                                              "#9c755f", "#bab0ac"};

const char* color_of(const nn::Activation& a) {
  const auto all = nn::activations();
  return kColors[static_cast<std::size_t>(&a - all.data()) % kColors.size()];
}

std::vector<std::int64_t> hidden_units(const StudyCommand& c) {
  return c.training.hidden;
}

// Share of all hidden units, from per-layer shares weighted by the layers' sizes.
double overall(const std::vector<double>& per_layer, const std::vector<std::int64_t>& units) {
  double weighted = 0, total = 0;
  for (std::size_t l = 0; l < per_layer.size() && l < units.size(); ++l) {
    weighted += per_layer[l] * static_cast<double>(units[l]);
    total += static_cast<double>(units[l]);
  }
  return total > 0 ? weighted / total : 0.0;
}

Summary summarize(const nn::Activation& activation, const std::vector<Run>& runs,
                  const StudyCommand& c) {
  Summary s;
  s.activation = &activation;
  for (const Run& r : runs) {
    if (r.activation != activation.name) continue;
    if (r.failure.empty()) {
      s.runs.push_back(&r);
    } else {
      ++s.failed;
    }
  }
  if (s.runs.empty()) return s;
  const double n = static_cast<double>(s.runs.size());
  std::vector<double> finals;
  double reached_epochs = 0;
  for (const Run* r : s.runs) {
    finals.push_back(r->history.epochs.back().test.accuracy);
    s.seconds += r->history.seconds / n;
    for (const nn::EpochRecord& e : r->history.epochs) {
      if (e.test.accuracy >= c.threshold) {
        ++s.reached;
        reached_epochs += e.epoch;
        break;
      }
    }
  }
  for (const double f : finals) s.mean += f / n;
  for (const double f : finals) s.std += (f - s.mean) * (f - s.mean);
  s.std = finals.size() > 1 ? std::sqrt(s.std / (n - 1)) : 0.0;
  s.min = *std::min_element(finals.begin(), finals.end());
  s.max = *std::max_element(finals.begin(), finals.end());
  s.epochs_to_threshold = s.reached > 0 ? reached_epochs / s.reached : 0.0;

  const std::vector<std::int64_t> units = hidden_units(c);
  const std::size_t probes = s.runs.front()->probes.size();
  for (std::size_t p = 0; p < probes; ++p) {
    std::vector<double> row, low, high;
    for (const Run* r : s.runs) {
      const study::ProbeRecord& probe = r->probes[p];
      std::vector<double> values{probe.epoch, probe.train_loss};
      values.insert(values.end(), probe.gradient_norm.begin(), probe.gradient_norm.end());
      values.push_back(overall(probe.dead_fraction, units));
      values.push_back(overall(probe.saturated_fraction, units));
      if (row.empty()) row.assign(values.size(), 0.0), low = values, high = values;
      for (std::size_t k = 0; k < values.size(); ++k) {
        row[k] += values[k] / n;
        low[k] = std::min(low[k], values[k]);
        high[k] = std::max(high[k], values[k]);
      }
    }
    s.curve.push_back(row);
    s.curve_min.push_back(low);
    s.curve_max.push_back(high);
  }
  for (std::size_t e = 0; e < s.runs.front()->history.epochs.size(); ++e) {
    double sum = 0, low = 1, high = 0;
    for (const Run* r : s.runs) {
      const double a = r->history.epochs[e].test.accuracy;
      sum += a;
      low = std::min(low, a);
      high = std::max(high, a);
    }
    s.accuracy_by_epoch.push_back(sum / n);
    s.accuracy_min.push_back(low);
    s.accuracy_max.push_back(high);
  }
  return s;
}

// ---------------------------------------------------------------- files with the raw numbers

// Deterministic: a function of the options and the data only (timing.csv holds the times).
void write_run_tables(const std::filesystem::path& out, const std::vector<Run>& runs,
                      const StudyCommand& c) {
  std::ofstream epochs(out / "epochs.csv"), probes(out / "probes.csv"),
      results(out / "results.csv"), timing(out / "timing.csv");
  epochs << "activation,seed,epoch,learning_rate,train_loss,train_accuracy,test_loss,"
            "test_accuracy\n";
  results << "activation,seed,status,final_test_loss,final_test_accuracy,best_test_accuracy,"
             "epochs_to_threshold\n";
  timing << "activation,seed,seconds\n";
  const std::size_t layers = c.training.hidden.size() + 1;
  probes << "activation,seed,step,epoch,train_loss";
  for (std::size_t l = 1; l <= layers; ++l) probes << ",gradient_norm_layer" << l;
  for (std::size_t l = 1; l < layers; ++l) probes << ",dead_layer" << l;
  for (std::size_t l = 1; l < layers; ++l) probes << ",saturated_layer" << l;
  probes << '\n';
  for (const Run& r : runs) {
    const std::string key = r.activation + "," + std::to_string(r.seed);
    if (!r.failure.empty()) {
      results << key << ",failed,,,,\n";
      continue;
    }
    double best = 0;
    int reached = 0;
    for (const nn::EpochRecord& e : r.history.epochs) {
      epochs << key << ',' << e.epoch << ',' << format_number(e.learning_rate, 9) << ','
             << format_number(e.train_loss) << ',' << format_number(e.train_accuracy) << ','
             << format_number(e.test.loss) << ',' << format_number(e.test.accuracy) << '\n';
      best = std::max(best, e.test.accuracy);
      if (reached == 0 && e.test.accuracy >= c.threshold) reached = e.epoch;
    }
    const nn::EpochRecord& last = r.history.epochs.back();
    results << key << ",trained," << format_number(last.test.loss) << ','
            << format_number(last.test.accuracy) << ',' << format_number(best) << ','
            << (reached > 0 ? std::to_string(reached) : "") << '\n';
    timing << key << ',' << format_number(r.history.seconds, 3) << '\n';
    for (const study::ProbeRecord& p : r.probes) {
      probes << key << ',' << p.step << ',' << format_number(p.epoch, 4) << ','
             << format_number(p.train_loss);
      for (const double v : p.gradient_norm) probes << ',' << format_number(v, 8);
      for (const double v : p.dead_fraction) probes << ',' << format_number(v, 4);
      for (std::size_t l = 0; l + 1 < layers; ++l) {
        probes << ',';
        if (l < p.saturated_fraction.size()) probes << format_number(p.saturated_fraction[l], 4);
      }
      probes << '\n';
    }
  }
}

// gnuplot data: one block per activation (selected with `index i`). curves.dat holds the means
// over seeds; spread.dat the smallest and largest over seeds of the same values (after the epoch,
// value k of curves.dat's column k + 1 has its minimum in column 2k and its maximum in 2k + 1).
void write_plot_data(const std::filesystem::path& out, const std::vector<Summary>& plotted) {
  std::ofstream curves(out / "curves.dat"), spread(out / "spread.dat"),
      accuracy(out / "accuracy.dat");
  for (const Summary& s : plotted) {
    curves << "# " << s.activation->name
           << ": epoch train_loss gradient_norm_per_layer... dead_share saturated_share (means "
              "over seeds)\n";
    spread << "# " << s.activation->name
           << ": epoch, then the minimum and maximum over seeds of each value of curves.dat\n";
    for (std::size_t p = 0; p < s.curve.size(); ++p) {
      const std::vector<double>& row = s.curve[p];
      for (std::size_t k = 0; k < row.size(); ++k) curves << (k ? " " : "") << row[k];
      curves << '\n';
      spread << row[0];
      for (std::size_t k = 1; k < row.size(); ++k)
        spread << ' ' << s.curve_min[p][k] << ' ' << s.curve_max[p][k];
      spread << '\n';
    }
    curves << "\n\n";
    spread << "\n\n";
    accuracy << "# " << s.activation->name
             << ": epoch mean_test_accuracy min_over_seeds max_over_seeds\n";
    for (std::size_t e = 0; e < s.accuracy_by_epoch.size(); ++e) {
      accuracy << e + 1 << ' ' << s.accuracy_by_epoch[e] << ' ' << s.accuracy_min[e] << ' '
               << s.accuracy_max[e] << '\n';
    }
    accuracy << "\n\n";
  }
}

// ---------------------------------------------------------------- figures

// "plot 'file' index 0 using 1:min:max with filledcurves ..., '' index 0 using 1:mean with lines
// title 'relu (3 seeds)', ..." over the chosen activations: each mean line over a translucent band
// from the smallest to the largest value over seeds, in the activation's colour.
struct Series {
  std::string file;       // the means
  int mean_column = 2;    // in `file`
  std::string band_file;  // the minima and maxima
  int min_column = 2, max_column = 3;
  std::string style = "lines";
};
std::string plot_each(const std::vector<Summary>& plotted, const Series& series,
                      bool (*include)(const nn::Activation&) = nullptr) {
  std::string command;
  for (std::size_t i = 0; i < plotted.size(); ++i) {
    const nn::Activation& a = *plotted[i].activation;
    if (include != nullptr && !include(a)) continue;
    const std::string index = " index " + std::to_string(i);
    const std::string colour = std::string(" lc rgb '") + color_of(a) + "'";
    command += command.empty() ? "plot " : ", ";
    command += gnuplot_quote(series.band_file) + index +
               " using 1:" + std::to_string(series.min_column) + ":" +
               std::to_string(series.max_column) +
               " with filledcurves fs transparent solid 0.2 noborder" + colour + " notitle, ";
    const std::size_t seeds = plotted[i].runs.size();
    command += gnuplot_quote(series.file) + index +
               " using 1:" + std::to_string(series.mean_column) + " with " + series.style +
               " lw 2" + colour + " title " +
               gnuplot_quote(std::string(a.name) + " (mean of " + std::to_string(seeds) +
                             (seeds == 1 ? " seed)" : " seeds, band min-max)"));
  }
  return command;
}

// Value k of curves.dat (0: the epoch) as a series with its band.
Series curve_series(std::size_t k) {
  return {.file = "curves.dat",
          .mean_column = static_cast<int>(k + 1),
          .band_file = "spread.dat",
          .min_column = static_cast<int>(2 * k),
          .max_column = static_cast<int>(2 * k + 1)};
}

bool dies(const nn::Activation& a) {
  return study::unit_health_of(a.name).failure == study::UnitFailure::dead;
}
bool saturates(const nn::Activation& a) {
  return study::unit_health_of(a.name).failure == study::UnitFailure::saturated;
}

// The run's settings, for every figure's title: what was trained, how, and over which seeds.
std::string settings_line(const StudyCommand& c, const LoadedData& d) {
  std::ostringstream line;
  line << c.data.data << ", MLP " << layer_sizes(d, c.training) << ", " << c.training.optimizer
       << " lr " << c.training.optimizer_settings.learning_rate << " (" << c.training.schedule
       << "), batch " << c.training.batch_size << ", " << c.training.epochs << " epochs, seeds "
       << c.first_seed << ".." << c.first_seed + c.seeds - 1;
  return line.str();
}

void plot_figures(const std::filesystem::path& out, const std::vector<Summary>& plotted,
                  const std::vector<std::string>& layer_titles, const std::string& settings) {
  const auto title = [&](const std::string& what) {
    return "set title " + gnuplot_quote(what + "\n" + settings) + "\n";
  };
  const std::string common = "set grid\nset key outside right\nset xlabel 'epoch'\n";
  std::string script =
      png_and_svg("loss",
                  common + title("Training loss per activation") + "set ylabel 'training loss'\n" +
                      plot_each(plotted, curve_series(1)),
                  1000, 560);
  script +=
      png_and_svg("accuracy",
                  common + title("Test accuracy per activation") + "set ylabel 'test accuracy'\n" +
                      plot_each(plotted, {.file = "accuracy.dat",
                                          .mean_column = 2,
                                          .band_file = "accuracy.dat",
                                          .min_column = 3,
                                          .max_column = 4,
                                          .style = "linespoints"}),
                  1000, 560);
  const std::size_t layers = layer_titles.size();
  std::string norms = "set multiplot layout 1," + std::to_string(layers) + " title " +
                      gnuplot_quote("Gradient norm of each layer's weights\n" + settings) +
                      "\nset grid\nset logscale y\nset format y '%.0e'\nset xlabel 'epoch'\n";
  for (std::size_t l = 0; l < layers; ++l) {
    norms += "set title " + gnuplot_quote(layer_titles[l]) + "\n" +
             (l + 1 == layers ? "set key outside right\n" : "unset key\n") +
             plot_each(plotted, curve_series(2 + l)) + "\n";
  }
  script += png_and_svg("gradient_norms", norms + "unset multiplot", 1400, 520);
  const bool any_dead = std::any_of(plotted.begin(), plotted.end(),
                                    [](const Summary& s) { return dies(*s.activation); });
  const bool any_saturated = std::any_of(plotted.begin(), plotted.end(),
                                         [](const Summary& s) { return saturates(*s.activation); });
  const int panels = (any_dead ? 1 : 0) + (any_saturated ? 1 : 0);
  if (panels > 0) {
    std::string units = "set multiplot layout 1," + std::to_string(panels) + " title " +
                        gnuplot_quote("Dead and saturated hidden units\n" + settings) +
                        "\nset grid\nset xlabel 'epoch'\nset yrange [0:*]\nset key outside "
                        "right top vertical\n";
    if (any_dead) {
      units +=
          "set title 'hidden units inactive on every probe example (dead for ReLU)'\n"
          "set ylabel 'share of hidden units'\n" +
          plot_each(plotted, curve_series(2 + layers), dies) + "\n";
    }
    if (any_saturated) {
      units +=
          "set title 'saturated activations (local derivative < 10% of its peak)'\n"
          "set ylabel 'share of unit-example pairs'\n" +
          plot_each(plotted, curve_series(3 + layers), saturates) + "\n";
    }
    script += png_and_svg("units", units + "unset multiplot", 1300, 520);
  }
  run_gnuplot(out, "figures.gp", script);
}

// ---------------------------------------------------------------- the report

std::string percent(double share) {
  return format_number(100.0 * share, 1) + "%";
}

// How the runs were executed, from the trainer's graph itself (Graph::num_threads: 0 is the serial
// executor, n >= 1 the TBB executor with n threads), never assumed.
std::string threads_text(int num_threads) {
  const char* variable = std::getenv("DAGPROP_NUM_THREADS");
  const std::string from = variable != nullptr
                               ? std::string(" (DAGPROP_NUM_THREADS=") + variable + ")"
                               : std::string(" (DAGPROP_NUM_THREADS unset)");
  if (num_threads <= 0) return "1 thread, the serial executor" + from;
  return std::to_string(num_threads) + (num_threads == 1 ? " thread" : " threads") +
         ", the TBB executor" + from;
}

void write_report(const std::filesystem::path& out, const StudyCommand& c, const LoadedData& d,
                  const std::vector<Summary>& summaries, double total_seconds, bool plots,
                  int num_threads) {
  const std::vector<std::int64_t> units = hidden_units(c);
  const std::size_t layers = c.training.hidden.size() + 1;
  std::ostringstream md;
  md << "# Activation study: " << c.data.data << "\n\n"
     << "Command: `" << remembered_command_line() << "`\n\n"
     << "- Data: " << d.description << "\n"
     << "- Model: MLP " << layer_sizes(d, c.training) << ", initializer `" << c.training.init
     << "` (auto: He for rectifier-like units, Glorot for sigmoid, tanh and step_ste), "
     << "cross-entropy\n"
     << "- Training: " << c.training.optimizer << ", learning rate "
     << c.training.optimizer_settings.learning_rate << " (" << c.training.schedule
     << " schedule), batch " << c.training.batch_size << ", " << c.training.epochs
     << " epochs, seeds " << c.first_seed << ".." << c.first_seed + c.seeds - 1
     << " (initialization and batch order; the data and its split are the same for every run)\n"
     << "- Probes: " << c.probes_per_epoch << " per epoch; gradient norms are averaged over the "
     << "steps between probes, unit statistics are measured on " << c.probe_examples
     << " fixed training examples\n"
     << "- Wall time: " << format_number(total_seconds, 0) << " s for "
     << summaries.size() * static_cast<std::size_t>(c.seeds)
     << " runs (the machine may have been shared; times are indicative)\n"
     << "- Threads: " << threads_text(num_threads) << "\n"
     << "- BLAS: " << blas_kernels()
     << " (the last bits of every product depend on these kernels; the same seeds give the same "
     << "numbers on the same kernels)\n"
     << "- What the bits depend on (docs/architecture.md#reproducibility):";
  for (const ReproducibilitySetting& s : reproducibility_settings())
    md << " " << s.key << " `" << s.value << "`;";
  md << "\n\n";

  md << "## Final test accuracy\n\n"
     << "| activation | mean | std | min | max | epochs to " << c.threshold
     << " | seconds per run |\n|---|---|---|---|---|---|---|\n";
  for (const Summary& s : summaries) {
    md << "| " << s.activation->name << " | ";
    if (s.runs.empty()) {
      md << "failed (" << s.failed << " runs) | | | | | |\n";
      continue;
    }
    md << format_number(s.mean, 4) << " | " << format_number(s.std, 4) << " | "
       << format_number(s.min, 4) << " | " << format_number(s.max, 4) << " | "
       << (s.reached > 0 ? format_number(s.epochs_to_threshold, 1) : std::string("not reached"))
       << " (" << s.reached << "/" << s.runs.size() << " seeds) | " << format_number(s.seconds, 1)
       << (s.failed > 0 ? " (" + std::to_string(s.failed) + " runs diverged)" : std::string())
       << " |\n";
  }
  if (c.data.data == "fashion-mnist") {
    md << "\nReference: the Fashion-MNIST paper's benchmark (Xiao et al. 2017, arXiv:1708.07747) "
          "lists scikit-learn's MLPClassifier with one hidden layer of 100 units at about 0.87 "
          "test accuracy for both `activation=relu` and `activation=tanh`.\n\n"
          "| model | relu | tanh |\n|---|---|---|\n"
          "| scikit-learn MLPClassifier, hidden (100,) (paper) | ~0.87 | ~0.87 |\n";
    md << "| dagprop MLP " << layer_sizes(d, c.training) << ", " << c.training.epochs
       << " epochs (this study, mean over seeds) |";
    for (const char* name : {"relu", "tanh"}) {
      const auto it = std::find_if(summaries.begin(), summaries.end(),
                                   [&](const Summary& s) { return s.activation->name == name; });
      md << " " << (it != summaries.end() && !it->runs.empty() ? format_number(it->mean, 4) : "-")
         << " |";
    }
    md << "\n";
  }

  if (plots) {
    md << "\n## Training loss and test accuracy\n\n![training loss](loss.png)\n\n"
       << "![test accuracy](accuracy.png)\n";
  }
  md << "\n## Gradient norm per layer\n\n"
     << "Norm of each layer's weight gradient, mean over the first probe window and over the "
        "last. A first layer whose gradient is orders of magnitude below the output layer's "
        "learns slowly: vanishing gradients.\n\n| activation |";
  for (std::size_t l = 1; l <= layers; ++l)
    md << " layer " << l << " start | layer " << l << " end |";
  md << " layer 1 / layer " << layers << " at start |\n|---|";
  for (std::size_t l = 0; l < 2 * layers + 1; ++l) md << "---|";
  md << "\n";
  for (const Summary& s : summaries) {
    if (s.curve.empty()) continue;
    md << "| " << s.activation->name << " |";
    for (std::size_t l = 0; l < layers; ++l) {
      char buffer[64];
      std::snprintf(buffer, sizeof buffer, " %.2e | %.2e |", s.curve.front()[2 + l],
                    s.curve.back()[2 + l]);
      md << buffer;
    }
    char ratio[32];
    std::snprintf(ratio, sizeof ratio, " %.3g |\n",
                  s.curve.front()[2] / s.curve.front()[1 + layers]);
    md << ratio;
  }
  if (plots) md << "\n![gradient norms](gradient_norms.png)\n";

  md << "\n## Dead and saturated units\n\n"
     << "Dead: hidden units whose pre-activation is <= 0 on every probe example (for ReLU and "
        "step_ste such a unit's output is constant and, for ReLU, it gets no gradient again; the "
        "smooth rectifiers still pass some gradient). Saturated: sigmoid or tanh outputs whose "
        "local derivative is below 10% of its peak. Shares of all "
     << std::accumulate(units.begin(), units.end(), std::int64_t{0})
     << " hidden units, at the first and the last probe.\n\n"
        "| activation | measure | start | end |\n|---|---|---|---|\n";
  for (const Summary& s : summaries) {
    if (s.curve.empty()) continue;
    const bool saturated = saturates(*s.activation);
    const std::size_t column = 2 + layers + (saturated ? 1 : 0);
    md << "| " << s.activation->name << " | " << (saturated ? "saturated" : "dead") << " | "
       << percent(s.curve.front()[column]) << " | " << percent(s.curve.back()[column]) << " |\n";
  }
  if (plots) md << "\n![dead and saturated units](units.png)\n";
  md << "\n## Files\n\n"
     << "- `results.csv`: final and best test accuracy and epochs to the threshold, per run\n"
     << "- `epochs.csv`: per-epoch metrics of every run; `probes.csv`: every probe of every run\n"
     << "- `timing.csv`: wall time per run (kept apart: the other files are the same for the same "
        "seeds)\n"
     << "- `curves.dat`, `accuracy.dat`, `figures.gp`: the figures' data and gnuplot script\n";
  std::ofstream(out / "report.md") << md.str();
}

void run_study(const StudyCommand& c) {
  std::vector<const nn::Activation*> chosen;
  for (const std::string& name : c.activations) chosen.push_back(&nn::activation_by_name(name));
  const LoadedData d = load_data(c.data);
  const std::filesystem::path out = prepare_output_folder(c.out);
  nn::TrainOptions options = c.training;
  const std::int64_t steps_per_epoch =
      d.train.size() / std::max<std::int64_t>(1, options.batch_size);
  const std::int64_t probe_every = std::max<std::int64_t>(1, steps_per_epoch / c.probes_per_epoch);
  std::printf("%s\nmodel %s, %d epochs, %zu activations x %d seeds\n", d.description.c_str(),
              layer_sizes(d, options).c_str(), options.epochs, chosen.size(), c.seeds);

  const auto start = std::chrono::steady_clock::now();
  std::vector<Run> runs;
  int num_threads = Graph().num_threads();  // what a trainer's graph gets; read from the first
  const std::size_t total = chosen.size() * static_cast<std::size_t>(c.seeds);
  for (const nn::Activation* activation : chosen) {
    for (int k = 0; k < c.seeds; ++k) {
      Run run{.activation = std::string(activation->name), .seed = c.first_seed + k};
      options.activation = run.activation;
      options.seed = run.seed;
      Progress progress(run.activation + " seed " + std::to_string(run.seed) + " (" +
                        std::to_string(runs.size() + 1) + "/" + std::to_string(total) + ")");
      try {
        nn::Trainer trainer(d.train, d.test, options, d.validation ? &*d.validation : nullptr);
        num_threads = trainer.graph().num_threads();
        study::UnitProbe probe(trainer, d.train, probe_every, c.probe_examples);
        run.history = trainer.fit(
            {.on_step =
                 [&](const nn::StepReport& r) {
                   probe.on_step(r);
                   progress.on_step(r);
                 },
             .on_epoch = [&](const nn::EpochRecord& e) { progress.on_epoch(e, options.epochs); }});
        run.probes = probe.records();
      } catch (const Error& e) {
        // One diverging activation must not cost the whole study: record it and go on.
        run.failure = e.what();
        std::printf("%s seed %llu failed: %s\n", run.activation.c_str(),
                    static_cast<unsigned long long>(run.seed), e.what());
      }
      runs.push_back(std::move(run));
    }
  }
  const double seconds =
      std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();

  std::vector<Summary> summaries, plotted;
  for (const nn::Activation* a : chosen) summaries.push_back(summarize(*a, runs, c));
  for (const Summary& s : summaries) {
    if (!s.runs.empty()) plotted.push_back(s);
  }
  write_run_tables(out, runs, c);
  write_plot_data(out, plotted);
  std::vector<std::string> layer_titles;
  std::vector<std::int64_t> widths{d.train.num_features()};
  widths.insert(widths.end(), options.hidden.begin(), options.hidden.end());
  widths.push_back(std::max(d.train.num_classes, d.test.num_classes));
  for (std::size_t l = 0; l + 1 < widths.size(); ++l) {
    layer_titles.push_back("layer " + std::to_string(l + 1) + " (" + std::to_string(widths[l]) +
                           " to " + std::to_string(widths[l + 1]) + ")");
  }
  const bool plots = !c.no_plots && !plotted.empty();
  if (plots) plot_figures(out, plotted, layer_titles, settings_line(c, d));
  write_report(out, c, d, summaries, seconds, plots, num_threads);
  std::printf("study done in %.0f s: %s\n", seconds, (out / "report.md").c_str());
}

}  // namespace

void add_study_command(CLI::App& app) {
  CLI::App* study = app.add_subcommand("study", "Experiments that compare training set-ups");
  study->require_subcommand(1);
  auto command = std::make_shared<StudyCommand>();
  command->training.epochs = 3;
  command->training.schedule = "cosine";  // as `dagprop train`
  for (const std::string_view name : nn::activation_names())
    command->activations.emplace_back(name);
  CLI::App* activations = study->add_subcommand(
      "activations",
      "Train the same model once per activation and seed; write a report with figures");
  add_data_options(*activations, command->data);
  add_training_options(*activations, command->training);
  activations
      ->add_option("--activations", command->activations, "Activations to compare, comma-separated")
      ->delimiter(',')
      ->capture_default_str();
  activations->add_option("--seeds", command->seeds, "Seeds per activation")
      ->capture_default_str()
      ->check(whole_number_from_to(1, 100));
  activations->add_option("--first-seed", command->first_seed, "First seed")
      ->capture_default_str()
      ->check(seed_number());
  activations
      ->add_option("--threshold", command->threshold, "Test accuracy whose first epoch is reported")
      ->capture_default_str()
      ->check(number_from_to(0.0, 1.0));
  activations
      ->add_option("--probes-per-epoch", command->probes_per_epoch,
                   "Gradient-norm and unit probes per epoch")
      ->capture_default_str()
      ->check(whole_number_from_to(1, 1000));
  activations
      ->add_option("--probe-examples", command->probe_examples,
                   "Training examples the unit statistics are measured on")
      ->capture_default_str()
      ->check(whole_number_from_to(1, 100000));
  activations->add_option("--out", command->out, "Output folder")->capture_default_str();
  activations->add_flag("--no-plots", command->no_plots, "Skip the gnuplot figures");
  activations->callback([command] { run_study(*command); });
}

}  // namespace dagprop::cli
