// dagprop_bench_parallel: W1, W3 and W4 of WORKLOADS.md with the serial executor and the TBB
// executor at 1 and 2 threads. Prints one line per figure (median over repetitions, min and max
// beside it), the checksums, and the speed-ups against the serial executor.
//
//   build/tools/dagprop_bench_parallel                      all workloads, W1 at N = 20,000 and 1M
//   build/tools/dagprop_bench_parallel --workload w3 --reps 9
#include <algorithm>
#include <chrono>
#include <cmath>
#include <cstdio>
#include <cstring>
#include <fstream>
#include <map>
#include <memory>
#include <string>
#include <thread>
#include <vector>

#include <CLI/CLI.hpp>

#include <dagprop/parallelism.hpp>

#include "workloads.hpp"

namespace dagprop::bench {
namespace {

using Clock = std::chrono::steady_clock;

double seconds_since(Clock::time_point start) {
  return std::chrono::duration<double>(Clock::now() - start).count();
}

struct Figure {
  double median = 0, min = 0, max = 0;
};

Figure summarize(std::vector<double> values) {
  std::sort(values.begin(), values.end());
  return {values[values.size() / 2], values.front(), values.back()};
}

void print_figure(const std::string& row, const std::string& figure, const Figure& f,
                  const char* unit) {
  std::printf("%-28s %-24s %10.2f %-10s (min %.2f, max %.2f)\n", row.c_str(), figure.c_str(),
              f.median, unit, f.min, f.max);
}

// Prints a checksum against WORKLOADS.md's figure, given to 6 significant digits there: a value
// within `tolerance` passes (float32 results of correct kernels differ in the last bits, e.g. W4's
// loss with a tanh 1 ulp away from glibc's); any other throws, and the program exits nonzero.
void check_figure(const std::string& row, const char* what, double value, double expected,
                  double tolerance) {
  const bool ok = std::abs(value - expected) <= tolerance;
  std::printf("%-28s %-24s %.9g (expected %.9g +- %.0e) %s\n", row.c_str(), what, value, expected,
              tolerance, ok ? "OK" : "MISMATCH");
  if (!ok) throw Error(row + ": " + what + " differs from WORKLOADS.md");
}

// Executor settings compared: 0 is the serial executor, n >= 1 the TBB executor with n threads.
constexpr int kThreadSettings[] = {0, 1, 2};
// The samples of W3's reference run with its heads split by hand over two threads.
constexpr int kSplitByHand = -2;
std::string setting_name(int threads) {
  return threads == 0 ? "serial" : "tbb" + std::to_string(threads);
}

// Samples per executor setting and figure. Repetitions go round-robin over the settings, so a
// change in the machine's load (it is shared) touches every setting alike.
class Samples {
 public:
  void add(int threads, const std::string& figure, double value) {
    samples_[{threads, figure}].push_back(value);
  }
  Figure summary(int threads, const std::string& figure) const {
    return summarize(samples_.at({threads, figure}));
  }
  void print(const std::string& workload, const std::string& figure, const char* unit) const {
    for (const int threads : kThreadSettings)
      print_figure(workload + " " + setting_name(threads), figure, summary(threads, figure), unit);
  }
  // Serial time over the time of `setting`: above 1 is faster (see print_speedup).
  double speedup_of(int setting, const std::string& figure) const {
    return paired_ratio(0, setting, figure);
  }
  // Serial time over 2-thread time: above 1 is faster. The median of the ratios within each round
  // (the settings of one round ran seconds apart, under the same load), which a neighbour's burst
  // of work on the shared machine moves less than a ratio of medians.
  void print_speedup(const std::string& workload, const std::string& figure,
                     const char* target) const {
    std::printf("%-28s %-24s %10.2fx     tbb2/tbb1 %.2fx %s\n", workload.c_str(),
                ("speed-up " + figure).c_str(), paired_ratio(0, 2, figure),
                paired_ratio(1, 2, figure), target);
  }

 private:
  double paired_ratio(int numerator, int denominator, const std::string& figure) const {
    const std::vector<double>& a = samples_.at({numerator, figure});
    const std::vector<double>& b = samples_.at({denominator, figure});
    std::vector<double> ratios;
    for (std::size_t i = 0; i < a.size() && i < b.size(); ++i) ratios.push_back(a[i] / b[i]);
    return summarize(ratios).median;
  }

