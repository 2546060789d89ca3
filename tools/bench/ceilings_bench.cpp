// dagprop_bench_ceilings: what this machine can do at best (WORKLOADS.md "Ceilings"), the yardstick
// of the workload figures: SGEMM 512 and 1024 through OpenBLAS and Eigen, STREAM copy and triad,
// and the cost of fresh memory. Median of --reps repetitions of >= 0.1 s each, per thread count.
//
//   build/tools/dagprop_bench_ceilings --threads 1 2 --reps 7
#include <cstdio>
#include <vector>

#include <CLI/CLI.hpp>

#include "ceilings_measure.hpp"
#include "peer_workloads.hpp"

namespace dagprop::bench {
namespace {

constexpr double kRepSeconds = 0.1;

void run_sgemm(int threads, int reps) {
  set_blas_threads(threads);
  for (const int n : {512, 1024}) {
    std::vector<double> openblas, eigen;
    for (int r = 0; r < reps; ++r) {
      openblas.push_back(sgemm_openblas_gflops(n, kRepSeconds));
      if (threads == 1) eigen.push_back(sgemm_eigen_gflops(n, kRepSeconds));
    }
    const std::string figure = "n=" + std::to_string(n);
    print_figure(row_name("LIMIT", "sgemm-openblas", threads), figure, summarize(openblas),
                 "GFLOP/s", "(" + blas_core_name() + " kernels)");
    if (threads == 1 && eigen.front() > 0)
      print_figure(row_name("LIMIT", "sgemm-eigen", threads), figure, summarize(eigen), "GFLOP/s");
  }
  if (threads > 1) {
    print_skip(row_name("LIMIT", "sgemm-eigen", threads),
               "Eigen's GEMM uses several threads only under OpenMP, which dagprop does not use");
  } else if (sgemm_eigen_gflops(16, 0) == 0) {
    print_skip(row_name("LIMIT", "sgemm-eigen", threads), "built without Eigen");
  }
  set_blas_threads(1);
}

void run_stream(int threads, int reps) {
  Stream stream(BandwidthData::kSize, threads);
  const double elements = static_cast<double>(stream.count());
  std::vector<double> copy, triad;
  stream.triad_seconds();  // warm-up
  for (int r = 0; r < reps; ++r) {
    copy.push_back(seconds_per_call([&] { stream.copy_seconds(); }, kRepSeconds));
    triad.push_back(seconds_per_call([&] { stream.triad_seconds(); }, kRepSeconds));
  }
  const std::string row = row_name("LIMIT", "stream", threads);
  print_figure(row, "copy (16M floats)", inverse(summarize(copy), 8 * elements / 1e9), "GB/s");
  print_figure(row, "triad (16M floats)", inverse(summarize(triad), 12 * elements / 1e9), "GB/s");
}

void run_fresh_memory(int reps) {
  constexpr std::size_t kBytes = std::size_t{64} << 20;
  for (const bool huge : {false, true}) {
    std::vector<double> seconds;
    for (int r = 0; r < reps; ++r)
      seconds.push_back(seconds_per_call([&] { fresh_memory_seconds(kBytes, huge); }, kRepSeconds));
    const Figure f = summarize(seconds);
    char note[96];
    std::snprintf(note, sizeof note, "%.2f us per 4 KiB", f.median / (kBytes / 4096.0) * 1e6);
    print_figure(row_name("LIMIT", "fresh-memory", 1),
                 huge ? "64 MiB, MADV_HUGEPAGE" : "64 MiB, 4 KiB pages", inverse(f, kBytes / 1e9),
                 "GB/s", note);
  }
}

}  // namespace
}  // namespace dagprop::bench

int main(int argc, char** argv) {
  using namespace dagprop::bench;
  CLI::App app{"Ceilings of this machine: SGEMM, STREAM, fresh memory"};
  RunOptions options;
  options.reps = 7;
  add_run_options(app, options);
  CLI11_PARSE(app, argc, argv);
  return run_program("dagprop_bench_ceilings", [&] {
    print_machine("dagprop_bench_ceilings");
    for (const int t : options.threads) {
      run_sgemm(t, options.reps);
      run_stream(t, options.reps);
    }
    run_fresh_memory(options.reps);
  });
}
