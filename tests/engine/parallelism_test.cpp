// The work/span report: totals, the critical path, and the cost estimate behind them.
#include <gtest/gtest.h>

#include <dagprop/dagprop.hpp>
#include <dagprop/parallelism.hpp>

#include "graph_internals.hpp"
#include "plan.hpp"

namespace dagprop {
namespace {

// Estimated nanoseconds per element of an op without a work rule of its own.
double cost_of(std::string_view op) {
  return OpRegistry::global()[OpRegistry::global().id_of(op)].cost_per_element *
         kNanosecondsPerCostUnit;
}

TEST(ParallelismReport, ChainHasSpanEqualToWorkAndItsNodesAsCriticalPath) {
  Graph g;
  Expr x = g.parameter("x", Tensor::full(Shape{16}, 0.5));
  std::vector<NodeId> chain;
  for (int i = 0; i < 100; ++i) {
    x = tanh(x);
    chain.push_back(x.id());
  }
  const ParallelismReport report = analyze_parallelism(g, {x});
  EXPECT_EQ(report.num_nodes, 100u);
  EXPECT_DOUBLE_EQ(report.work, 100 * 16 * cost_of("tanh"));
  EXPECT_DOUBLE_EQ(report.span, report.work);
  EXPECT_DOUBLE_EQ(report.parallelism, 1.0);
  EXPECT_EQ(report.critical_path, chain);
}

TEST(ParallelismReport, IndependentBranchesJoinedByAddsHaveTheExpectedRatio) {
  // 8 branches of 10 tanh on [1000], summed by a chain of 7 adds: the longest path is the first
  // branch followed by all the adds.
  constexpr int kBranches = 8, kDepth = 10;
  constexpr double kElements = 1000;
  Graph g;
  Expr total;
  for (int b = 0; b < kBranches; ++b) {
    Expr x = g.parameter("x" + std::to_string(b), Tensor::full(Shape{1000}, 0.1));
    for (int i = 0; i < kDepth; ++i) x = tanh(x);
    total = b == 0 ? x : total + x;
  }
  const double branch = kDepth * kElements * cost_of("tanh");
  const double adds = (kBranches - 1) * kElements * cost_of("add");
  const ParallelismReport report = analyze_parallelism(g, {total});
  EXPECT_DOUBLE_EQ(report.work, kBranches * branch + adds);
  EXPECT_DOUBLE_EQ(report.span, branch + adds);
  EXPECT_DOUBLE_EQ(report.parallelism, (kBranches * branch + adds) / (branch + adds));
  EXPECT_EQ(report.critical_path.size(), static_cast<std::size_t>(kDepth + kBranches - 1));
  EXPECT_EQ(report.critical_path.back(), total.id());
}

TEST(ParallelismReport, CriticalPathFollowsTheHeavierBranch) {
  Graph g;
  const Expr x = g.parameter("x", Tensor::full(Shape{64}, 0.1));
  const Expr light = sigmoid(x);
  const Expr heavy = gelu(gelu(x));
  const Expr out = light * heavy;
  const ParallelismReport report = analyze_parallelism(g, {out});
  const std::vector<NodeId> expected{heavy.id() - 1, heavy.id(), out.id()};
  EXPECT_EQ(report.critical_path, expected);
}

TEST(ParallelismReport, ReductionsCountTheElementsTheyRead) {
  Graph g;
  const Expr x = g.parameter("x", Tensor::full(Shape{1000}, 1.0));
  EXPECT_DOUBLE_EQ(estimated_work(g, sum(x).id()), 1000 * cost_of("sum"));
  EXPECT_DOUBLE_EQ(estimated_work(g, x.id()), 0.0);
}

TEST(ParallelismReport, CompiledStepsAreEstimatedLikeTheirNodes) {
  Graph g;
  const Expr x = g.parameter("x", Tensor::full(Shape{32, 64}, 0.5));
  const Expr w = g.parameter("w", Tensor::full(Shape{64, 16}, 0.5));
  const Expr y = sum(tanh(matmul(x, w)), 1);
  const Plan& plan = GraphInternals::plan_for(g, {y});
  ASSERT_EQ(plan.steps().size(), 3u);
  for (const PlanStep& step : plan.steps()) {
    const std::span<const KernelArg> operands(plan.args().data() + step.first_arg,
                                              step.num_inputs + 1);
    EXPECT_DOUBLE_EQ(estimated_work(g.op_of(step.node), operands), estimated_work(g, step.node))
        << g.describe(step.node);
  }
}

TEST(ParallelismReport, LeavesAloneHaveNoWorkAndParallelismOne) {
  Graph g;
  const Expr x = g.parameter("x", 1.0);
  const ParallelismReport report = analyze_parallelism(g, {x});
  EXPECT_EQ(report.num_nodes, 0u);
  EXPECT_EQ(report.work, 0.0);
  EXPECT_EQ(report.parallelism, 1.0);
  EXPECT_TRUE(report.critical_path.empty());
}

TEST(ParallelismReport, TextNamesTheFiguresAndTheCriticalPathEnds) {
  Graph g;
  const Expr x = g.parameter("x", Tensor::full(Shape{10}, 0.5));
  const Expr y = g.set_name(tanh(x), "y");
  const std::string text = analyze_parallelism(g, {y}).to_string(g);
  // tanh on 10 floats: 10 * cost 8 * kNanosecondsPerCostUnit (1/25).
  EXPECT_NE(text.find("estimated work 3.2 ns, span 3.2 ns, parallelism 1 over 1 op nodes"),
            std::string::npos)
      << text;
  EXPECT_NE(text.find("from 'y' (op tanh, shape [10])"), std::string::npos) << text;
}

}  // namespace
}  // namespace dagprop
