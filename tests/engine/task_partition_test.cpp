// How a plan is cut into tasks: chains fused, expensive independent branches apart, cheap pieces
// merged, dependencies exact.
#include <gtest/gtest.h>

#include <algorithm>
#include <string>
#include <vector>

#include <dagprop/dagprop.hpp>

#include "graph_internals.hpp"
#include "plan.hpp"

#include "parallel/random_dag.hpp"

namespace dagprop {
namespace {

// Whether task `to` can be reached from task `from` in the task graph (ids increase along edges).
bool task_path_exists(const TaskPartition& tasks, std::uint32_t from, std::uint32_t to) {
  std::vector<bool> reached(tasks.num_tasks(), false);
  reached[from] = true;
  for (std::uint32_t t = from; t <= to; ++t) {
    if (!reached[t]) continue;
    for (const std::uint32_t next : tasks.successors_of(t)) reached[next] = true;
  }
  return reached[to];
}

std::uint32_t task_of(const Plan& plan, NodeId node) {
  const TaskPartition& tasks = plan.tasks();
  for (std::uint32_t t = 0; t < tasks.num_tasks(); ++t) {
    for (const std::uint32_t s : tasks.steps_of(t)) {
      if (plan.steps()[s].node == node) return t;
    }
  }
  return kNoNode;
}

// The nodes are computed by distinct tasks with no path between any two of them: they may all run
// at once. Paths run from lower task ids to higher ones.
void expect_in_independent_tasks(const Plan& plan, const std::vector<Expr>& nodes,
                                 const std::string& what) {
  std::vector<std::uint32_t> ids;
  for (const Expr& e : nodes) ids.push_back(task_of(plan, e.id()));
  for (std::size_t a = 0; a < ids.size(); ++a) {
    for (std::size_t b = a + 1; b < ids.size(); ++b) {
      ASSERT_NE(ids[a], ids[b]) << what << " " << a << " and " << b << " share a task";
      const auto [lower, higher] = std::minmax(ids[a], ids[b]);
      EXPECT_FALSE(task_path_exists(plan.tasks(), lower, higher))
          << what << " " << a << " and " << b << " would not run concurrently";
    }
  }
}

TEST(TaskPartition, ChainOfCheapNodesIsOneTask) {
  Graph g;
  const Expr x0 = g.parameter("x0", 0.5);
  Expr x = x0;
  for (int i = 0; i < 1000; ++i) x = tanh(x * 0.9 + 0.01);
  const Plan& plan = GraphInternals::plan_for(g, {x});
  EXPECT_EQ(plan.tasks().num_tasks(), 1u);
  EXPECT_EQ(plan.tasks().steps_of(0).size(), plan.steps().size());
}

TEST(TaskPartition, ExpensiveIndependentBranchesAreTasksWithNoPathBetweenThem) {
  Graph g;
  const Expr x = g.parameter("x", Tensor::full(Shape{128, 128}, 0.01));
  std::vector<Expr> branch_ends;
  Expr total;
  for (int b = 0; b < 4; ++b) {
    const Expr w = g.parameter("w" + std::to_string(b), Tensor::full(Shape{128, 128}, 0.02));
    branch_ends.push_back(tanh(matmul(tanh(matmul(x, w)), w)));
    total = b == 0 ? sum(branch_ends.back()) : total + sum(branch_ends.back());
  }
  expect_in_independent_tasks(GraphInternals::plan_for(g, {total}), branch_ends, "branches");
}

// W3's shape: heads on one input, their losses added up one after the other, with the gradients of
// every head's parameters. The running sum must not chain the heads together (each sum step reads
// the previous sum and the next head), and a head's backward pass, which the depth-first order puts
// far from its forward pass, must stay with it rather than become a task per step. The heads are
// worth a task each (heads cheaper than kTaskWork may share a task, with the sum among others).
TEST(TaskPartition, HeadsWithARunningLossSumAndTheirGradientsStayIndependent) {
  constexpr int kHeads = 16;
  Graph g;
  const Expr x = g.constant(Tensor::full(Shape{64, 96}, 0.1, DType::f32), "x");
  Expr loss;
  std::vector<Expr> parameters;
  std::vector<Expr> first_products;
  for (int h = 0; h < kHeads; ++h) {
    Expr a = x;
    for (int layer = 0; layer < 3; ++layer) {
      const std::int64_t out = layer < 2 ? 96 : 1;
      parameters.push_back(g.parameter("w" + std::to_string(h) + "_" + std::to_string(layer),
                                       Tensor::full(Shape{96, out}, 0.01 * (h + 1), DType::f32)));
      a = matmul(a, parameters.back());
      if (layer == 0) first_products.push_back(a);
      if (layer < 2) a = tanh(a);
    }
    const Expr head_loss = mean(a * a);
    loss = h == 0 ? head_loss : loss + head_loss;
  }
  std::vector<Expr> outputs{loss};
  for (const Expr& gradient : grad(loss, parameters)) outputs.push_back(gradient);
  const Plan& plan = GraphInternals::plan_for(g, outputs);
  const TaskPartition& tasks = plan.tasks();

  EXPECT_LE(tasks.num_tasks(), 4u * kHeads) << plan.steps().size() << " steps";
  EXPECT_GE(tasks.parallelism(), kHeads / 2.0);
  expect_in_independent_tasks(plan, first_products, "heads");
}

TEST(TaskPartition, ParallelismIsOneForAChainAndAboutTheBranchCountForIndependentBranches) {
  Graph g;
  const Expr x = g.parameter("x", Tensor::full(Shape{256, 256}, 0.01));
  Expr chain = x;
  for (int i = 0; i < 6; ++i) chain = tanh(matmul(chain, x));
  EXPECT_DOUBLE_EQ(GraphInternals::plan_for(g, {chain}).tasks().parallelism(), 1.0);

  Expr total;
  for (int b = 0; b < 4; ++b) {
    const Expr branch = tanh(matmul(tanh(matmul(x, x)), x)) * (b + 1.0);
    total = b == 0 ? sum(branch) : total + sum(branch);
  }
  const double parallelism = GraphInternals::plan_for(g, {total}).tasks().parallelism();
  EXPECT_GT(parallelism, 3.5);
  EXPECT_LE(parallelism, 4.0);
}

TEST(TaskPartition, CheapIndependentBranchesAreMergedIntoFewTasks) {
  Graph g;
  Expr total;
  for (int b = 0; b < 64; ++b) {
    Expr x = g.parameter("x" + std::to_string(b), 0.1 * b);
    for (int i = 0; i < 5; ++i) x = sigmoid(x * 2.0);
    total = b == 0 ? x : total + x;
  }
  const Plan& plan = GraphInternals::plan_for(g, {total});
  EXPECT_LE(plan.tasks().num_tasks(), 2u) << "64 cheap branches should not be 64 tasks";
}

TEST(TaskPartition, TasksCoverThePlanOnceInPlanOrderAndRecordEveryDependency) {
  Graph g;
  const testing::RandomDag dag = testing::build_random_dag(g, 5, 400, 24);
  const std::vector<Expr> gradients = grad(dag.loss, dag.parameters);
  std::vector<Expr> outputs{dag.loss};
  outputs.insert(outputs.end(), gradients.begin(), gradients.end());
  const Plan& plan = GraphInternals::plan_for(g, outputs);
  const TaskPartition& tasks = plan.tasks();
  ASSERT_GT(tasks.num_tasks(), 1u);

  std::vector<std::uint32_t> task_of_node(g.size(), kNoNode);
  std::size_t steps_seen = 0;
  for (std::uint32_t t = 0; t < tasks.num_tasks(); ++t) {
    const auto steps = tasks.steps_of(t);
    ASSERT_FALSE(steps.empty()) << "task " << t << " is empty";
    EXPECT_TRUE(std::is_sorted(steps.begin(), steps.end()))
        << "task " << t << " is not in plan order";
    for (const std::uint32_t s : steps) {
      ASSERT_LT(s, plan.steps().size());
      const NodeId node = plan.steps()[s].node;
      ASSERT_EQ(task_of_node[node], kNoNode) << "step " << s << " is in two tasks";
      task_of_node[node] = t;
    }
    steps_seen += steps.size();
  }
  EXPECT_EQ(steps_seen, plan.steps().size());

  std::vector<std::uint32_t> predecessors(tasks.num_tasks(), 0);
  for (std::uint32_t t = 0; t < tasks.num_tasks(); ++t) {
    const auto successors = tasks.successors_of(t);
    EXPECT_TRUE(std::is_sorted(successors.begin(), successors.end()));
    EXPECT_EQ(std::adjacent_find(successors.begin(), successors.end()), successors.end());
    for (const std::uint32_t s : successors) {
      EXPECT_GT(s, t);
      ++predecessors[s];
    }
  }
  for (const PlanStep& step : plan.steps()) {
    const std::uint32_t t = task_of_node[step.node];
    for (const NodeId input : g.inputs_of(step.node)) {
      const std::uint32_t u = task_of_node[input];
      if (u == kNoNode || u == t) continue;  // a leaf, or inside the same task
      const auto successors = tasks.successors_of(u);
      EXPECT_TRUE(std::binary_search(successors.begin(), successors.end(), t))
          << "task " << t << " reads a result of task " << u << " without depending on it";
    }
  }
  for (std::uint32_t t = 0; t < tasks.num_tasks(); ++t) {
    EXPECT_EQ(tasks.num_predecessors(t), predecessors[t]);
    const auto initial = tasks.initial_tasks();
    EXPECT_EQ(predecessors[t] == 0, std::find(initial.begin(), initial.end(), t) != initial.end());
  }
}

TEST(TaskPartition, PlanWithOnlyLeavesHasNoTasks) {
  Graph g;
  const Expr x = g.parameter("x", 1.0);
  EXPECT_EQ(GraphInternals::plan_for(g, {x}).tasks().num_tasks(), 0u);
}

}  // namespace
}  // namespace dagprop
