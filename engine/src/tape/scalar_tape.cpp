// The scalar tape's storage, its reverse sweep (one switch loop over flat columns) and its export
// to Graph nodes.
#include <dagprop/scalar_tape.hpp>

#include <cstdlib>
#include <limits>
#include <mutex>
#include <new>
#include <string>

#include <dagprop/error.hpp>
#include <dagprop/graph.hpp>
#include <dagprop/ops.hpp>

#if defined(__linux__)
#include <sys/mman.h>
#endif

namespace dagprop {
namespace {

struct TapeOpInfo {
  std::string_view name;
  int arity;
};
constexpr TapeOpInfo kTapeOps[] = {
#define DAGPROP_TAPE_OP_INFO(name, arity) {#name, arity},
    DAGPROP_TAPE_OPS(DAGPROP_TAPE_OP_INFO)
#undef DAGPROP_TAPE_OP_INFO
};
static_assert(std::size(kTapeOps) == kTapeOpCount);

// Indices are uint32: a tape holds at most 2^32 - 1 entries.
constexpr std::size_t kMaxEntries = std::numeric_limits<std::uint32_t>::max();
constexpr std::size_t kFirstCapacity = 1024;

// Columns this large get transparent huge pages where the kernel offers them on request: a fresh
// 4 KiB page costs 5 to 10 us to fault in on some VMs, a 2 MiB one ~0.2 us per 4 KiB (W1, N = 1M,
// a fresh tape's pages faulted in anew: 260 ns/neuron with 4 MiB here, 460 with 32 MiB). Smaller
// columns keep 4 KiB pages: a huge page is only used for an aligned 2 MiB range inside the column,
// and would inflate a small tape's footprint.
constexpr std::size_t kHugePageColumnBytes = std::size_t{4} << 20;

void advise_huge_pages([[maybe_unused]] void* memory, [[maybe_unused]] std::size_t bytes) {
#if defined(__linux__) && defined(MADV_HUGEPAGE)
  if (bytes < kHugePageColumnBytes) return;
  constexpr std::uintptr_t kPage = 4096;
  const auto begin = (reinterpret_cast<std::uintptr_t>(memory) + kPage - 1) & ~(kPage - 1);
  const auto end = (reinterpret_cast<std::uintptr_t>(memory) + bytes) & ~(kPage - 1);
  if (end > begin) madvise(reinterpret_cast<void*>(begin), end - begin, MADV_HUGEPAGE);  // a hint
#endif
}

// The large columns of tapes destroyed on this thread, kept for the next tape, as Stan Math keeps
// its arena between gradients: a program that records a new ScalarTape per evaluation would
// otherwise have glibc return the columns to the kernel (they are mmap'd) and fault them in again,
// page by page, every time. At most kBlocks blocks are kept (a tape has 6 columns), the smallest
// given back first; ScalarTape::release_cached_memory() frees them, and so does the thread's end.
class ColumnCache {
 public:
  static constexpr std::size_t kMinBytes = std::size_t{64} << 10;  // malloc recycles smaller ones
  static constexpr int kBlocks = 8;

  // The smallest kept block of at least `bytes`, or null.
  void* take(std::size_t bytes) {
    int best = -1;
    for (int i = 0; i < kBlocks; ++i) {
      if (blocks_[i].memory != nullptr && blocks_[i].bytes >= bytes &&
          (best < 0 || blocks_[i].bytes < blocks_[best].bytes))
        best = i;
    }
    if (best < 0) return nullptr;
    void* memory = blocks_[best].memory;
    blocks_[best] = {};
    return memory;
  }
  // Keeps `memory` (a malloc'd block of `bytes`), or frees it: when small, when the thread is
  // ending, or when it is smaller than every kept block and no slot is free.
  void keep(void* memory, std::size_t bytes) {
    if (memory == nullptr) return;
    if (closed_ || bytes < kMinBytes) {
      std::free(memory);
      return;
    }
    int slot = 0;
    for (int i = 1; i < kBlocks; ++i) {
      if (blocks_[i].bytes < blocks_[slot].bytes) slot = i;  // a free slot has 0 bytes
    }
    if (blocks_[slot].bytes >= bytes) {
      std::free(memory);
      return;
    }
    std::free(blocks_[slot].memory);
    blocks_[slot] = {memory, bytes};
  }
  void release() {
    for (Block& block : blocks_) {
      std::free(block.memory);
      block = {};
    }
  }
  void close() {
    release();
    closed_ = true;
  }
  std::size_t bytes() const {
    std::size_t total = 0;
    for (const Block& block : blocks_) total += block.bytes;
    return total;
  }

