// A run stops between steps once its ScopedRunStopFlag is set, with an Error naming the next node,
// and the graph runs normally afterwards: serial and parallel executors alike.
#include <gtest/gtest.h>

#include <atomic>
#include <cmath>
#include <string>

#include <dagprop/dagprop.hpp>
#include <dagprop/run_interruption.hpp>

namespace dagprop {
namespace {

std::atomic<bool> g_stop{false};

// raise_stop(x) = x, and sets g_stop as it runs: an interrupt arriving in the middle of a run.
template <class T>
void raise_stop_forward(const KernelCall& call) {
  const T* x = call.inputs[0].as<T>();
  T* y = call.output.as<T>();
  for (std::int64_t i = 0; i < call.output.numel(); ++i) y[i] = x[i];
  g_stop.store(true);
}
Shape same_shape(const ShapeQuery& query) {
  return query.inputs[0];
}
void identity_vjp(GradContext& c) {
  c.set(0, c.grad_output());
}
Expr raise_stop(Expr x) {
  static const OpId id =
      OpRegistry::global().add(OpDef{.name = "test_raise_stop",
                                     .arity = 1,
                                     .shape = same_shape,
                                     .forward_f32 = raise_stop_forward<float>,
                                     .forward_f64 = raise_stop_forward<double>,
                                     .vjp = identity_vjp,
                                     .forward_doc = "y = x (and sets the test's stop flag)",
                                     .gradient_doc = "dx = g"});
  return x.graph().apply(id, std::vector<Expr>{x});
}

// Eight independent chains summed (so the parallel executor runs tasks side by side), one of them
// passing through raise_stop.
Expr branches(Graph& g, Expr x) {
  Expr total = g.constant(0.0);
  for (int b = 0; b < 8; ++b) {
    Expr h = x * (0.5 + b);
    for (int i = 0; i < 20; ++i) h = tanh(h * 0.9 + 0.1);
    if (b == 3) h = raise_stop(h);
    total = total + sum(tanh(h));
  }
  return total;
}

class RunInterruption : public ::testing::TestWithParam<int> {};

TEST_P(RunInterruption, StopsBetweenStepsAndTheGraphRunsAgainAfterwards) {
  Graph g;
  g.set_num_threads(GetParam());
  const Expr x = g.parameter("x", Tensor::from({0.2, -0.4, 0.7}, Shape{3}));
  const Expr y = branches(g, x);
  g_stop.store(false);
  const double expected = g.run(y).at(0);  // no flag installed: raise_stop's store is ignored
  g.backward(y);
  const std::vector<double> expected_grad = g.grad(x).to_vector();

  g_stop.store(false);
  {
    const ScopedRunStopFlag scope(g_stop);
    try {
      g.backward(y);
      FAIL() << "the run went on after its stop flag was set";
    } catch (const Error& e) {
      EXPECT_NE(std::string(e.what()).find("run stopped before"), std::string::npos) << e.what();
    }
  }
  g_stop.store(false);
  EXPECT_EQ(g.run(y).at(0), expected);
  g.backward(y);
  EXPECT_EQ(g.grad(x).to_vector(), expected_grad);
}

TEST_P(RunInterruption, AFlagSetBeforeTheRunStopsAFunctionAtItsFirstStep) {
  Graph g;
  g.set_num_threads(GetParam());
  const Expr x = g.parameter("x", Tensor::from({0.2, -0.4}, Shape{2}));
  const Expr y = sum(tanh(x * 2.0));
  Function f = g.compile({y});
  const std::atomic<bool> stop{true};
  {
    const ScopedRunStopFlag scope(stop);
    EXPECT_THROW(f.run(), Error);
  }
  f.run();  // the scope is gone: the flag no longer counts
  EXPECT_DOUBLE_EQ(f.value(y).at(0), std::tanh(0.4) + std::tanh(-0.8));
}

INSTANTIATE_TEST_SUITE_P(Executors, RunInterruption, ::testing::Values(0, 1, 2));

}  // namespace
}  // namespace dagprop
