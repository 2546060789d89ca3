// dagprop_bench_peer_adolc: the ADOL-C peer of W1 (WORKLOADS.md), the scalar neuron soup in
// float64: record+forward (taping computes the values) and backward (one reverse sweep,
// fos_reverse, to the gradient of the loss with respect to the 64 inputs and the 5N neuron
// parameters), in ns per neuron, and peak resident memory per neuron. Checksums: loss, sum and sum
// of absolute values of the gradient. ADOL-C is single-threaded; it sweeps the whole tape,
// including the neurons the loss does not depend on (72.25 % of them at N = 1,000,000).
//
//   build/tools/dagprop_bench_peer_adolc --neurons 20000 1000000 --reps 5
//
// Memory: the peak RSS (VmHWM, reset after the data is generated) minus the RSS at the reset, of
// the first repetition (a fresh tape; later ones reuse memory that ADOL-C and malloc kept).
#include <adolc/adolc.h>

#include <array>
#include <cmath>
#include <cstdio>
#include <string>
#include <vector>

#include <CLI/CLI.hpp>

#include <dagprop/random.hpp>

#include "ceilings_measure.hpp"

namespace dagprop::bench {
namespace {

struct NeuronSoup {
  static constexpr int kInputs = 64;
  static constexpr int kLossNeurons = 1000;
  std::vector<std::array<std::uint32_t, 4>> sources;  // per neuron: the earlier nodes it reads
  std::vector<double> independents;                   // 64 inputs, then per neuron w0..w3, b
};

// One stream, seed 101, read in the order WORKLOADS.md gives.
NeuronSoup make_neuron_soup(std::uint32_t neurons) {
  SplitMix64 stream(101);
  NeuronSoup soup;
  soup.independents.reserve(NeuronSoup::kInputs + 5 * std::size_t{neurons});
  for (int j = 0; j < NeuronSoup::kInputs; ++j)
    soup.independents.push_back(2 * stream.uniform() - 1);
  soup.sources.resize(neurons);
  for (std::uint32_t i = 0; i < neurons; ++i) {
    for (std::uint32_t& s : soup.sources[i])
      s = static_cast<std::uint32_t>(stream.next() % (NeuronSoup::kInputs + std::uint64_t{i}));
    for (int m = 0; m < 5; ++m) soup.independents.push_back(2 * stream.uniform() - 1);
  }
  return soup;
}

struct Checksums {
  double loss, sum, sum_abs;
};
constexpr Checksums kExpected20k{2.863941742306e+02, 1.063565248204e+03, 3.668169575987e+03};
constexpr Checksums kExpected1M{3.184184929874e+02, 1.103619212560e+03, 5.616347945119e+03};

// Tapes the soup (the values are computed while taping) and returns the loss.
double record(const NeuronSoup& soup, short tag) {
  const std::size_t neurons = soup.sources.size();
  // Buffers large enough that the tape stays in memory (ADOL-C writes the rest to files).
  const auto n = static_cast<unsigned>(neurons);
  trace_on(tag, 1, 32 * n + 65536, 96 * n + 65536, 8 * n + 65536, 32 * n + 65536);
  std::vector<adouble> v(NeuronSoup::kInputs + neurons);
  const double* x = soup.independents.data();
  for (int j = 0; j < NeuronSoup::kInputs; ++j) v[static_cast<std::size_t>(j)] <<= x[j];
  const double* p = x + NeuronSoup::kInputs;
  for (std::size_t i = 0; i < neurons; ++i, p += 5) {
    adouble w0, w1, w2, w3, b;
    w0 <<= p[0];
    w1 <<= p[1];
    w2 <<= p[2];
    w3 <<= p[3];
    b <<= p[4];
    const auto& s = soup.sources[i];
    const adouble z = (((w0 * v[s[0]] + w1 * v[s[1]]) + w2 * v[s[2]]) + w3 * v[s[3]]) + b;
    adouble& out = v[NeuronSoup::kInputs + i];
    switch (i % 3) {
      case 0:
        out = 1.0 / (1.0 + exp(-z));
        break;
      case 1:
        out = tanh(z);
        break;
      default:
        out = fmax(z, 0.0);
        break;
    }
  }
  adouble loss = v[NeuronSoup::kInputs + neurons - NeuronSoup::kLossNeurons];
  for (std::size_t i = neurons - NeuronSoup::kLossNeurons + 1; i < neurons; ++i)
    loss += v[NeuronSoup::kInputs + i];
  double value = 0;
  loss >>= value;
  trace_off();
  return value;
}

void run(std::uint32_t neurons, int reps) {
  constexpr short kTag = 1;
  const std::string row = row_name("W1 N=" + std::to_string(neurons), peer_name("adolc"), 1);
  const NeuronSoup soup = make_neuron_soup(neurons);
  const int n = static_cast<int>(soup.independents.size());
  std::vector<double> gradient(soup.independents.size());
  std::vector<double> forward_ns, backward_ns, total_ns;
  double bytes_per_neuron = 0;
  for (int rep = 0; rep <= reps; ++rep) {  // rep 0 warms up, checks the sums, measures memory
    reset_peak_rss();
    const std::int64_t rss_before = current_rss_bytes();
    const Clock::time_point start = Clock::now();
    const double loss = record(soup, kTag);
    const double forward_s = seconds_since(start);
    const Clock::time_point backward_start = Clock::now();
    double weight = 1;
    fos_reverse(kTag, 1, n, &weight, gradient.data());
    const double backward_s = seconds_since(backward_start);
    if (rep == 0) {
      bytes_per_neuron = static_cast<double>(peak_rss_bytes() - rss_before) / neurons;
      std::size_t stats[STAT_SIZE];
      tapestats(kTag, stats);
      if (stats[OP_FILE_ACCESS] || stats[LOC_FILE_ACCESS] || stats[VAL_FILE_ACCESS])
        std::printf("%-28s warning: the tape spilled to files; buffers too small\n", row.c_str());
      double sum = 0, sum_abs = 0;
      for (const double g : gradient) {
        sum += g;
        sum_abs += std::abs(g);
      }
      const Checksums expected = neurons == 1'000'000 ? kExpected1M : kExpected20k;
      if (neurons == 1'000'000 || neurons == 20'000) {
        print_checksum(row, "loss", loss, expected.loss, 1e-9 * std::abs(expected.loss));
        print_checksum(row, "gradient sum", sum, expected.sum, 1e-9 * std::abs(expected.sum));
        print_checksum(row, "sum of abs", sum_abs, expected.sum_abs, 1e-9 * expected.sum_abs);
      }
    } else {
      forward_ns.push_back(forward_s * 1e9 / neurons);
      backward_ns.push_back(backward_s * 1e9 / neurons);
      total_ns.push_back((forward_s + backward_s) * 1e9 / neurons);
    }
    removeTape(kTag, ADOLC_REMOVE_COMPLETELY);
  }
  print_figure(row, "record+forward", summarize(forward_ns), "ns/neuron");
  print_figure(row, "backward", summarize(backward_ns), "ns/neuron", "(whole tape, no pruning)");
  print_figure(row, "total", summarize(total_ns), "ns/neuron");
  print_value(row, "peak memory", bytes_per_neuron, "B/neuron", "(first repetition)");
}

}  // namespace
}  // namespace dagprop::bench

int main(int argc, char** argv) {
  CLI::App app{"ADOL-C peer of W1, the scalar neuron soup"};
  std::vector<std::uint32_t> neurons{20'000, 1'000'000};
  int reps = 5;
  app.add_option("--neurons", neurons, "W1 sizes")->check(CLI::Range(1000U, 5'000'000U));
  app.add_option("--reps", reps, "timed repetitions")->check(CLI::Range(5, 1000));
  CLI11_PARSE(app, argc, argv);
  return dagprop::bench::run_program("dagprop_bench_peer_adolc", [&] {
    std::printf("# dagprop_bench_peer_adolc: ADOL-C (libadolc), one thread, tape kept in memory\n");
    for (const std::uint32_t n : neurons) dagprop::bench::run(n, reps);
  });
}