 private:
  struct Block {
    void* memory = nullptr;
    std::size_t bytes = 0;
  };
  Block blocks_[kBlocks] = {};
  bool closed_ = false;
};

// Trivially destructible, so a tape destroyed after the thread's thread_local destructors (a static
// tape on the main thread) still finds it, closed by the reaper below.
thread_local constinit ColumnCache column_cache;
struct ColumnCacheReaper {
  ~ColumnCacheReaper() { column_cache.close(); }
};
thread_local ColumnCacheReaper column_cache_reaper;

ColumnCache& thread_column_cache() {
  [[maybe_unused]] ColumnCacheReaper* reaper = &column_cache_reaper;  // registers its destructor
  return column_cache;
}

// Grows a column to `count` elements keeping its contents; a new column may be a cached block.
// realloc: glibc moves large (mmap'd) blocks by remapping their pages, so doubling a huge column
// does not copy it.
template <class T>
T* resize_column(T* column, std::size_t count) {
  void* memory = column == nullptr ? thread_column_cache().take(count * sizeof(T)) : nullptr;
  if (memory == nullptr) memory = std::realloc(column, count * sizeof(T));
  if (memory == nullptr) throw std::bad_alloc();
  advise_huge_pages(memory, count * sizeof(T));
  return static_cast<T*>(memory);
}

// A new column of `count` zeros: a cached block cleared, or calloc's, which does not write fresh
// mmap'd pages (the kernel zeroed them as it faults them in).
double* zeroed_column(std::size_t count) {
  if (void* cached = thread_column_cache().take(count * sizeof(double))) {
    std::fill_n(static_cast<double*>(cached), count, 0.0);
    return static_cast<double*>(cached);
  }
  void* memory = std::calloc(count, sizeof(double));
  if (memory == nullptr) throw std::bad_alloc();
  advise_huge_pages(memory, count * sizeof(double));
  return static_cast<double*>(memory);
}

template <class T>
void release_column(T* column, std::size_t count) {
  thread_column_cache().keep(column, count * sizeof(T));
}

}  // namespace

std::string_view tape_op_name(TapeOp op) {
  return kTapeOps[static_cast<std::size_t>(op)].name;
}
int tape_op_arity(TapeOp op) {
  return kTapeOps[static_cast<std::size_t>(op)].arity;
}

namespace tape_detail {
void throw_no_tape(std::string_view what, bool default_constructed) {
  if (default_constructed) {
    throw Error("scalar tape '" + std::string(what) +
                "': the Scalar has no tape (it was default-constructed); make Scalars with "
                "ScalarTape::variable() or constant(), or from other Scalars");
  }
  throw Error("scalar tape '" + std::string(what) +
              "': the Scalar's tape was destroyed; keep the ScalarTape alive as long as its "
              "Scalars are used");
}
void throw_wrong_arity(TapeOp op, int arity) {
  if (tape_op_arity(op) < 0)
    throw Error("scalar tape: op '" + std::string(tape_op_name(op)) +
                "' takes a list of arguments; record it with weighted_sum(x, w, b)");
  throw Error("scalar tape: op '" + std::string(tape_op_name(op)) + "' takes " +
              std::to_string(tape_op_arity(op)) + " arguments, not " + std::to_string(arity) +
              "; record it with " + (tape_op_arity(op) == 2 ? "binary()" : "unary()") +
              (tape_op_arity(op) == 0 ? " (no: with variable() or constant())" : ""));
}
void throw_weighted_sum_lengths(std::size_t x_length, std::size_t w_length) {
  if (x_length == 0 && w_length == 0)
    throw Error(
        "scalar tape 'weighted_sum': x and w are empty; pass at least one input and weight "
        "(for b alone use b itself)");
  throw Error("scalar tape 'weighted_sum': x has " + std::to_string(x_length) + " inputs but w " +
              std::to_string(w_length) + " weights; pass one weight per input");
}
}  // namespace tape_detail

// ---- the registry of live tapes

namespace tape_detail {
std::atomic<ScalarTape*> live_tapes[kTapeSlots];
}  // namespace tape_detail

namespace {

// Slots in use are taken from a free list; a slot's generation (the id's high 16 bits, never 0) is
// advanced on every reuse, so that a Scalar of a destroyed tape does not name its successor.
class TapeRegistry {
 public:
  std::uint32_t add(ScalarTape* tape) {
    const std::lock_guard lock(mutex_);
    std::uint32_t slot = 0;
    if (!free_slots_.empty()) {
      slot = free_slots_.back();
      free_slots_.pop_back();
    } else if (next_slot_ < tape_detail::kTapeSlots) {
      slot = next_slot_++;
    } else {
      throw Error("scalar tape: " + std::to_string(tape_detail::kTapeSlots) +
                  " ScalarTapes are alive at once, the most a Scalar's 16-bit tape slot can name; "
                  "clear() and reuse tapes instead of keeping one per computation");
    }
    std::uint16_t& generation = generations_[slot];
    generation = static_cast<std::uint16_t>(generation == 0xFFFF ? 1 : generation + 1);
    const std::uint32_t id = std::uint32_t{generation} << 16 | slot;
    tape_detail::live_tapes[slot].store(tape, std::memory_order_release);
    return id;
  }
  void remove(std::uint32_t id) {
    const std::lock_guard lock(mutex_);
    const std::uint32_t slot = id & (tape_detail::kTapeSlots - 1);
    tape_detail::live_tapes[slot].store(nullptr, std::memory_order_release);
    free_slots_.push_back(slot);
  }

