// Memory planning: values share buffers once their readers have run, backward included; results
// are the bits of a plan that keeps every value, and sharing never races under the TBB executor.
#include <gtest/gtest.h>

#include <cstdint>
#include <string>
#include <vector>

#include <dagprop/dagprop.hpp>

#include "graph_internals.hpp"
#include "plan.hpp"

#include "parallel/random_dag.hpp"

namespace dagprop {
namespace {

std::size_t nbytes_of(const Graph& g, Expr e) {
  return static_cast<std::size_t>(e.shape().numel()) * dtype_size(g.node(e.id()).dtype);
}

TEST(MemoryPlan, ChainOfAThousandNodesNeedsTwoBuffers) {
  Graph g;
  const Expr x = g.input("x", Shape{32, 32});
  Expr y = x;
  for (int i = 0; i < 1000; ++i) y = i % 2 == 0 ? tanh(y) : y * 0.5;
  const std::size_t value_bytes = nbytes_of(g, x);
  const Plan& plan = GraphInternals::plan_for(g, {y});
  // The input, the output (kept) and two buffers the chain alternates between.
  EXPECT_LE(plan.workspace_bytes(), 4 * value_bytes);
  EXPECT_GE(plan.unshared_workspace_bytes(), 1001 * value_bytes);

  SplitMix64 random(5);
  const Tensor x_value = testing::random_tensor(random, Shape{32, 32}, 2.0);
  const Tensor shared = g.run(y, {{x, x_value}});
  g.set_keep_values(true);
  const Plan& unshared = GraphInternals::plan_for(g, {y});
  EXPECT_GE(unshared.workspace_bytes(), 1001 * value_bytes);
  EXPECT_TRUE(bitwise_equal(shared, g.run(y, {{x, x_value}})));
}

// A two-layer perceptron's loss: backward reads some forward values (the activations) and not
// others.
struct SmallMlp {
  Graph g;
  Expr x, labels, hidden, logits, loss;
  std::vector<Expr> parameters;

  SmallMlp() {
    SplitMix64 random(11);
    x = g.input("x", Shape{16, 24});
    labels = g.input("labels", Shape{16});
    const Expr w1 = g.parameter("w1", testing::random_tensor(random, Shape{24, 32}, 0.3));
    const Expr w2 = g.parameter("w2", testing::random_tensor(random, Shape{32, 5}, 0.3));
    hidden = tanh(matmul(x, w1));
    logits = matmul(hidden, w2);
    loss = cross_entropy(logits, labels);
    parameters = {w1, w2};
  }

