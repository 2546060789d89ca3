// dagprop_bench_graph_io: graph files at scale. For a chain (x -> tanh(x * c) -> ...) and a
// layered MLP of scalar neurons (every weight a parameter, so half the nodes carry tensor data),
// at 10k, 100k, 1M and 10M nodes: the file's size, the median time of save_graph and load_graph,
// and the peak memory each adds to the process (VmHWM after resetting it, over the resident set
// before), also as a multiple of the file's size.
//
//   build/tools/dagprop_bench_graph_io --nodes 10000 100000 1000000 10000000 --reps 5
//
// Repetitions at 10M nodes are capped at 3 (--big-reps) to keep the run within minutes. The
// file goes to --dir (default: the temporary directory); the page cache holds it, so the times
// are those of the format, not of the disk.
#include <malloc.h>
#include <time.h>
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <string>
#include <vector>

#include <CLI/CLI.hpp>

#include <dagprop/dagprop.hpp>
#include <dagprop/graph_io.hpp>

namespace dagprop::bench {
namespace {

// Resident memory in bytes from /proc/self/status: "VmRSS" now, "VmHWM" its peak.
std::size_t status_bytes(const std::string& field) {
  std::ifstream status("/proc/self/status");
  std::string line;
  while (std::getline(status, line)) {
    if (line.rfind(field + ":", 0) == 0) return std::stoull(line.substr(field.size() + 1)) * 1024;
  }
  return 0;
}

// Returns freed memory to the system and resets VmHWM to the current resident set (Linux's
// clear_refs "5"), so that the next peak is that of what follows.
std::size_t reset_peak() {
  malloc_trim(0);
  std::ofstream("/proc/self/clear_refs") << "5";
  return status_bytes("VmRSS");
}

void build_chain(Graph& g, std::size_t nodes) {
  const Expr x0 = g.parameter("x0", 0.3);
  const Expr c = g.constant(0.999);
  Expr x = x0;
  while (g.size() + 2 <= nodes) x = tanh(x * c);
}

// Layers of 32 neurons, each tanh(b + sum_i w_i * x_i) over the 32 outputs of the layer before,
// every w_i and b a scalar parameter: 98 nodes a neuron, about the shape of a micrograd MLP.
void build_mlp(Graph& g, std::size_t nodes) {
  constexpr int kWidth = 32;
  std::vector<Expr> layer;
  for (int i = 0; i < kWidth; ++i) layer.push_back(g.input("x" + std::to_string(i), Shape{}));
  int depth = 0;
  while (g.size() + kWidth * (3 * kWidth + 2) <= nodes) {
    ++depth;
    std::vector<Expr> next;
    for (int n = 0; n < kWidth; ++n) {
      const std::string prefix = "l" + std::to_string(depth) + "n" + std::to_string(n);
      Expr z = g.parameter(prefix + "b", 0.01 * n);
      for (int i = 0; i < kWidth; ++i) {
        z = z + g.parameter(prefix + "w" + std::to_string(i), 0.001 * (i - n)) * layer[i];
      }
      next.push_back(tanh(z));
    }
    layer = std::move(next);
  }
}

// Wall-clock and CPU seconds: on a shared host the CPU time of this one-threaded work is the
// steadier figure (other processes' load stretches the wall time, not the CPU time).
struct Clock {
  std::chrono::steady_clock::time_point wall = std::chrono::steady_clock::now();
  double cpu = cpu_seconds();
  static double cpu_seconds() {
    timespec t{};
    clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &t);
    return static_cast<double>(t.tv_sec) + 1e-9 * static_cast<double>(t.tv_nsec);
  }
  double wall_seconds() const {
    return std::chrono::duration<double>(std::chrono::steady_clock::now() - wall).count();
  }
  double cpu_seconds_since() const { return cpu_seconds() - cpu; }
};

double median(std::vector<double> v) {
  std::sort(v.begin(), v.end());
  return v.size() % 2 == 1 ? v[v.size() / 2] : (v[v.size() / 2 - 1] + v[v.size() / 2]) / 2;
}

void measure(const std::string& shape, std::size_t target, int reps, const std::string& dir) {
  const std::string path = dir + "/dagprop_bench_graph_io_" + std::to_string(::getpid()) + ".json";
  std::vector<double> save_s, load_s, save_cpu, load_cpu;
  std::size_t save_peak = 0, load_peak = 0, nodes = 0;
  {
    auto graph = std::make_unique<Graph>();
    if (shape == "chain") {
      build_chain(*graph, target);
    } else {
      build_mlp(*graph, target);
    }
    nodes = graph->size();
    for (int r = 0; r < reps; ++r) {
      const std::size_t before = reset_peak();
      const Clock clock;
      save_graph(*graph, path);
      save_s.push_back(clock.wall_seconds());
      save_cpu.push_back(clock.cpu_seconds_since());
      save_peak = std::max(save_peak, status_bytes("VmHWM") - before);
    }
  }  // the original graph is gone before the copies are loaded
  for (int r = 0; r < reps; ++r) {
    const std::size_t before = reset_peak();
    const Clock clock;
    LoadedGraph loaded = load_graph(path);
    load_s.push_back(clock.wall_seconds());
    load_cpu.push_back(clock.cpu_seconds_since());
    load_peak = std::max(load_peak, status_bytes("VmHWM") - before);
    if (loaded.graph->size() != nodes) {
      std::fprintf(stderr, "loaded %zu nodes, saved %zu\n", loaded.graph->size(), nodes);
      std::exit(1);
    }
  }
  const double file_mb = static_cast<double>(std::filesystem::file_size(path)) / 1e6;
  std::filesystem::remove(path);
  const double mb = 1e6;
  std::printf(
      "graph_io %-5s nodes=%-9zu file_mb=%7.1f save_s=%7.3f load_s=%7.3f save_cpu_s=%7.3f "
      "load_cpu_s=%7.3f load/save_cpu=%5.2f save_peak_mb=%6.1f load_peak_mb=%7.1f "
      "load_peak/file=%5.2f reps=%d\n",
      shape.c_str(), nodes, file_mb, median(save_s), median(load_s), median(save_cpu),
      median(load_cpu), median(load_cpu) / median(save_cpu), static_cast<double>(save_peak) / mb,
      static_cast<double>(load_peak) / mb, static_cast<double>(load_peak) / mb / file_mb, reps);
  std::fflush(stdout);
}

}  // namespace
}  // namespace dagprop::bench

int main(int argc, char** argv) {
  CLI::App app{"dagprop_bench_graph_io: save and load time and peak memory of graph files"};
  std::vector<std::size_t> nodes = {10'000, 100'000, 1'000'000, 10'000'000};
  std::vector<std::string> shapes = {"chain", "mlp"};
  int reps = 5;
  int big_reps = 3;
  std::string dir = std::filesystem::temp_directory_path().string();
  app.add_option("--nodes", nodes, "graph sizes (nodes)");
  app.add_option("--shapes", shapes, "chain, mlp")->check(CLI::IsMember({"chain", "mlp"}));
  app.add_option("--reps", reps, "repetitions per figure (the median is printed)")
      ->check(CLI::PositiveNumber);
  app.add_option("--big-reps", big_reps, "repetitions at 10M nodes or more")
      ->check(CLI::PositiveNumber);
  app.add_option("--dir", dir, "where the file is written")->check(CLI::ExistingDirectory);
  CLI11_PARSE(app, argc, argv);
  for (const std::size_t n : nodes) {
    for (const std::string& shape : shapes) {
      dagprop::bench::measure(shape, n, n >= 10'000'000 ? std::min(reps, big_reps) : reps, dir);
    }
  }
  return 0;
}