 private:
  std::mutex mutex_;
  std::vector<std::uint32_t> free_slots_;
  std::uint32_t next_slot_ = 0;
  std::uint16_t generations_[tape_detail::kTapeSlots] = {};
};

TapeRegistry& registry() {
  static TapeRegistry instance;
  return instance;
}

}  // namespace

ScalarTape::ScalarTape() : id_(registry().add(this)) {}

ScalarTape::~ScalarTape() {
  registry().remove(id_);
  release_column(ops_, capacity_);
  release_column(first_, capacity_);
  release_column(second_, capacity_);
  release_column(values_, capacity_);
  release_column(adjoints_, adjoint_capacity_);
  release_column(arguments_, arguments_capacity_);
}

void ScalarTape::release_cached_memory() {
  thread_column_cache().release();
}

std::size_t ScalarTape::cached_memory_bytes() {
  return thread_column_cache().bytes();
}

void ScalarTape::throw_foreign(Scalar x, std::string_view what) const {
  const std::string where = "scalar tape '" + std::string(what) + "': ";
  if (x.tape() == nullptr) tape_detail::throw_no_tape(what, x.tape_id() == 0);
  if (x.tape_id_ != id_)
    throw Error(where + "the Scalar (entry #" + std::to_string(x.index_) +
                ") belongs to another ScalarTape; record every Scalar of one computation on the "
                "same tape");
  throw Error(where + "the Scalar refers to entry #" + std::to_string(x.index_) +
              " but the tape holds " + std::to_string(size_) +
              " entries (was it cleared after the Scalar was recorded?); record the value again "
              "after clear()");
}

void ScalarTape::reserve(std::size_t entries, std::size_t weighted_sum_arguments) {
  if (weighted_sum_arguments > arguments_capacity_) grow_arguments(weighted_sum_arguments);
  if (entries <= capacity_) return;
  if (entries > kMaxEntries)
    throw Error("scalar tape: cannot reserve " + std::to_string(entries) +
                " entries; a tape holds at most " + std::to_string(kMaxEntries) +
                " (entries are indexed by 32 bits); split the computation over several tapes");
  ops_ = resize_column(ops_, entries);
  first_ = resize_column(first_, entries);
  second_ = resize_column(second_, entries);
  values_ = resize_column(values_, entries);
  capacity_ = entries;
}

void ScalarTape::grow() {
  if (capacity_ == kMaxEntries)
    throw Error("scalar tape: full at " + std::to_string(kMaxEntries) +
                " entries (entries are indexed by 32 bits); split the computation over several "
                "tapes");
  reserve(std::min(kMaxEntries, std::max(kFirstCapacity, 2 * capacity_)));
}

void ScalarTape::grow_arguments(std::size_t needed) {
  // Offsets into the list are 32-bit, like entry indices.
  if (needed > kMaxEntries)
    throw Error("scalar tape 'weighted_sum': " + std::to_string(needed) +
                " argument indices of weighted sums are more than a tape holds (" +
                std::to_string(kMaxEntries) +
                ", offsets are 32 bits); split the computation over "
                "several tapes");
  const std::size_t capacity =
      std::min(kMaxEntries, std::max({needed, kFirstCapacity, 2 * arguments_capacity_}));
  arguments_ = resize_column(arguments_, capacity);
  arguments_capacity_ = capacity;
}

std::size_t ScalarTape::memory_bytes() const {
  constexpr std::size_t kEntryBytes = sizeof(TapeOp) + 2 * sizeof(std::uint32_t) + sizeof(double);
  return capacity_ * kEntryBytes + adjoint_capacity_ * sizeof(double) +
         arguments_capacity_ * sizeof(std::uint32_t);
}

std::span<const std::uint32_t> ScalarTape::weighted_sum_arguments(std::uint32_t entry) const {
  if (entry >= size_ || ops_[entry] != TapeOp::weighted_sum) return {};
  return {arguments_ + first_[entry], 2 * std::size_t{second_[entry]} + 1};
}

Scalar ScalarTape::entry(std::size_t index) {
  if (index >= size_)
    throw Error("scalar tape: no entry #" + std::to_string(index) + "; the tape holds " +
                std::to_string(size_) + " entries (indices 0.." + std::to_string(size_) +
                " exclusive)");
  return {id_, static_cast<std::uint32_t>(index), values_[index]};
}

double ScalarTape::adjoint(Scalar x) const {
  const std::uint32_t i = checked(x, "adjoint");
  if (i >= adjoint_size_)
    throw Error("scalar tape 'adjoint': entry #" + std::to_string(i) +
                " was recorded after the last backward() (or none has run since clear()); call "
                "backward(loss) first");
  return adjoints_[i];
}

void ScalarTape::backward(Scalar loss) {
  const std::uint32_t seed = checked(loss, "backward");
  if (adjoint_capacity_ < size_) {  // the old adjoints are overwritten: no need to copy them
    release_column(adjoints_, adjoint_capacity_);
    adjoints_ = nullptr;
    adjoint_capacity_ = 0;
    adjoints_ = zeroed_column(capacity_);
    adjoint_capacity_ = capacity_;
  } else {
    std::fill(adjoints_, adjoints_ + size_, 0.0);
  }
  adjoint_size_ = size_;
  double* __restrict adjoint = adjoints_;
  const double* __restrict value = values_;
  const TapeOp* __restrict op = ops_;
  const std::uint32_t* __restrict first = first_;
  const std::uint32_t* __restrict second = second_;
  const std::uint32_t* __restrict arguments = arguments_;
  adjoint[seed] = 1;
  // Entries after the loss cannot reach it; every entry from the loss back to the first is swept.
  for (std::size_t k = seed + std::size_t{1}; k-- > 0;) {
    const double g = adjoint[k];
    if (g == 0) continue;
    const std::uint32_t a = first[k], b = second[k];
    switch (op[k]) {
      case TapeOp::variable:
      case TapeOp::constant:
        break;
      case TapeOp::add:
        adjoint[a] += g;
        adjoint[b] += g;
        break;
      case TapeOp::sub:
        adjoint[a] += g;
        adjoint[b] -= g;
        break;
      case TapeOp::mul:
        adjoint[a] += g * value[b];
        adjoint[b] += g * value[a];
        break;
      case TapeOp::div:  // z = a / b: da = g / b, db = -g * z / b
        adjoint[a] += g / value[b];
        adjoint[b] -= g * value[k] / value[b];
        break;
      case TapeOp::neg:
        adjoint[a] -= g;
        break;
      case TapeOp::exp:
        adjoint[a] += g * value[k];
        break;
      case TapeOp::log:
        adjoint[a] += g / value[a];
        break;
      case TapeOp::sigmoid:  // from the output, as the graph's sigmoid_grad
        adjoint[a] += formulas::sigmoid_backward(value[k], g);
        break;
      case TapeOp::tanh:  // from the output, as the graph's tanh_grad
        adjoint[a] += formulas::tanh_backward(value[k], g);
        break;
      case TapeOp::relu:
        adjoint[a] += formulas::relu_backward(value[a], g);
        break;
      case TapeOp::softplus:
        adjoint[a] += g * formulas::sigmoid(value[a]);
        break;
      case TapeOp::weighted_sum: {  // a: the offset of x[0..b), w[0..b), bias
        const std::uint32_t* x = arguments + a;
        const std::uint32_t* w = x + b;
        for (std::uint32_t m = 0; m < b; ++m) {
          adjoint[x[m]] += g * value[w[m]];
          adjoint[w[m]] += g * value[x[m]];
        }
        adjoint[w[b]] += g;
        break;
      }
    }
  }
}

Expr TapeGraph::node(Scalar entry) const {
  if (entry.index() >= nodes.size() || !nodes[entry.index()].valid())
    throw Error("TapeGraph::node: tape entry #" + std::to_string(entry.index()) +
                " was not exported (the output does not depend on it); export an output that "
                "does");
  return nodes[entry.index()];
}

TapeGraph ScalarTape::to_graph(Graph& graph, Scalar output) const {
  const std::uint32_t last = checked(output, "to_graph");
  // Which entries the output depends on: one backward pass over the arguments.
  std::vector<bool> needed(last + std::size_t{1}, false);
  needed[last] = true;
  for (std::size_t k = last + std::size_t{1}; k-- > 0;) {
    if (!needed[k]) continue;
    const int arity = tape_op_arity(ops_[k]);
    if (arity >= 1) needed[first_[k]] = true;
    if (arity == 2) needed[second_[k]] = true;
    for (const std::uint32_t argument : weighted_sum_arguments(static_cast<std::uint32_t>(k)))
      needed[argument] = true;
  }
  TapeGraph result;
  result.nodes.resize(last + std::size_t{1});
  std::vector<Expr>& nodes = result.nodes;
  for (std::size_t k = 0; k <= last; ++k) {
    if (!needed[k]) continue;
    const Expr a = tape_op_arity(ops_[k]) >= 1 ? nodes[first_[k]] : Expr{};
    const Expr b = tape_op_arity(ops_[k]) == 2 ? nodes[second_[k]] : Expr{};
    switch (ops_[k]) {
      case TapeOp::variable:
        nodes[k] = graph.parameter("v" + std::to_string(k), values_[k]);
        break;
      case TapeOp::constant:
        nodes[k] = graph.constant(values_[k]);
        break;
      case TapeOp::add:
        nodes[k] = add(a, b);
        break;
      case TapeOp::sub:
        nodes[k] = sub(a, b);
        break;
      case TapeOp::mul:
        nodes[k] = mul(a, b);
        break;
      case TapeOp::div:
        nodes[k] = div(a, b);
        break;
      case TapeOp::neg:
        nodes[k] = neg(a);
        break;
      case TapeOp::exp:
        nodes[k] = exp(a);
        break;
      case TapeOp::log:
        nodes[k] = log(a);
        break;
      case TapeOp::sigmoid:
        nodes[k] = sigmoid(a);
        break;
      case TapeOp::tanh:
        nodes[k] = tanh(a);
        break;
      case TapeOp::relu:
        nodes[k] = relu(a);
        break;
      case TapeOp::softplus:
        nodes[k] = softplus(a);
        break;
      case TapeOp::weighted_sum: {
        // Scalar products and sums, in the tape's order: the same value, and each product is a node
        // of the picture.
        const std::span<const std::uint32_t> argument =
            weighted_sum_arguments(static_cast<std::uint32_t>(k));
        const std::size_t n = second_[k];
        Expr sum = mul(nodes[argument[0]], nodes[argument[n]]);
        for (std::size_t m = 1; m < n; ++m)
          sum = add(sum, mul(nodes[argument[m]], nodes[argument[n + m]]));
        nodes[k] = add(sum, nodes[argument[2 * n]]);
        break;
      }
    }
  }
  result.output = nodes[last];
  return result;
}

}  // namespace dagprop