  std::map<std::pair<int, std::string>, std::vector<double>> samples_;
};

void print_plan_shape(const std::string& row, Graph& graph, const std::vector<Expr>& outputs) {
  const Function function = graph.compile(outputs);
  const ParallelismReport report = analyze_parallelism(graph, outputs);
  std::printf("%-28s plan: %zu steps in %u tasks (their work/span %.1f); nodes' work/span %.1f\n",
              row.c_str(), function.num_steps(), function.num_tasks(), function.parallelism(),
              report.parallelism);
}

// The outputs of the plan that backward() runs: the loss and its gradients.
std::vector<Expr> with_gradients(Expr loss, const std::vector<Expr>& parameters) {
  std::vector<Expr> outputs{loss};
  for (const Expr& g : grad(loss, parameters)) outputs.push_back(g);
  return outputs;
}

// ---- memory: peak resident set since the last reset (Linux /proc)
long status_kib(const char* field) {
  std::ifstream status("/proc/self/status");
  std::string line;
  while (std::getline(status, line)) {
    if (line.rfind(field, 0) == 0) return std::stol(line.substr(std::strlen(field)));
  }
  return 0;
}
void reset_peak_rss() {
  std::ofstream("/proc/self/clear_refs") << "5";
}

// The machine is shared: the load when a workload starts tells how far its figures can be trusted.
void print_load(const char* workload) {
  std::ifstream loadavg("/proc/loadavg");
  std::string one, five, fifteen;
  loadavg >> one >> five >> fifteen;
  std::printf("%-28s load average %s %s %s\n", workload, one.c_str(), five.c_str(),
              fifteen.c_str());
}

// ---------------------------------------------------------------- W1

void run_neuron_soup_graph(const NeuronSoupData& data, int reps) {
  const auto num_neurons = static_cast<std::uint32_t>(data.sources.size());
  const std::string workload = "W1 N=" + std::to_string(num_neurons);
  Samples samples;
  constexpr int kSettings = static_cast<int>(std::size(kThreadSettings));
  for (int rep = 0; rep <= reps; ++rep) {  // rep 0 warms up and prints the checksums
    // The settings take turns in a rotated order each round: every setting builds its soup on the
    // heap the one before it freed, and none should always follow the same one.
    for (int turn = 0; turn < kSettings; ++turn) {
      const int threads = kThreadSettings[(turn + rep) % kSettings];
      NeuronSoup soup;
      soup.graph->set_num_threads(threads);
      reset_peak_rss();
      const long rss_before = status_kib("VmRSS:");
      const auto start = Clock::now();
      build_neuron_soup(data, soup);
      const double loss = soup.graph->run(soup.loss, soup.feeds).item();
      const double forward_s = seconds_since(start);
      const auto backward_start = Clock::now();
      soup.graph->backward(soup.loss, soup.feeds);
      const double backward_s = seconds_since(backward_start);
      const long peak = status_kib("VmHWM:");
      if (rep == 0) {
        if (threads == 0) print_plan_shape(workload + " forward", *soup.graph, {soup.loss});
        const GradientChecksum checksum = neuron_soup_gradient_checksum(soup);
        std::printf("%-28s checksum loss %.12e, gradient sum %.12e, sum of abs %.12e\n",
                    (workload + " " + setting_name(threads)).c_str(), loss, checksum.sum,
                    checksum.sum_abs);
        continue;
      }
      samples.add(threads, "record+forward", forward_s * 1e9 / num_neurons);
      samples.add(threads, "backward", backward_s * 1e9 / num_neurons);
      samples.add(threads, "total", (forward_s + backward_s) * 1e9 / num_neurons);
      samples.add(threads, "peak memory",
                  static_cast<double>(peak - rss_before) * 1024.0 / num_neurons);
    }
  }
  samples.print(workload, "record+forward", "ns/neuron");
  samples.print(workload, "backward", "ns/neuron");
  samples.print(workload, "peak memory", "B/neuron");
  samples.print_speedup(workload, "total", "(target: >= 1.00x)");
}

// The scalar tape, one thread. "tape": a new ScalarTape every repetition, as a program that records
// one per evaluation (its columns come from the thread's cache of the last destroyed tape's, as
// Stan's arena persists between gradients); "tape-reused": one tape cleared and recorded again.
// Both record z with weighted_sum; "tape-ops" and "tape-ops-reused" spell it with * and + (8
// entries instead of 1). Each row starts with the cache emptied: its first recording (the warm-up,
// which checks the checksums) faults in fresh pages, and gives the peak memory and the cold time.
struct TapeRow {
  std::string engine;
  TapeSpelling spelling;
  bool fresh;
};
const TapeRow kTapeRows[] = {{"tape", TapeSpelling::weighted_sum, true},
                             {"tape-reused", TapeSpelling::weighted_sum, false},
                             {"tape-ops", TapeSpelling::operators, true},
                             {"tape-ops-reused", TapeSpelling::operators, false}};

// A row's repetitions run back to back, as in the ADOL-C peer's program: where a fresh tape's
// memory comes from (pages malloc kept from the last repetition, or new ones from the kernel, which
// cost up to 10 us each on this VM) depends on what was freed just before it, and rows taking turns
// would hand each fresh tape the other rows' leftovers.
void run_neuron_soup_tape(const NeuronSoupData& data, int reps) {
  const std::size_t num_neurons = data.sources.size();
  const std::string workload = "W1 N=" + std::to_string(num_neurons);
  const auto per_neuron = static_cast<double>(num_neurons);
  for (const TapeRow& tape_row : kTapeRows) {
    const std::string row = workload + " " + tape_row.engine;
    std::map<std::string, std::vector<double>> samples;
    ScalarTape::release_cached_memory();
    TapeNeuronSoup reused;
    for (int rep = 0; rep <= reps; ++rep) {  // rep 0 warms up and checks the checksums
      auto fresh = std::make_unique<TapeNeuronSoup>();
      TapeNeuronSoup& soup = tape_row.fresh ? *fresh : reused;
      reset_peak_rss();
      const long rss_before = status_kib("VmRSS:");
      const auto start = Clock::now();
      const double loss = record_neuron_soup(data, soup, tape_row.spelling);
      const double forward_s = seconds_since(start);
      const auto backward_start = Clock::now();
      soup.tape.backward(soup.loss);
      const double backward_s = seconds_since(backward_start);
      const long peak = status_kib("VmHWM:");
      if (rep == 0) {
        const GradientChecksum checksum = neuron_soup_gradient_checksum(soup);
        const bool checked = check_neuron_soup_checksums(num_neurons, loss, checksum);
        std::printf("%-28s checksum loss %.12e, gradient sum %.12e, sum of abs %.12e %s\n",
                    row.c_str(), loss, checksum.sum, checksum.sum_abs,
                    checked ? "OK (12 digits)" : "(no reference for this N)");
        if (tape_row.fresh) {
          std::printf("%-28s %zu entries, %.1f B/neuron held by the tape\n", row.c_str(),
                      soup.tape.size(), static_cast<double>(soup.tape.memory_bytes()) / per_neuron);
          // The first recording's growth of the resident set, as the ADOL-C peer reports it: later
          // new tapes take the cached columns of the one before.
          std::printf("%-28s %-24s %10.2f %-10s (first repetition)\n", row.c_str(), "peak memory",
                      static_cast<double>(peak - rss_before) * 1024.0 / per_neuron, "B/neuron");
          std::printf("%-28s %-24s %10.2f %-10s (first repetition: fresh pages, one sample)\n",
                      row.c_str(), "total, cold memory",
                      (forward_s + backward_s) * 1e9 / per_neuron, "ns/neuron");
        }
        continue;
      }
      samples["record+forward"].push_back(forward_s * 1e9 / per_neuron);
      samples["backward"].push_back(backward_s * 1e9 / per_neuron);
      samples["total"].push_back((forward_s + backward_s) * 1e9 / per_neuron);
    }
    for (const char* figure : {"record+forward", "backward", "total"})
      print_figure(row, figure, summarize(samples[figure]), "ns/neuron");
  }
}

void run_neuron_soup(std::uint32_t num_neurons, int reps, const std::string& engines) {
  print_load(("W1 N=" + std::to_string(num_neurons)).c_str());
  const NeuronSoupData data = make_neuron_soup_data(num_neurons);
  // The tape first: memory that the graph rows free stays in malloc's heap, and a tape recorded
  // into it would raise no peak at all.
  if (engines != "graph") run_neuron_soup_tape(data, reps);
  if (engines != "tape") run_neuron_soup_graph(data, reps);
}

// ---------------------------------------------------------------- W3

void run_heads(int reps) {
  constexpr int kWarmUp = 20, kBlock = 100;
  print_load("W3");
  {
    Heads shown;  // a copy whose gradient plan (what backward() runs) is compiled to show its shape
    build_heads(shown);
    print_plan_shape("W3 backward", *shown.graph, with_gradients(shown.loss, shown.parameters));
  }
  std::map<int, Heads> heads;  // one graph per setting
  for (const int threads : kThreadSettings) {
    Heads& h = heads[threads];
    build_heads(h);
    h.graph->set_num_threads(threads);
    for (int i = 0; i < kWarmUp; ++i) h.graph->backward(h.loss);
    const std::string row = "W3 " + setting_name(threads);
    check_figure(row, "checksum loss", h.loss.value().item(), 18.270706, 1e-6);
    check_figure(row, "checksum gradient sum", sum_of_gradients(h.parameters), 1.214728, 1e-6);
  }
  // What two threads can do on this machine with no scheduler at all: the heads split by hand into
  // two graphs of 32, each run by the serial executor on a std::thread of its own (no hand-offs,
  // no waiting for each other between iterations).
  Heads halves[2];
  build_heads(halves[0], 0, 32);
  build_heads(halves[1], 32, 32);
  for (Heads& half : halves) {
    for (int i = 0; i < kWarmUp; ++i) half.graph->backward(half.loss);
  }
  check_figure("W3 split-by-hand", "checksum loss",
               halves[0].loss.value().item() + halves[1].loss.value().item(), 18.270706, 1e-5);
  Samples samples;
  for (int block = 0; block < reps; ++block) {
    for (const int threads : kThreadSettings) {
      Heads& h = heads[threads];
      const auto start = Clock::now();
      for (int i = 0; i < kBlock; ++i) h.graph->backward(h.loss);
      samples.add(threads, "forward+backward", seconds_since(start) * 1e3 / kBlock);
    }
    const auto start = Clock::now();
    std::thread second([&] {
      for (int i = 0; i < kBlock; ++i) halves[1].graph->backward(halves[1].loss);
    });
    for (int i = 0; i < kBlock; ++i) halves[0].graph->backward(halves[0].loss);
    second.join();
    samples.add(kSplitByHand, "forward+backward", seconds_since(start) * 1e3 / kBlock);
  }
  samples.print("W3", "forward+backward", "ms/iter");
  samples.print_speedup("W3", "forward+backward", "(target: >= 1.80x)");
  print_figure("W3 split-by-hand", "forward+backward",
               samples.summary(kSplitByHand, "forward+backward"), "ms/iter");
  std::printf("%-28s %-24s %10.2fx     (the machine's ceiling for the executor's speed-up)\n",
              "W3 split-by-hand", "speed-up forward+backward",
              samples.speedup_of(kSplitByHand, "forward+backward"));
}

// ---------------------------------------------------------------- W4

void run_deep_chain(int reps) {
  print_load("W4");
  std::map<int, DeepChain> chains;  // one graph per setting
  for (const int threads : kThreadSettings) {
    DeepChain& chain = chains[threads];
    const auto build_start = Clock::now();
    build_deep_chain(chain);
    chain.graph->set_num_threads(threads);
    chain.graph->backward(chain.loss);  // builds the gradient graph and compiles both plans
    chain.graph->run(chain.loss);
    const std::string row = "W4 " + setting_name(threads);
    std::printf("%-28s build + compile once %.1f ms\n", row.c_str(),
                seconds_since(build_start) * 1e3);
    chain.graph->backward(chain.loss);
    double gradient_sum = 0;
    for (std::int64_t i = 0; i < 16; ++i) gradient_sum += chain.x0.grad().at(i);
    check_figure(row, "checksum loss", chain.loss.value().item(), 2.188893, 1e-6);
    // Subnormal: a flush to zero would make it 0.
    check_figure(row, "checksum gradient sum", gradient_sum, 1.121039e-43, 1e-49);
  }
  {
    DeepChain shown;
    build_deep_chain(shown);
    print_plan_shape("W4 backward", *shown.graph, with_gradients(shown.loss, {shown.x0}));
  }
  Samples samples;
  for (int rep = 0; rep < reps; ++rep) {
    for (const int threads : kThreadSettings) {
      DeepChain& chain = chains[threads];
      auto start = Clock::now();
      chain.graph->run(chain.loss);
      const double forward_s = seconds_since(start);
      start = Clock::now();
      chain.graph->backward(chain.loss);  // one plan: the forward again, then the gradient
      const double both_s = seconds_since(start);
      samples.add(threads, "forward+backward", both_s * 1e9 / kDeepChainOps);
      samples.add(threads, "forward", forward_s * 1e9 / kDeepChainOps);
      samples.add(threads, "backward (difference)", (both_s - forward_s) * 1e9 / kDeepChainOps);
    }
  }
  samples.print("W4", "forward+backward", "ns/op");
  samples.print("W4", "forward", "ns/op");
  samples.print("W4", "backward (difference)", "ns/op");
  samples.print_speedup("W4", "forward+backward", "(target: >= 0.95x, i.e. <= 1.05x the time)");
}

}  // namespace
}  // namespace dagprop::bench

