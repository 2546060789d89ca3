// Medians, report lines, thread settings and the machine's ceilings.
#include "ceilings_measure.hpp"

#include <cblas.h>
#include <sys/mman.h>

#include <algorithm>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <fstream>
#include <stdexcept>

#include <oneapi/tbb/blocked_range.h>
#include <oneapi/tbb/parallel_for.h>
#include <oneapi/tbb/partitioner.h>
#include <oneapi/tbb/task_arena.h>

#ifdef DAGPROP_BENCH_HAVE_EIGEN
#include <Eigen/Core>
#endif

namespace dagprop::bench {

void add_run_options(CLI::App& app, RunOptions& options, const std::string& reps_flag,
                     const std::string& reps_help) {
  app.add_option("--threads", options.threads, "thread counts to measure")
      ->check(CLI::Range(1, 256));
  app.add_option(reps_flag, options.reps, reps_help)->check(CLI::Range(5, 1000));
}

int run_program(const char* program, const std::function<void()>& body) {
  try {
    body();
  } catch (const std::exception& e) {
    std::fprintf(stderr, "%s: %s\n", program, e.what());
    return 1;
  }
  return 0;
}

Figure summarize(std::vector<double> samples) {
  if (samples.empty()) throw std::invalid_argument("summarize: no samples");
  std::sort(samples.begin(), samples.end());
  const std::size_t n = samples.size();
  const double median = n % 2 == 1 ? samples[n / 2] : 0.5 * (samples[n / 2 - 1] + samples[n / 2]);
  return {median, samples.front(), samples.back()};
}

Figure scaled(const Figure& f, double factor) {
  return {f.median * factor, f.min * factor, f.max * factor};
}

Figure inverse(const Figure& f, double numerator) {
  return {numerator / f.median, numerator / f.max, numerator / f.min};
}

void print_figure(const std::string& row, const std::string& figure, const Figure& f,
                  const std::string& unit, const std::string& note) {
  std::printf("%-28s %-24s %10.3f %-10s (min %.3f, max %.3f)%s%s\n", row.c_str(), figure.c_str(),
              f.median, unit.c_str(), f.min, f.max, note.empty() ? "" : " ", note.c_str());
  std::fflush(stdout);
}

void print_value(const std::string& row, const std::string& figure, double value,
                 const std::string& unit, const std::string& note) {
  std::printf("%-28s %-24s %10.3f %-10s%s%s\n", row.c_str(), figure.c_str(), value, unit.c_str(),
              note.empty() ? "" : " ", note.c_str());
  std::fflush(stdout);
}

void print_ratio(const std::string& row, const std::string& what, double ratio,
                 const std::string& target) {
  std::printf("%-28s %-24s %10.3f %-10s%s%s\n", row.c_str(), what.c_str(), ratio, "x",
              target.empty() ? "" : " ", target.c_str());
  std::fflush(stdout);
}

void print_checksum(const std::string& row, const std::string& what, double value, double expected,
                    double tolerance) {
  const bool ok = std::abs(value - expected) <= tolerance;
  std::printf("%-28s checksum %-15s %.9e (expected %.9e +- %.0e) %s\n", row.c_str(), what.c_str(),
              value, expected, tolerance, ok ? "OK" : "MISMATCH");
  std::fflush(stdout);
}

void print_skip(const std::string& what, const std::string& why) {
  std::printf("%-28s skipped: %s\n", what.c_str(), why.c_str());
  std::fflush(stdout);
}

std::string row_name(const std::string& workload, const std::string& engine, int threads) {
  return workload + " " + engine + " t" + std::to_string(threads);
}

std::string peer_name(const std::string& peer) {
  const char* tunables = std::getenv("GLIBC_TUNABLES");
  const bool huge_pages =
      tunables != nullptr && std::strstr(tunables, "glibc.malloc.hugetlb=1") != nullptr;
  return huge_pages ? peer + "-hugetlb" : peer;
}

void set_blas_threads(int threads) {
  openblas_set_num_threads(threads);
}

std::string blas_core_name() {
  return openblas_get_corename();
}

std::string cpu_model() {
  std::ifstream cpuinfo("/proc/cpuinfo");
  std::string line;
  while (std::getline(cpuinfo, line)) {
    if (line.rfind("model name", 0) == 0) {
      const std::size_t colon = line.find(':');
      return colon == std::string::npos ? line : line.substr(colon + 2);
    }
  }
  return "unknown";
}

void print_machine(const std::string& program) {
  const char* coretype = std::getenv("OPENBLAS_CORETYPE");
  std::printf("# %s: CPU %s; OpenBLAS kernels %s (OPENBLAS_CORETYPE=%s); %s\n", program.c_str(),
              cpu_model().c_str(), blas_core_name().c_str(), coretype ? coretype : "unset",
              openblas_get_config());
  std::fflush(stdout);
}

void AlignedFloats::Free::operator()(float* p) const noexcept {
  std::free(p);
}

AlignedFloats::AlignedFloats(std::size_t count) : count_(count) {
  const std::size_t bytes = (count * sizeof(float) + 63) / 64 * 64;
  data_.reset(static_cast<float*>(std::aligned_alloc(64, std::max<std::size_t>(bytes, 64))));
  if (!data_) throw std::runtime_error("out of memory: " + std::to_string(bytes) + " bytes");
}

namespace {

std::int64_t status_kib(const char* field) {
  std::ifstream status("/proc/self/status");
  std::string line;
  const std::size_t length = std::strlen(field);
  while (std::getline(status, line)) {
    if (line.compare(0, length, field) == 0) return std::stoll(line.substr(length + 1));
  }
  return 0;
}

}  // namespace

std::int64_t peak_rss_bytes() {
  return status_kib("VmHWM") * 1024;
}
std::int64_t current_rss_bytes() {
  return status_kib("VmRSS") * 1024;
}
void reset_peak_rss() {
  std::ofstream("/proc/self/clear_refs") << "5";
}

// ---- STREAM

struct Stream::Arena {
  explicit Arena(int num_threads) : arena(num_threads), threads(num_threads) {}
  // f(begin, end) once per thread, on contiguous equal shares.
  template <class F>
  void for_each_share(std::size_t n, F&& f) {
    arena.execute([&] {
      tbb::parallel_for(
          tbb::blocked_range<int>(0, threads, 1),
          [&](const tbb::blocked_range<int>& r) {
            for (int t = r.begin(); t < r.end(); ++t) {
              f(n * static_cast<std::size_t>(t) / static_cast<std::size_t>(threads),
                n * static_cast<std::size_t>(t + 1) / static_cast<std::size_t>(threads));
            }
          },
          tbb::static_partitioner());
    });
  }
  tbb::task_arena arena;
  int threads;
};

Stream::Stream(std::size_t count, int threads)
    : arena_(std::make_unique<Arena>(threads)), a_(count), b_(count), c_(count) {
  float *a = a_.data(), *b = b_.data(), *c = c_.data();
  // First touch by the threads that will stream the pages.
  arena_->for_each_share(count, [=](std::size_t begin, std::size_t end) {
    for (std::size_t i = begin; i < end; ++i) {
      a[i] = 1.0F;
      b[i] = 2.0F;
      c[i] = 0.5F;
    }
  });
}

Stream::~Stream() = default;

double Stream::copy_seconds() {
  float* a = a_.data();
  const float* b = b_.data();
  const Clock::time_point start = Clock::now();
  arena_->for_each_share(count(), [=](std::size_t begin, std::size_t end) {
    for (std::size_t i = begin; i < end; ++i) a[i] = b[i];
  });
  return seconds_since(start);
}

double Stream::triad_seconds() {
  float* a = a_.data();
  const float *b = b_.data(), *c = c_.data();
  const Clock::time_point start = Clock::now();
  arena_->for_each_share(count(), [=](std::size_t begin, std::size_t end) {
    for (std::size_t i = begin; i < end; ++i) a[i] = b[i] + 3.0F * c[i];
  });
  return seconds_since(start);
}

// ---- SGEMM

double sgemm_openblas_gflops(int n, double min_seconds) {
  const auto size = static_cast<std::size_t>(n) * static_cast<std::size_t>(n);
  AlignedFloats a(size), b(size), c(size);
  std::fill(a.data(), a.data() + size, 0.5F);
  std::fill(b.data(), b.data() + size, 0.25F);
  const double seconds = seconds_per_call(
      [&] {
        cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasNoTrans, n, n, n, 1.0F, a.data(), n, b.data(),
                    n, 0.0F, c.data(), n);
      },
      min_seconds);
  return 2.0 * n * n * static_cast<double>(n) / seconds / 1e9;
}

