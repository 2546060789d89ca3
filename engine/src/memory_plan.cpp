// Memory planning: best-fit reuse of freed buffers in plan order, restricted to orderings the task
// graph enforces (see memory_plan.hpp).
#include "memory_plan.hpp"

#include <algorithm>
#include <map>

#include <dagprop/op_def.hpp>
#include "task_partition.hpp"

#include "compressed_rows.hpp"
#include "step_producers.hpp"

namespace dagprop {
namespace {

// A step looks at this many free buffers of a fitting size before it takes a fresh one.
constexpr int kMaxCandidates = 8;
// A backward search for a path between two tasks gives up after this many tasks (and the step then
// takes a fresh buffer): plans that run in order never search, and in plans with real parallelism
// the reader of a value is usually a few tasks above the step that overwrites it.
constexpr std::uint32_t kMaxVisitedTasks = 256;

// Scalars pack at 8 bytes; anything of a cache line or more starts on one.
std::size_t buffer_size(std::size_t nbytes) {
  if (nbytes < 64) return (std::max<std::size_t>(nbytes, 1) + 7) / 8 * 8;
  return (nbytes + 63) / 64 * 64;
}

class BumpAllocator {
 public:
  std::size_t allocate(std::size_t size) {
    const std::size_t alignment = size >= 64 ? 64 : 8;
    used_ = (used_ + alignment - 1) / alignment * alignment;
    const std::size_t offset = used_;
    used_ += size;
    return offset;
  }
  std::size_t used() const { return used_; }

 private:
  std::size_t used_ = 0;
};

// Whether one task comes before another on a path of the task graph. Task ids are a topological
// order, so every path runs from lower to higher ids and the search can skip tasks below its
// target.
class TaskOrder {
 public:
  explicit TaskOrder(const TaskPartition& tasks) : in_order_(tasks.runs_in_order()) {
    if (in_order_) return;
    const std::uint32_t num = tasks.num_tasks();
    group_into_rows(
        num,
        [&](auto emit) {
          for (std::uint32_t t = 0; t < num; ++t) {
            for (const std::uint32_t successor : tasks.successors_of(t)) emit(successor, t);
          }
        },
        first_predecessor_, predecessors_);
    visited_.assign(num, 0);
  }

  // A task's own steps run in plan order, so a task comes before its later steps.
  bool before(std::uint32_t from, std::uint32_t to) {
    if (in_order_ || from == to) return true;
    if (from > to) return false;
    ++generation_;
    stack_.assign(1, to);
    std::uint32_t visits = 0;
    while (!stack_.empty()) {
      const std::uint32_t t = stack_.back();
      stack_.pop_back();
      for (std::uint32_t i = first_predecessor_[t]; i < first_predecessor_[t + 1]; ++i) {
        const std::uint32_t p = predecessors_[i];
        if (p == from) return true;
        if (p < from || visited_[p] == generation_) continue;
        if (++visits > kMaxVisitedTasks) return false;
        visited_[p] = generation_;
        stack_.push_back(p);
      }
    }
    return false;
  }

 private:
  bool in_order_;
  std::vector<std::uint32_t> first_predecessor_;
  std::vector<std::uint32_t> predecessors_;
  std::vector<std::uint32_t> visited_;
  std::uint32_t generation_ = 0;
  std::vector<std::uint32_t> stack_;
};

// The tasks that read each step's value, each once, in increasing order.
class ReaderTasks {
 public:
  ReaderTasks() = default;
  ReaderTasks(const Producers& producers, std::span<const std::uint32_t> task_of) {
    const auto n = static_cast<std::uint32_t>(task_of.size());
    std::vector<std::uint32_t> last_task(n);
    group_into_rows(
        n,
        [&](auto emit) {
          std::fill(last_task.begin(), last_task.end(), kNoStep);
          for (std::uint32_t s = 0; s < n; ++s) {
            for (const std::uint32_t p : producers.of(s)) {
              if (last_task[p] == task_of[s]) continue;  // a task reads a value once
              last_task[p] = task_of[s];
              emit(p, task_of[s]);
            }
          }
        },
        first_, tasks_);
  }
  std::span<const std::uint32_t> of(std::uint32_t step) const {
    return {tasks_.data() + first_[step], first_[step + 1] - first_[step]};
  }

