// Loops for kernels over large tensors: split into fixed chunks (the split depends only on the
// size, never on the thread count), run in parallel when the executor allows it.
#pragma once

#include <algorithm>
#include <cstdint>
#include <vector>

#include <dagprop/export.hpp>

DAGPROP_API_BEGIN
namespace dagprop {

// Work (elements x cost) below which a kernel runs in one piece.
inline constexpr std::int64_t kParallelWorkThreshold = std::int64_t{1} << 19;
// Target work per chunk when a kernel is split.
inline constexpr std::int64_t kChunkWork = std::int64_t{1} << 14;

// Whether kernels on this thread may run their chunks on several threads. The executors set it:
// the serial executor never does, the TBB executor does inside its task arena.
bool kernel_parallelism_enabled();
class KernelParallelism {
 public:
  explicit KernelParallelism(bool enabled);
  ~KernelParallelism();
  KernelParallelism(const KernelParallelism&) = delete;
  KernelParallelism& operator=(const KernelParallelism&) = delete;

 private:
  bool previous_;
};

namespace detail {
void parallel_chunks(std::int64_t n, std::int64_t grain,
                     void (*body)(void*, std::int64_t, std::int64_t), void* context);
}

// Calls f(begin, end) over [0, n) in chunks. `cost` is the work of one item (a row has many
// elements).
template <class F>
void for_each_chunk(std::int64_t n, F&& f, std::int64_t cost = 1) {
  cost = std::max<std::int64_t>(cost, 1);
  if (n * cost < kParallelWorkThreshold || !kernel_parallelism_enabled()) {
    f(std::int64_t{0}, n);
    return;
  }
  const std::int64_t grain = std::max<std::int64_t>(1, kChunkWork / cost);
  detail::parallel_chunks(
      n, grain,
      [](void* context, std::int64_t begin, std::int64_t end) {
        (*static_cast<F*>(context))(begin, end);
      },
      const_cast<void*>(static_cast<const void*>(&f)));
}

// A deterministic sum: the range is cut into fixed chunks of `chunk` items, each summed left to
// right (possibly in parallel), then the chunk sums are added in chunk order. The same bits for
// any thread count.
template <class Acc, class F>
Acc chunked_sum(std::int64_t n, F&& partial_sum, std::int64_t chunk = 4096) {
  if (n <= chunk) return partial_sum(std::int64_t{0}, n);
  const std::int64_t num_chunks = (n + chunk - 1) / chunk;
  std::vector<Acc> sums(static_cast<std::size_t>(num_chunks));
  for_each_chunk(
      num_chunks,
      [&](std::int64_t first, std::int64_t last) {
        for (std::int64_t c = first; c < last; ++c) {
          sums[static_cast<std::size_t>(c)] = partial_sum(c * chunk, std::min(n, (c + 1) * chunk));
        }
      },
      chunk);
  Acc total = 0;
  for (Acc s : sums) total += s;
  return total;
}

}  // namespace dagprop
DAGPROP_API_END