  // Feeds view these tensors.
  std::vector<Feed> feeds() {
    SplitMix64 random(12);
    x_value = testing::random_tensor(random, Shape{16, 24}, 1.0);
    label_values = Tensor(Shape{16}, DType::f64);
    for (std::int64_t i = 0; i < 16; ++i) label_values.set(i, static_cast<double>(i % 5));
    return {{x, x_value}, {labels, label_values}};
  }
  Tensor x_value, label_values;
};

TEST(MemoryPlan, BackwardSharesBuffersAndGivesTheBitsOfKeepingEveryValue) {
  SmallMlp shared, kept;
  kept.g.set_keep_values(true);
  shared.g.backward(shared.loss, shared.feeds());
  kept.g.backward(kept.loss, kept.feeds());
  EXPECT_EQ(shared.loss.item(), kept.loss.item());
  for (std::size_t i = 0; i < shared.parameters.size(); ++i)
    EXPECT_TRUE(
        bitwise_equal(Tensor(shared.parameters[i].grad()), Tensor(kept.parameters[i].grad())));

  // The same backward plans, compiled by each graph's backward().
  const auto backward_plan_bytes = [](SmallMlp& m) {
    std::vector<Expr> outputs{m.loss};
    for (const Expr& g : grad(m.loss, m.parameters)) outputs.push_back(g);
    return GraphInternals::plan_for(m.g, outputs).workspace_bytes();
  };
  EXPECT_LT(backward_plan_bytes(shared), backward_plan_bytes(kept));
  EXPECT_TRUE(kept.hidden.graph().has_value(kept.hidden.id()));
  EXPECT_FALSE(shared.g.has_value(shared.hidden.id()));
}

TEST(MemoryPlan, ReadingAValueThatWasNotKeptSaysHowToKeepIt) {
  SmallMlp m;
  m.g.backward(m.loss, m.feeds());
  try {
    (void)m.hidden.value();
    FAIL() << "the value of a node whose buffer was reused was readable";
  } catch (const Error& e) {
    const std::string message = e.what();
    EXPECT_NE(message.find("op tanh"), std::string::npos) << message;
    EXPECT_NE(message.find("BackwardOptions::keep"), std::string::npos) << message;
    EXPECT_NE(message.find("set_keep_values(true)"), std::string::npos) << message;
  }
}

TEST(MemoryPlan, KeptNodesStayReadableAfterBackward) {
  SmallMlp m, reference;
  reference.g.set_keep_values(true);
  reference.g.backward(reference.loss, reference.feeds());
  m.g.backward(m.loss, m.feeds(), {.keep = {m.logits, m.hidden}});
  EXPECT_TRUE(bitwise_equal(Tensor(m.logits.value()), Tensor(reference.logits.value())));
  EXPECT_TRUE(bitwise_equal(Tensor(m.hidden.value()), Tensor(reference.hidden.value())));
  // A later backward without them compiles its own plan, which does not keep them.
  m.g.backward(m.loss, m.feeds());
  EXPECT_FALSE(m.g.has_value(m.logits.id()));
}

TEST(MemoryPlan, KeepingANodeTheOutputsDoNotNeedIsAnError) {
  Graph g;
  const Expr x = g.parameter("x", 1.0);
  const Expr y = g.set_name(exp(x), "y");
  const Expr unrelated = g.set_name(tanh(x), "unrelated");
  try {
    GraphInternals::plan_for(g, {y}, {unrelated});
    FAIL() << "a kept node outside the plan was accepted";
  } catch (const Error& e) {
    EXPECT_NE(std::string(e.what()).find("'unrelated' (op tanh"), std::string::npos) << e.what();
  }
}

// Tasks that come before each task on a path of the task graph, itself included.
std::vector<std::vector<bool>> task_ancestors(const TaskPartition& tasks) {
  const std::uint32_t n = tasks.num_tasks();
  std::vector<std::vector<bool>> before(n, std::vector<bool>(n, false));
  for (std::uint32_t t = 0; t < n; ++t) {
    before[t][t] = true;
    for (const std::uint32_t s : tasks.successors_of(t)) {
      for (std::uint32_t a = 0; a < n; ++a) {
        if (before[t][a]) before[s][a] = true;
      }
    }
  }
  return before;
}

// Independent heads on one input, as in the W3 workload: the plan's tasks run concurrently.
Expr build_heads(Graph& g, int num_heads) {
  SplitMix64 random(21);
  const Expr x = g.parameter("x", testing::random_tensor(random, Shape{48, 48}, 1.0));
  Expr loss;
  for (int h = 0; h < num_heads; ++h) {
    Expr y = x;
    for (int layer = 0; layer < 3; ++layer) {
      const Expr w = g.parameter("w" + std::to_string(h) + "_" + std::to_string(layer),
                                 testing::random_tensor(random, Shape{48, 48}, 0.2));
      y = tanh(matmul(y, w));
    }
    loss = h == 0 ? mean(y) : loss + mean(y);
  }
  return loss;
}

// The check the executor relies on: a step may overwrite a buffer only if every task that read the
// buffer's earlier value comes before the step's task on a path of the task graph (or is the same
// task), so no schedule the TBB executor may choose lets a write overtake a read.
void expect_no_write_can_overtake_a_read(Graph& g, const Plan& plan) {
  const TaskPartition& tasks = plan.tasks();
  ASSERT_FALSE(tasks.runs_in_order());
  const auto before = task_ancestors(tasks);
  const auto& steps = plan.steps();
  std::vector<std::uint32_t> task_of(steps.size());
  for (std::uint32_t t = 0; t < tasks.num_tasks(); ++t) {
    for (const std::uint32_t s : tasks.steps_of(t)) task_of[s] = t;
  }
  std::vector<std::uint32_t> step_of(g.size(), ~0u);
  for (std::uint32_t s = 0; s < steps.size(); ++s) step_of[steps[s].node] = s;
  std::vector<std::vector<std::uint32_t>> readers(steps.size());
  for (std::uint32_t s = 0; s < steps.size(); ++s) {
    for (const NodeId input : g.inputs_of(steps[s].node)) {
      if (step_of[input] != ~0u) readers[step_of[input]].push_back(s);
    }
  }
  int shared_pairs = 0;
  for (std::uint32_t v = 0; v < steps.size(); ++v) {
    const TensorView old_value = plan.buffer(steps[v].node);
    const auto* old_begin = static_cast<const std::byte*>(old_value.raw());
    const auto* old_end = old_begin + old_value.nbytes();
    for (std::uint32_t s = v + 1; s < steps.size(); ++s) {
      const TensorView value = plan.buffer(steps[s].node);
      const auto* begin = static_cast<const std::byte*>(value.raw());
      if (begin >= old_end || begin + value.nbytes() <= old_begin) continue;
      ++shared_pairs;
      for (const std::uint32_t reader : readers[v]) {
        // A task runs its steps in plan order: inside one task the reader must come first.
        const bool ordered =
            task_of[reader] == task_of[s] ? reader < s : before[task_of[s]][task_of[reader]];
        ASSERT_TRUE(ordered) << g.describe(steps[s].node) << " (task " << task_of[s]
                             << ") overwrites " << g.describe(steps[v].node) << ", which "
                             << g.describe(steps[reader].node) << " (task " << task_of[reader]
                             << ") reads";
      }
    }
  }
  EXPECT_GT(shared_pairs, 0) << "no buffer is shared: the check tested nothing";
}

TEST(MemoryPlan, BuffersAreSharedOnlyAlongPathsOfTheTaskGraph) {
  Graph g;
  const Expr loss = build_heads(g, 8);
  std::vector<Expr> outputs{loss};
  std::vector<Expr> parameters = g.parameters();
  for (const Expr& gradient : grad(loss, parameters)) outputs.push_back(gradient);
  const Plan& plan = GraphInternals::plan_for(g, outputs);
  EXPECT_LT(plan.workspace_bytes(), plan.unshared_workspace_bytes());
  expect_no_write_can_overtake_a_read(g, plan);
}

TEST(MemoryPlan, RandomDagBackwardSharesBuffersOnlyAlongPathsOfTheTaskGraph) {
  int checked = 0;
  for (const std::uint64_t seed : {1u, 2u, 3u, 4u, 5u, 6u}) {
    Graph g;
    const testing::RandomDag dag = testing::build_random_dag(g, seed, 120, 96);
    std::vector<Expr> outputs{dag.loss};
    for (const Expr& gradient : grad(dag.loss, dag.parameters)) outputs.push_back(gradient);
    const Plan& plan = GraphInternals::plan_for(g, outputs);
    if (plan.tasks().runs_in_order()) continue;
    SCOPED_TRACE("seed " + std::to_string(seed));
    expect_no_write_can_overtake_a_read(g, plan);
    ++checked;
  }
  EXPECT_GT(checked, 0) << "no random graph was parallel enough to check";
}

}  // namespace
}  // namespace dagprop
