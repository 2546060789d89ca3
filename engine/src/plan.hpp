// Plan: compiled once per set of requested outputs; what a Function (function.hpp) and the graph's
// own run() and backward() run. Internal: the public face is Function. Its declarations are
// exported all the same, for dagprop's other libraries and its tests in shared builds.
//
// A Plan is compiled once per set of requested outputs. Arrays only: the topological order of the
// nodes the outputs need, one step per op node with its kernel arguments resolved to addresses in
// a workspace that lives as long as the plan, so a run allocates nothing. A value that is neither
// an output nor kept shares its buffer with later values once its last reader has run (see
// engine/src/memory_plan.hpp), so after a run only the outputs, the kept nodes and the leaves are
// readable.
#pragma once

#include <atomic>
#include <cstddef>
#include <cstdint>
#include <functional>
#include <memory>
#include <span>
#include <utility>
#include <vector>

#include <dagprop/export.hpp>
#include <dagprop/node.hpp>
#include <dagprop/tensor.hpp>

#include "task_partition.hpp"

DAGPROP_API_BEGIN
namespace dagprop {

class Graph;
struct KernelArg;

struct PlanStep {
  NodeId node = kNoNode;
  OpId op = 0;
  DType dtype = DType::f64;
  std::uint32_t first_arg = 0;  // into Plan::args(): the inputs, then the output
  std::uint32_t num_inputs = 0;
  const OpAttrs* attrs = nullptr;
  void (*forward)(const struct KernelCall&) = nullptr;
};

struct FeedSlot {
  NodeId node = kNoNode;
  std::byte* data = nullptr;  // the input's buffer in the workspace, where a copied feed goes
  // Into Plan::args(): the operands that read this input, re-pointed when a feed is borrowed.
  std::vector<std::uint32_t> reader_args;
};

struct PlanOptions {
  std::vector<NodeId> keep;      // also readable after a run, beyond the outputs
  bool keep_all_values = false;  // every node readable after a run: a buffer per value
};

class Plan {
 public:
  Plan(const Graph& graph, std::vector<NodeId> outputs, PlanOptions options = {});
  ~Plan();
  Plan(const Plan&) = delete;
  Plan& operator=(const Plan&) = delete;

  const Graph& graph() const { return *graph_; }
  const std::vector<NodeId>& outputs() const { return outputs_; }
  // Every node the outputs need, leaves included, inputs before the nodes that use them.
  const std::vector<NodeId>& order() const { return order_; }
  const std::vector<PlanStep>& steps() const { return steps_; }
  const std::vector<KernelArg>& args() const { return args_; }
  const std::vector<FeedSlot>& feeds() const { return feeds_; }
  std::size_t workspace_bytes() const { return workspace_bytes_; }
  // What the workspace would take with a buffer for every value (no reuse).
  std::size_t unshared_workspace_bytes() const { return unshared_workspace_bytes_; }
  // The steps cut into tasks for the parallel executor (see task_partition.hpp).
  const TaskPartition& tasks() const { return tasks_; }

  bool computes(NodeId id) const;
  // Whether the node's value stays readable after a run: leaves, outputs and kept nodes.
  bool retains(NodeId id) const;
  // The node's value after a run, in this plan's workspace (or the leaf's own storage); throws for
  // a node the plan does not retain.
  TensorView value(NodeId id) const;
  // Where the node's value is during a run, retained or not (for the executors' error reports).
  TensorView buffer(NodeId id) const;

  // Makes the runs that follow write an output's value to `storage` (the node's bytes, suitably
  // aligned, owned by the caller and alive while bound) instead of this plan's workspace, and its
  // readers read it there; nullptr binds it back to the workspace. backward() binds gradients to
  // the parameters' .grad() so that a run writes them in place: no copy after the run, and each
  // gradient written by the thread that computed it.
  void bind_output(NodeId id, std::byte* storage);
  // Several at once, in one pass over the steps (bind_output costs a pass per call).
  void bind_outputs(std::span<const std::pair<NodeId, std::byte*>> bindings);

  // Makes the runs that follow read the input of feeds()[slot] at `data` (a borrowed feed, the
  // bytes of the input's shape and dtype), holding `owner` until it is read from elsewhere;
  // `data` null: from its own buffer in the workspace again (FeedSlot::data). Only the operands
  // that read the input are re-pointed.
  void read_feed_at(std::size_t slot, const std::byte* data, std::shared_ptr<const void> owner);

  // The number of the graph's run that last ran this plan (0: never run). Graph::value() reads a
  // node from the latest of its own plans that computed it.
  std::uint64_t last_run() const { return last_run_; }
  void set_last_run(std::uint64_t run) { last_run_ = run; }

 private:
  // Every step's kernel operands (args_) from locations_.
  void point_operands_at_locations();

  const Graph* graph_;
  std::vector<NodeId> outputs_;
  std::vector<NodeId> order_;
  std::vector<PlanStep> steps_;
  std::vector<KernelArg> args_;
  std::vector<FeedSlot> feeds_;
  std::vector<std::shared_ptr<const void>> feed_owners_;  // by feed slot: a borrowed feed's memory
  std::vector<std::byte*> locations_;  // by node id: where its value lives; null if not in the plan
  // By node id, once an output was bound: its workspace location while bound elsewhere, else null.
  std::vector<std::byte*> workspace_locations_;
  std::vector<bool> retained_;  // by node id
  std::unique_ptr<std::byte[], void (*)(std::byte*)> workspace_;
  std::size_t workspace_bytes_ = 0;
  std::size_t unshared_workspace_bytes_ = 0;
  TaskPartition tasks_;
  std::uint64_t last_run_ = 0;
};

// The nodes that `outputs` depend on, in an order where every node follows its inputs. Computed by
// Boost.Graph's depth-first search (an explicit stack, no recursion).
std::vector<NodeId> topological_order(const Graph& graph, const std::vector<NodeId>& outputs);

// Runs the steps of a plan. The serial executor is a single loop; the parallel one schedules
// independent parts of the same plan with TBB and produces the same bits.
class Executor {
 public:
  virtual ~Executor() = default;
  virtual void run(Plan& plan, Graph& graph) = 0;
  // Runs `work` on the calling thread with the kernel loops it calls (kernel_loops.hpp) spread
  // over this executor's threads, as inside a plan: for work between runs, such as an optimizer's
  // update, which would otherwise run on one thread.
  virtual void run_kernels(const std::function<void()>& work) = 0;
};

class SerialExecutor final : public Executor {
 public:
  void run(Plan& plan, Graph& graph) override;
  void run_kernels(const std::function<void()>& work) override;
};

// Runs one step, adding the node's description to any error its kernel throws, and checks for NaN
// and Inf in anomaly mode. Shared by every executor so that all report failures the same way.
void run_step(const Plan& plan, const PlanStep& step, Graph& graph);
[[noreturn]] void throw_run_stopped(const Graph& graph, const PlanStep& step);
// Throws if `stop` (the run's ScopedRunStopFlag, or null) is set: called before each step.
inline void check_run_stop(const std::atomic<bool>* stop, const Graph& graph,
                           const PlanStep& step) {
  if (stop != nullptr && stop->load(std::memory_order_relaxed)) [[unlikely]]
    throw_run_stopped(graph, step);
}

}  // namespace dagprop
DAGPROP_API_END
