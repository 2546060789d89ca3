// Chunked kernel loops on TBB.
#include <dagprop/kernel_loops.hpp>

#include <oneapi/tbb/blocked_range.h>
#include <oneapi/tbb/parallel_for.h>
#include <oneapi/tbb/partitioner.h>

#include "happens_before.hpp"

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
  detail::happens_before(context);  // the kernel's inputs, for the threads that take chunks
  tbb::parallel_for(
      tbb::blocked_range<std::int64_t>(0, n, grain),
      // By value: the copies live in TBB's task, so a chunk reads nothing of the caller's stack.
      [body, context](const tbb::blocked_range<std::int64_t>& range) {
        // Worker threads run chunks of this kernel; nested kernels there stay serial.
        detail::happens_after(context);
        body(context, range.begin(), range.end());
        detail::happens_before(context);  // this chunk's outputs, for the caller
      },
      tbb::simple_partitioner());
  detail::happens_after(context);
}
}  // namespace detail

}  // namespace dagprop
