// Memory planning: where each value of a plan lives in its workspace. Private to engine/.
//
// A value that nobody reads after a run (neither an output nor kept) gives its buffer back once the
// last step that reads it has run, and a later step of the right size takes it. Steps are visited
// in plan order and the free buffers are kept by size (best fit), so a chain of any length needs
// two buffers. The parallel executor runs tasks with no path between them at the same time, so a
// step takes a freed buffer only if every task that read the old value comes before the step's task
// on a path of the task graph (or is the step's own task): reuse never adds an ordering the
// executor would not enforce anyway, and the result does not depend on the thread count.
#pragma once

#include <cstddef>
#include <cstdint>
#include <span>
#include <vector>

#include <dagprop/node.hpp>

namespace dagprop {

class Graph;
class TaskPartition;
struct PlanStep;
struct KernelArg;

struct WorkspaceLayout {
  std::vector<std::size_t> step_offsets;  // per step: where its output lives
  std::vector<std::size_t> feed_offsets;  // per fed input, in the order given
  std::size_t bytes = 0;                  // the workspace, every buffer included
  std::size_t unshared_bytes = 0;         // what a buffer per value would take
};

// `retained[s]`: step s's value must stay readable after the run (an output, a kept node).
// `args` give the sizes of the values.
WorkspaceLayout plan_workspace(const Graph& graph, std::span<const PlanStep> steps,
                               std::span<const KernelArg> args, std::span<const NodeId> feeds,
                               const TaskPartition& tasks, std::span<const std::uint8_t> retained);

}  // namespace dagprop
