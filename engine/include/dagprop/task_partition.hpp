// TaskPartition: a plan's steps cut into tasks for the parallel executor. A task is a run of
// consecutive steps of the plan, executed in plan order on one thread; tasks with no path between
// them may run at the same time. Computed once when the plan is compiled, from the graph alone: it
// does not depend on the thread count, and the serial executor ignores it.
#pragma once

#include <cstdint>
#include <span>
#include <vector>

namespace dagprop {

class Graph;
struct PlanStep;
struct KernelArg;

// Estimated work (estimated_work() units, roughly a nanosecond each) below which a piece of the
// plan is not worth a task of its own: handing a task to another thread costs about a microsecond,
// so a task should carry tens of microseconds.
inline constexpr double kTaskWork = 1 << 15;
// Below this ratio of total work to the heaviest path through the task graph, a plan's tasks could
// overlap too little to repay waking other threads: the TBB executor then runs them in order on the
// calling thread (large kernels still split their loops).
inline constexpr double kMinTaskParallelism = 1.5;
// What running one step costs beyond its elements (the call, the anomaly check): it makes chains of
// scalar nodes count for what they take.
inline constexpr double kStepOverheadWork = 16;

// Steps [begin, end) of Plan::steps().
struct StepRange {
  std::uint32_t begin = 0;
  std::uint32_t end = 0;
};

class TaskPartition {
 public:
  TaskPartition() = default;
  // `args` are the plan's kernel operands (Plan::args()), which give the steps' sizes.
  TaskPartition(const Graph& graph, std::span<const PlanStep> steps,
                std::span<const KernelArg> args);

  std::uint32_t num_tasks() const { return static_cast<std::uint32_t>(work_.size()); }
  StepRange steps_of(std::uint32_t task) const {
    return {first_step_[task], first_step_[task + 1]};
  }
  // The tasks that use one of this task's results, each once, in increasing order.
  std::span<const std::uint32_t> successors_of(std::uint32_t task) const {
    return {successors_.data() + first_successor_[task],
            first_successor_[task + 1] - first_successor_[task]};
  }
  std::uint32_t num_predecessors(std::uint32_t task) const { return num_predecessors_[task]; }
  // Tasks with no predecessor: where a run starts.
  std::span<const std::uint32_t> initial_tasks() const { return initial_tasks_; }
  // Estimated work, kStepOverheadWork per step included.
  double work_of(std::uint32_t task) const { return work_[task]; }
  // Total work over the heaviest path through the task graph: the speed-up that running the tasks
  // concurrently could reach at best (1 for a chain of tasks, or no task).
  double parallelism() const { return parallelism_; }
  // Whether the TBB executor runs this plan's steps in plan order on one thread (kernels may still
  // split their loops): when the tasks could overlap too little (kMinTaskParallelism).
  bool runs_in_order() const { return parallelism_ < kMinTaskParallelism; }

 private:
  std::vector<std::uint32_t> first_step_{0};       // num_tasks + 1 offsets into Plan::steps()
  std::vector<std::uint32_t> first_successor_{0};  // num_tasks + 1 offsets into successors_
  std::vector<std::uint32_t> successors_;
  std::vector<std::uint32_t> num_predecessors_;
  std::vector<std::uint32_t> initial_tasks_;
  std::vector<double> work_;
  double parallelism_ = 1;
};

}  // namespace dagprop
