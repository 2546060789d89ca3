// Measuring and reporting for the performance benchmarks (WORKLOADS.md's protocol): medians over
// repetitions, one line per figure, thread settings, and the machine's ceilings (STREAM, SGEMM,
// fresh memory) that the workload figures are compared against in the same run.
#pragma once

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <vector>

#include <CLI/CLI.hpp>

namespace dagprop::bench {

// ---- the programs
// The options of every benchmark: --threads (a list of counts) and a repetition count (>= 5, the
// protocol's minimum) under the given name.
struct RunOptions {
  std::vector<int> threads{1, 2};
  int reps = 5;
};
void add_run_options(CLI::App& app, RunOptions& options, const std::string& reps_flag = "--reps",
                     const std::string& reps_help = "timed repetitions per figure");
// Runs a program's body; an exception is reported as "program: message", exit status 1.
int run_program(const char* program, const std::function<void()>& body);

// ---- timing
using Clock = std::chrono::steady_clock;
inline double seconds_since(Clock::time_point start) {
  return std::chrono::duration<double>(Clock::now() - start).count();
}
// Seconds per call of f, calling it until at least min_seconds have passed.
template <class F>
double seconds_per_call(F&& f, double min_seconds) {
  const Clock::time_point start = Clock::now();
  int calls = 0;
  double elapsed = 0;
  do {
    f();
    ++calls;
    elapsed = seconds_since(start);
  } while (elapsed < min_seconds);
  return elapsed / calls;
}

struct Figure {
  double median = 0, min = 0, max = 0;
};
Figure summarize(std::vector<double> samples);
Figure scaled(const Figure& f, double factor);      // every field times factor
Figure inverse(const Figure& f, double numerator);  // numerator / x: seconds to a rate

// ---- report lines
// "W2 dagprop t2                ms/step                       4.512 ms         (min 4.401, max
// 4.700) note": the row names the workload, the engine and the thread count (tN), so that
// tools/bench/run.sh can pair figures of different programs and print their ratios.
void print_figure(const std::string& row, const std::string& figure, const Figure& f,
                  const std::string& unit, const std::string& note = {});
void print_value(const std::string& row, const std::string& figure, double value,
                 const std::string& unit, const std::string& note = {});
void print_ratio(const std::string& row, const std::string& what, double ratio,
                 const std::string& target = {});
void print_checksum(const std::string& row, const std::string& what, double value, double expected,
                    double tolerance);
void print_skip(const std::string& what, const std::string& why);
std::string row_name(const std::string& workload, const std::string& engine, int threads);
// A peer's engine name, with "-hugetlb" when glibc's malloc is tuned to give it transparent huge
// pages (GLIBC_TUNABLES=glibc.malloc.hugetlb=1): peers that allocate per call pay this machine's
// 10 us page faults without it, so both are reported.
std::string peer_name(const std::string& peer);

// ---- thread settings and the machine
// OpenBLAS's own thread pool (openblas_set_num_threads); libtorch's set_num_threads does not
// control it.
void set_blas_threads(int threads);
std::string blas_core_name();  // the kernel set OpenBLAS picked: "Haswell", "Cooperlake"...
std::string cpu_model();       // /proc/cpuinfo's model name
void print_machine(const std::string& program);

// ---- memory
// A float array on 64-byte boundaries (full cache lines for every kernel).
class AlignedFloats {
 public:
  explicit AlignedFloats(std::size_t count);
  float* data() const { return data_.get(); }
  std::size_t size() const { return count_; }

 private:
  struct Free {
    void operator()(float* p) const noexcept;
  };
  std::unique_ptr<float[], Free> data_;
  std::size_t count_;
};

// Peak resident memory since the last reset (VmHWM) and the current resident memory (VmRSS).
std::int64_t peak_rss_bytes();
std::int64_t current_rss_bytes();
void reset_peak_rss();  // writes 5 to /proc/self/clear_refs

// ---- ceilings
// STREAM over float arrays of `count` elements with `threads` threads, each thread taking one
// contiguous share (OpenMP's static schedule); bytes counted without write-allocate traffic.
class Stream {
 public:
  Stream(std::size_t count, int threads);
  ~Stream();
  Stream(const Stream&) = delete;
  Stream& operator=(const Stream&) = delete;
  double copy_seconds();   // a = b: 8 bytes per element
  double triad_seconds();  // a = b + 3 c: 12 bytes per element
  std::size_t count() const { return a_.size(); }

 private:
  struct Arena;
  std::unique_ptr<Arena> arena_;
  AlignedFloats a_, b_, c_;
};

// C = A B, square n, float32, 2 n^3 flops per call: GFLOP/s of one repetition of >= min_seconds.
double sgemm_openblas_gflops(int n, double min_seconds);
double sgemm_eigen_gflops(int n, double min_seconds);  // 0 if built without Eigen

// Map, touch one byte per 4 KiB page and unmap `bytes` of fresh memory: seconds per call.
double fresh_memory_seconds(std::size_t bytes, bool huge_pages);

}  // namespace dagprop::bench
