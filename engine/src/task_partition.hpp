// TaskPartition: a plan's steps cut into tasks for the parallel executor. A task is a set of steps,
// grown along dependencies (a head of an ensemble, its backward), executed in plan order on one
// thread; tasks with no path between them may run at the same time. Computed once when the plan is
// compiled, from the graph alone: it does not depend on the thread count, and the serial executor
// ignores it.
#pragma once

#include <cstdint>
#include <span>
#include <vector>

#include <dagprop/export.hpp>

DAGPROP_API_BEGIN
namespace dagprop {

class Graph;
struct PlanStep;
struct KernelArg;

// What handing a task to another thread costs, in estimated_work() units (nanoseconds of one core).
inline constexpr double kHandOffWork = 1024;
// Estimated work below which a piece of the plan is not worth a task of its own: a task should
// carry tens of hand-offs.
inline constexpr double kTaskWork = 16 * kHandOffWork;
// How long a step may wait, beyond what its inputs force, for the task it joins; and how much a
// task may grow after another task started waiting for it. Joining saves a hand-off; waiting longer
// than this loses more than the hand-off costs.
inline constexpr double kMaxJoinDelay = kTaskWork;
// Below this ratio of total work to the heaviest path through the task graph, a plan's tasks could
// overlap too little to repay waking other threads: the TBB executor then runs them in order on the
// calling thread (large kernels still split their loops).
inline constexpr double kMinTaskParallelism = 1.5;
// What running one step costs beyond its elements (the call, the anomaly check): it makes chains of
// scalar nodes count for what they take.
inline constexpr double kStepOverheadWork = 16;

class TaskPartition {
 public:
  TaskPartition() = default;
  // `args` are the plan's kernel operands (Plan::args()), which give the steps' sizes.
  TaskPartition(const Graph& graph, std::span<const PlanStep> steps,
                std::span<const KernelArg> args);

  // Task ids are a topological order: every dependency runs from a lower id to a higher one.
  std::uint32_t num_tasks() const { return static_cast<std::uint32_t>(work_.size()); }
  // The task's steps (indices into Plan::steps()), in plan order: the order it runs them in.
  std::span<const std::uint32_t> steps_of(std::uint32_t task) const {
    return {steps_.data() + first_step_[task], first_step_[task + 1] - first_step_[task]};
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
  std::vector<std::uint32_t> first_step_{0};       // num_tasks + 1 offsets into steps_
  std::vector<std::uint32_t> steps_;               // grouped by task, plan order within a task
  std::vector<std::uint32_t> first_successor_{0};  // num_tasks + 1 offsets into successors_
  std::vector<std::uint32_t> successors_;
  std::vector<std::uint32_t> num_predecessors_;
  std::vector<std::uint32_t> initial_tasks_;
  std::vector<double> work_;
  double parallelism_ = 1;
};

}  // namespace dagprop
DAGPROP_API_END