double sgemm_eigen_gflops([[maybe_unused]] int n, [[maybe_unused]] double min_seconds) {
#ifdef DAGPROP_BENCH_HAVE_EIGEN
  using Matrix = Eigen::Matrix<float, Eigen::Dynamic, Eigen::Dynamic, Eigen::RowMajor>;
  const Matrix a = Matrix::Constant(n, n, 0.5F), b = Matrix::Constant(n, n, 0.25F);
  Matrix c(n, n);
  const double seconds = seconds_per_call([&] { c.noalias() = a * b; }, min_seconds);
  return 2.0 * n * n * static_cast<double>(n) / seconds / 1e9;
#else
  return 0;
#endif
}

// ---- fresh memory

double fresh_memory_seconds(std::size_t bytes, bool huge_pages) {
  const Clock::time_point start = Clock::now();
  void* memory = mmap(nullptr, bytes, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
  if (memory == MAP_FAILED) throw std::runtime_error("mmap of fresh memory failed");
  madvise(memory, bytes, huge_pages ? MADV_HUGEPAGE : MADV_NOHUGEPAGE);
  auto* bytes_view = static_cast<volatile char*>(memory);
  for (std::size_t i = 0; i < bytes; i += 4096) bytes_view[i] = 1;
  munmap(memory, bytes);
  return seconds_since(start);
}

}  // namespace dagprop::bench