int main(int argc, char** argv) {
  CLI::App app{"W1, W3 and W4 (WORKLOADS.md) on the serial and the TBB executor"};
  std::string workload = "all";
  int reps = 7;
  std::vector<std::uint32_t> neuron_counts{20'000, 1'000'000};
  app.add_option("--workload", workload, "w1, w3, w4 or all")
      ->check(CLI::IsMember({"all", "w1", "w3", "w4"}));
  app.add_option("--reps", reps, "timed repetitions (W3: blocks of 100 iterations)")
      ->check(CLI::Range(5, 1000));
  app.add_option("--neurons", neuron_counts, "W1 sizes");
  std::string w1_engines = "all";
  app.add_option("--w1-engine", w1_engines, "W1 on the graph executors, the scalar tape, or all")
      ->check(CLI::IsMember({"all", "graph", "tape"}));
  CLI11_PARSE(app, argc, argv);

  std::printf(
      "# dagprop parallel benchmark: median of %d repetitions; serial = serial executor, "
      "tbbN = TBB executor with N threads\n",
      reps);
  std::printf(
      "# W1 prunes by reachability: only nodes the loss depends on are computed; its "
      "backward() runs one plan that recomputes the forward\n");
  std::printf(
      "# W1 tape rows: ScalarTape, one thread; the inputs and parameters (plain doubles) are "
      "recorded as tape variables inside the timed record+forward region (as ADOL-C's <<=); "
      "backward sweeps the whole tape, no pruning; tape = a new ScalarTape per repetition (its "
      "columns from the thread's cache of the last one's), tape-reused = one tape cleared and "
      "re-recorded; z = weighted_sum(v, w, b), one entry; tape-ops rows: z spelled with * and + "
      "(8 entries)\n");
  std::printf(
      "# libtorch on W3 and W4: dagprop_bench_peer_torch; bash tools/bench/run.sh runs both "
      "and prints the ratios\n");
  try {
    // W1 first: its peak-memory figures are the growth of the resident set, which heap that an
    // earlier workload freed (and glibc kept) would hide.
    if (workload == "all" || workload == "w1") {
      for (const std::uint32_t n : neuron_counts)
        dagprop::bench::run_neuron_soup(n, reps, w1_engines);
    }
    if (workload == "all" || workload == "w3") dagprop::bench::run_heads(reps);
    if (workload == "all" || workload == "w4") dagprop::bench::run_deep_chain(reps);
  } catch (const std::exception& e) {
    std::fprintf(stderr, "dagprop_bench_parallel: %s\n", e.what());
    return 1;
  }
  return 0;
}
