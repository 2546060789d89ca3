// Choosing the executor, and what the TBB executor does that the serial one does not: run
// independent branches at the same time and let kernels split their loops.
#include <gtest/gtest.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <cstdlib>
#include <string>
#include <thread>
#include <vector>

#include <dagprop/dagprop.hpp>
#include <dagprop/kernel_loops.hpp>

namespace dagprop {
namespace {

// ---- probe ops: identity kernels that record what they saw

std::atomic<int> g_kernels_allowed_to_split{0};
std::atomic<int> g_kernels_not_allowed_to_split{0};

template <class T>
void copy_input(const KernelCall& call) {
  const T* x = call.inputs[0].as<T>();
  T* y = call.output.as<T>();
  for (std::int64_t i = 0; i < call.output.numel(); ++i) y[i] = x[i];
}

template <class T>
void record_kernel_parallelism(const KernelCall& call) {
  ++(kernel_parallelism_enabled() ? g_kernels_allowed_to_split : g_kernels_not_allowed_to_split);
  copy_input<T>(call);
}

// Waits (up to a deadline) until two instances run at once; counts the instances that met.
std::atomic<int> g_arrived{0};
std::atomic<int> g_met{0};

template <class T>
void rendezvous(const KernelCall& call) {
  ++g_arrived;
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(30);
  while (g_arrived.load() < 2 && std::chrono::steady_clock::now() < deadline)
    std::this_thread::sleep_for(std::chrono::milliseconds(1));
  if (g_arrived.load() >= 2) ++g_met;
  copy_input<T>(call);
}

Shape same_shape(const ShapeQuery& q) {
  return q.inputs[0];
}

OpId register_probe(const char* name, ForwardKernel f32, ForwardKernel f64, double cost) {
  OpDef def;
  def.name = name;
  def.arity = 1;
  def.shape = same_shape;
  def.forward_f32 = f32;
  def.forward_f64 = f64;
  def.grad_kind = GradKind::zero;
  def.cost_per_element = cost;
  def.forward_doc = "y = x (a test probe)";
  def.gradient_doc = "none: a test probe";
  return OpRegistry::global().add(def);
}

OpId parallelism_probe() {
  static const OpId id = register_probe("test_parallelism_probe", &record_kernel_parallelism<float>,
                                        &record_kernel_parallelism<double>, 1);
  return id;
}
OpId rendezvous_probe() {
  // Expensive by declaration, so that every instance is a task of its own.
  static const OpId id =
      register_probe("test_rendezvous", &rendezvous<float>, &rendezvous<double>, 1e9);
  return id;
}

Expr apply_probe(OpId op, Expr x) {
  const Expr inputs[] = {x};
  return x.graph().apply(op, inputs);
}

// ---- tests

TEST(ParallelExecutor, IndependentBranchesRunConcurrently) {
  Graph g;
  g.set_num_threads(2);
  const Expr x = g.parameter("x", 1.0);
  const Expr left = apply_probe(rendezvous_probe(), x);
  const Expr right = apply_probe(rendezvous_probe(), -x);
  g_arrived = 0;
  g_met = 0;
  g.run(left + right);
  EXPECT_EQ(g_met.load(), 2) << "the two branches did not run at the same time";
}

TEST(ParallelExecutor, KernelsMaySplitOnlyUnderTheTbbExecutor) {
  Graph g;
  const Expr x = g.parameter("x", Tensor::full(Shape{8}, 1.0));
  const Expr y = sum(apply_probe(parallelism_probe(), x));
  g_kernels_allowed_to_split = 0;
  g_kernels_not_allowed_to_split = 0;
  g.run(y);
  EXPECT_EQ(g_kernels_allowed_to_split.load(), 0);
  EXPECT_EQ(g_kernels_not_allowed_to_split.load(), 1);
  g.set_num_threads(2);
  g.run(y);
  EXPECT_EQ(g_kernels_allowed_to_split.load(), 1);
  EXPECT_EQ(g_kernels_not_allowed_to_split.load(), 1);
}

// Work between runs (an optimizer's update) splits its loops over the executor's threads when it
// runs through Graph::run_kernels, and only there; every element is visited once.
TEST(ParallelExecutor, RunKernelsSplitsLoopsOnlyOnAnExecutorWithSeveralThreads) {
  Graph g;
  auto splits_inside = [&] {
    bool enabled = false;
    g.run_kernels([&] { enabled = kernel_parallelism_enabled(); });
    return enabled;
  };
  EXPECT_FALSE(splits_inside());  // the serial executor
  g.set_num_threads(1);
  EXPECT_FALSE(splits_inside());
  g.set_num_threads(2);
  EXPECT_TRUE(splits_inside());
  EXPECT_FALSE(kernel_parallelism_enabled());  // the caller's setting is back
  constexpr std::int64_t kElements = std::int64_t{1} << 21;
  std::vector<std::atomic<int>> visits(kElements);
  g.run_kernels([&] {
    for_each_chunk(kElements, [&](std::int64_t begin, std::int64_t end) {
      for (std::int64_t k = begin; k < end; ++k) visits[static_cast<std::size_t>(k)]++;
    });
  });
  EXPECT_TRUE(std::all_of(visits.begin(), visits.end(), [](const auto& v) { return v == 1; }));
}

TEST(ParallelExecutor, KernelParallelismIsOffOnTheCallerAfterAParallelRun) {
  Graph g;
  g.set_num_threads(2);
  const Expr x = g.parameter("x", Tensor::full(Shape{100000}, 0.5));
  g.run(sum(tanh(x)));
  EXPECT_FALSE(kernel_parallelism_enabled());
}

TEST(ParallelExecutor, SetNumThreadsChoosesTheExecutor) {
  Graph g;
  EXPECT_EQ(g.num_threads(), 0);
  g.set_num_threads(3);
  EXPECT_EQ(g.num_threads(), 3);
  g.set_num_threads(0);
  EXPECT_EQ(g.num_threads(), 0);
}

TEST(ParallelExecutor, NegativeThreadCountIsRejectedWithTheFix) {
  Graph g;
  try {
    g.set_num_threads(-1);
    FAIL() << "no error";
  } catch (const Error& e) {
    EXPECT_NE(std::string(e.what()).find("use 0 for the serial executor or 1..1024 threads"),
              std::string::npos)
        << e.what();
  }
}

TEST(ParallelExecutor, EnvironmentVariableSetsTheDefaultThreadCount) {
  ASSERT_EQ(setenv("DAGPROP_NUM_THREADS", "2", 1), 0);
  Graph g;
  EXPECT_EQ(g.num_threads(), 2);
  const Expr x = g.parameter("x", 2.0);
  EXPECT_EQ(g.run(x * x).item(), 4.0);
  ASSERT_EQ(unsetenv("DAGPROP_NUM_THREADS"), 0);
  Graph serial;
  EXPECT_EQ(serial.num_threads(), 0);
}

TEST(ParallelExecutor, MalformedEnvironmentVariableIsAnErrorNamingIt) {
  ASSERT_EQ(setenv("DAGPROP_NUM_THREADS", "two", 1), 0);
  try {
    Graph g;
    FAIL() << "no error";
  } catch (const Error& e) {
    EXPECT_NE(std::string(e.what()).find("DAGPROP_NUM_THREADS='two' is not a thread count"),
              std::string::npos)
        << e.what();
  }
  ASSERT_EQ(unsetenv("DAGPROP_NUM_THREADS"), 0);
}

TEST(ParallelExecutor, PlanWithoutOpsRunsUnderTheTbbExecutor) {
  Graph g;
  g.set_num_threads(2);
  const Expr x = g.parameter("x", 5.0);
  EXPECT_EQ(g.run(x).item(), 5.0);
}

}  // namespace
}  // namespace dagprop
