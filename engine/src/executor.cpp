// The serial executor and the step runner every executor shares.
#include <cmath>
#include <cstdlib>

#include <dagprop/error.hpp>
#include <dagprop/graph.hpp>
#include <dagprop/kernel_loops.hpp>
#include <dagprop/op_def.hpp>
#include <dagprop/run_interruption.hpp>
#include "plan.hpp"

#include "graph_internals.hpp"
#include "tbb_executor.hpp"

namespace dagprop {
namespace {

template <class T>
std::int64_t first_non_finite(const T* values, std::int64_t n) {
  for (std::int64_t i = 0; i < n; ++i) {
    if (!std::isfinite(values[i])) return i;
  }
  return -1;
}

std::int64_t first_non_finite(const KernelArg& arg, DType dtype) {
  return dtype == DType::f32 ? first_non_finite(arg.as<float>(), arg.numel())
                             : first_non_finite(arg.as<double>(), arg.numel());
}

double element(const KernelArg& arg, DType dtype, std::int64_t i) {
  return dtype == DType::f32 ? arg.as<float>()[i] : arg.as<double>()[i];
}

std::string summarize_inputs(const Plan& plan, const PlanStep& step) {
  const Graph& graph = plan.graph();
  std::string text;
  const auto inputs = graph.inputs_of(step.node);
  for (std::size_t i = 0; i < inputs.size(); ++i) {
    const TensorView v = plan.buffer(inputs[i]);
    text += "\n  input " + std::to_string(i) + ": " + graph.describe(inputs[i]);
    if (v.numel() == 1) text += " = " + std::to_string(v.at(0));
  }
  return text;
}

}  // namespace

void run_step(const Plan& plan, const PlanStep& step, Graph& graph) {
  const KernelArg* args = plan.args().data() + step.first_arg;
  const KernelCall call{{args, step.num_inputs}, args[step.num_inputs], *step.attrs};
  try {
    step.forward(call);
  } catch (const Error& e) {
    throw Error(graph.describe(step.node) + ": " + e.what());
  }
  if (!graph.anomaly_mode()) return;
  const std::int64_t bad = first_non_finite(call.output, step.dtype);
  if (bad < 0) return;
  // Op nodes before this one were checked already, so a non-finite input can only be a leaf: a
  // parameter, a constant or a fed input. Blame the first value that was not finite.
  const auto inputs = graph.inputs_of(step.node);
  for (std::size_t i = 0; i < inputs.size(); ++i) {
    const std::int64_t bad_input = first_non_finite(call.inputs[i], step.dtype);
    if (bad_input >= 0) {
      GraphInternals::set_anomaly_node(graph, inputs[i]);
      throw Error("anomaly mode: " + graph.describe(inputs[i]) + " holds " +
                  std::to_string(element(call.inputs[i], step.dtype, bad_input)) + " at element " +
                  std::to_string(bad_input) + "; it is input " + std::to_string(i) + " of " +
                  graph.describe(step.node) + ". Check the value fed or stored for it");
    }
  }
  GraphInternals::set_anomaly_node(graph, step.node);
  throw Error("anomaly mode: " + graph.describe(step.node) + " produced " +
              std::to_string(element(call.output, step.dtype, bad)) + " at element " +
              std::to_string(bad) +
              " from finite inputs; check them:" + summarize_inputs(plan, step));
}

void throw_run_stopped(const Graph& graph, const PlanStep& step) {
  throw Error("run stopped before " + graph.describe(step.node) +
              ": its ScopedRunStopFlag was set (an interrupt); what this run computed is not "
              "meaningful, and the next run starts from the beginning");
}

void SerialExecutor::run(Plan& plan, Graph& graph) {
  const std::atomic<bool>* stop = run_stop_flag();
  for (const PlanStep& step : plan.steps()) {
    check_run_stop(stop, graph, step);
    run_step(plan, step, graph);
  }
}

void SerialExecutor::run_kernels(const std::function<void()>& work) {
  const KernelParallelism serial_kernels(false);
  work();
}

// 0 threads: the serial executor, which never splits kernels. n >= 1: the TBB executor with n
// threads (1 runs the same tasks on the calling thread only).
std::unique_ptr<Executor> make_executor(int num_threads) {
  if (num_threads == 0) return std::make_unique<SerialExecutor>();
  return std::make_unique<TbbExecutor>(num_threads);
}

}  // namespace dagprop
