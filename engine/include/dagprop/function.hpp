// Function: a graph's outputs compiled once (the order of the nodes they need, the memory plan, the
// tasks of the parallel executor) and run many times with new feeds. A run's values live in the
// Function that ran it and are read there: running another Function, or the graph's own run() and
// backward(), never changes them.
#pragma once

#include <cstddef>
#include <cstdint>
#include <memory>
#include <vector>

#include <dagprop/export.hpp>
#include <dagprop/expr.hpp>
#include <dagprop/graph.hpp>
#include <dagprop/tensor.hpp>

DAGPROP_API_BEGIN
namespace dagprop {

class Plan;

struct CompileOptions {
  // Nodes the outputs depend on whose values must also stay readable after a run (the others share
  // buffers once their readers have run).
  std::vector<Expr> keep;
  // Every value a run computes stays readable (a buffer per value): for inspecting and drawing.
  // Graph::set_keep_values(true) turns it on for every Function compiled afterwards.
  bool keep_all_values = false;
};

class Function {
 public:
  Function();  // empty: compile one with Graph::compile()
  ~Function();
  Function(Function&&) noexcept;
  Function& operator=(Function&&) noexcept;
  Function(const Function&) = delete;
  Function& operator=(const Function&) = delete;

  bool valid() const { return plan_ != nullptr; }
  Graph& graph() const;
  const std::vector<Expr>& outputs() const { return outputs_; }

  // Runs the graph's executor over the compiled steps with these feeds (every input the outputs
  // need, with its shape and dtype). Parameters are read where they are, so an optimizer's update
  // is seen by the next run.
  void run(const std::vector<Feed>& feeds = {});
  // Runs and returns copies of the outputs' values.
  std::vector<Tensor> operator()(const std::vector<Feed>& feeds = {});

  bool has_run() const { return has_run_; }
  // Whether a run computes the node (an op node the outputs need, or a leaf they read).
  bool computes(Expr node) const;
  // Whether the node's value stays readable after a run: the outputs, the kept nodes, the leaves.
  bool retains(Expr node) const;
  // The node's value as the last run left it (a leaf: its current value). Throws for a node this
  // Function does not retain, or before the first run. The view stays valid until the next run.
  TensorView value(Expr node) const;

  // What compiling decided, for benchmarks and tuning.
  std::size_t num_steps() const;                 // op nodes computed per run
  std::size_t workspace_bytes() const;           // the values' memory, with buffers shared
  std::size_t unshared_workspace_bytes() const;  // what a buffer per value would take
  std::uint32_t num_tasks() const;               // the parallel executor's tasks
  double parallelism() const;  // total work over the heaviest path through the tasks

 private:
  friend class Graph;
  friend struct FunctionInternals;
  Function(Graph& graph, std::vector<Expr> outputs, std::unique_ptr<Plan> plan);
  void check_valid(const char* what) const;
  std::string describe_outputs() const;

  Graph* graph_ = nullptr;
  std::vector<Expr> outputs_;
  std::unique_ptr<Plan> plan_;
  bool has_run_ = false;
};

}  // namespace dagprop
DAGPROP_API_END
