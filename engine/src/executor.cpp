// The serial executor and the step runner every executor shares.
#include <cmath>
#include <cstdlib>

#include <dagprop/error.hpp>
#include <dagprop/graph.hpp>
#include <dagprop/op_def.hpp>
#include <dagprop/plan.hpp>

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

std::string summarize_inputs(const Plan& plan, const PlanStep& step) {
  const Graph& graph = plan.graph();
  std::string text;
  const auto inputs = graph.inputs_of(step.node);
  for (std::size_t i = 0; i < inputs.size(); ++i) {
    const TensorView v = plan.value(inputs[i]);
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
  if (graph.anomaly_mode()) {
    const std::int64_t n = call.output.numel();
    const std::int64_t bad = step.dtype == DType::f32
                                 ? first_non_finite(call.output.as<float>(), n)
                                 : first_non_finite(call.output.as<double>(), n);
    if (bad >= 0) {
      graph.set_anomaly_node(step.node);
      const double value =
          step.dtype == DType::f32 ? call.output.as<float>()[bad] : call.output.as<double>()[bad];
      throw Error("anomaly mode: " + graph.describe(step.node) + " produced " +
                  std::to_string(value) + " at element " + std::to_string(bad) +
                  " although its inputs were finite; check the inputs below" +
                  summarize_inputs(plan, step));
    }
  }
}

void SerialExecutor::run(Plan& plan, Graph& graph) {
  for (const PlanStep& step : plan.steps()) run_step(plan, step, graph);
}

// 0 threads: the serial executor, which never splits kernels. n >= 1: the TBB executor with n
// threads (1 runs the same tasks on the calling thread only).
std::unique_ptr<Executor> make_executor(int num_threads) {
  if (num_threads == 0) return std::make_unique<SerialExecutor>();
  return std::make_unique<TbbExecutor>(num_threads);
}

}  // namespace dagprop