 private:
  std::vector<std::uint32_t> first_;
  std::vector<std::uint32_t> tasks_;
};

struct FreeBuffer {
  std::size_t offset = 0;
  std::uint32_t last_value = 0;  // the step whose value it held
};

}  // namespace

WorkspaceLayout plan_workspace(const Graph& graph, std::span<const PlanStep> steps,
                               std::span<const KernelArg> args, std::span<const NodeId> feeds,
                               const TaskPartition& tasks, std::span<const std::uint8_t> retained) {
  WorkspaceLayout layout;
  BumpAllocator bump;
  // Fed inputs are written before the run starts: they never share.
  for (const NodeId id : feeds) {
    const std::size_t size = buffer_size(static_cast<std::size_t>(graph.shape_of(id).numel()) *
                                         dtype_size(graph.node(id).dtype));
    layout.feed_offsets.push_back(bump.allocate(size));
    layout.unshared_bytes += size;
  }

  const auto n = static_cast<std::uint32_t>(steps.size());
  std::vector<std::uint32_t> task_of(n);
  for (std::uint32_t t = 0; t < tasks.num_tasks(); ++t) {
    for (const std::uint32_t s : tasks.steps_of(t)) task_of[s] = t;
  }
  const Producers producers(graph, steps);
  // Only a plan whose tasks may run concurrently needs to know which tasks read a value.
  const ReaderTasks reader_tasks =
      tasks.runs_in_order() ? ReaderTasks() : ReaderTasks(producers, task_of);
  std::vector<std::uint32_t> last_reader(n, kNoStep);
  for (std::uint32_t s = 0; s < n; ++s) {
    for (const std::uint32_t p : producers.of(s)) last_reader[p] = s;
  }

  TaskOrder task_order(tasks);
  const auto readers_done_before = [&](std::uint32_t value, std::uint32_t task) {
    if (tasks.runs_in_order()) return true;
    for (const std::uint32_t reader : reader_tasks.of(value)) {
      if (!task_order.before(reader, task)) return false;
    }
    return true;
  };

  // Free buffers by capacity; each list is used as a stack (the most recently freed is the most
  // likely to be in cache).
  std::map<std::size_t, std::vector<FreeBuffer>> free_buffers;
  std::vector<std::size_t> capacity(n, 0);
  layout.step_offsets.assign(n, 0);
  for (std::uint32_t s = 0; s < n; ++s) {
    const PlanStep& step = steps[s];
    const std::size_t size =
        buffer_size(static_cast<std::size_t>(args[step.first_arg + step.num_inputs].numel()) *
                    dtype_size(step.dtype));
    layout.unshared_bytes += size;
    bool placed = false;
    int candidates = 0;
    for (auto it = free_buffers.lower_bound(size);
         retained[s] == 0 && !placed && it != free_buffers.end() && it->first <= 2 * size + 64 &&
         candidates < kMaxCandidates;
         ++it) {
      std::vector<FreeBuffer>& buffers = it->second;
      for (std::size_t i = buffers.size(); i-- > 0 && candidates < kMaxCandidates; ++candidates) {
        if (!readers_done_before(buffers[i].last_value, task_of[s])) continue;
        layout.step_offsets[s] = buffers[i].offset;
        capacity[s] = it->first;
        buffers[i] = buffers.back();
        buffers.pop_back();
        placed = true;
        break;
      }
    }
    if (!placed) {
      layout.step_offsets[s] = bump.allocate(size);
      capacity[s] = size;
    }
    // Values whose last reader is this step give their buffers back (after this step's own buffer
    // was chosen: a step never writes over its inputs).
    for (const std::uint32_t p : producers.of(s)) {
      if (last_reader[p] != s || retained[p] != 0) continue;
      last_reader[p] = kNoStep;  // once, even for an input read twice
      free_buffers[capacity[p]].push_back({layout.step_offsets[p], p});
    }
  }
  layout.bytes = (bump.used() + 63) / 64 * 64;
  return layout;
}

}  // namespace dagprop
