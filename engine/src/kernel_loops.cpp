// Chunked kernel loops on TBB.
#include <dagprop/kernel_loops.hpp>

#include <oneapi/tbb/blocked_range.h>
#include <oneapi/tbb/parallel_for.h>
#include <oneapi/tbb/partitioner.h>

namespace dagprop {
namespace {
thread_local bool t_kernel_parallelism = false;
}

bool kernel_parallelism_enabled() {
  return t_kernel_parallelism;
}

KernelParallelism::KernelParallelism(bool enabled) : previous_(t_kernel_parallelism) {
  t_kernel_parallelism = enabled;
}
KernelParallelism::~KernelParallelism() {
  t_kernel_parallelism = previous_;
}

namespace detail {
void parallel_chunks(std::int64_t n, std::int64_t grain,
                     void (*body)(void*, std::int64_t, std::int64_t), void* context) {
  // simple_partitioner splits down to the grain whatever the thread count: fixed chunk boundaries.
  tbb::parallel_for(
      tbb::blocked_range<std::int64_t>(0, n, grain),
      [&](const tbb::blocked_range<std::int64_t>& range) {
        // Worker threads run chunks of this kernel; nested kernels there stay serial.
        body(context, range.begin(), range.end());
      },
      tbb::simple_partitioner());
}
}  // namespace detail

}  // namespace dagprop
