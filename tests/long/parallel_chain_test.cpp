// Ten-million-node chains through the scheduler's passes: the work/span report and the task
// partition walk the graph without recursion, and the TBB executor runs the result.
#include <gtest/gtest.h>

#include <dagprop/dagprop.hpp>
#include <dagprop/parallelism.hpp>

#include "graph_internals.hpp"
#include "plan.hpp"

namespace dagprop {
namespace {

TEST(DeepChain, TenMillionNodeChainHasAReportAndRunsOnTheTbbExecutor) {
  constexpr int kLinks = 5'000'000;  // two nodes per link: x * c, then tanh
  Graph g;
  const Expr x0 = g.parameter("x0", 0.3);
  const Expr c = g.constant(0.999);
  Expr x = x0;
  for (int i = 0; i < kLinks; ++i) x = tanh(x * c);

  const ParallelismReport report = analyze_parallelism(g, {x});
  EXPECT_EQ(report.num_nodes, 2u * kLinks);
  EXPECT_DOUBLE_EQ(report.span, report.work);
  EXPECT_EQ(report.critical_path.size(), 2u * kLinks);

  const double serial = g.run(x).item();
  g.set_num_threads(2);
  EXPECT_EQ(g.run(x).item(), serial);
  EXPECT_EQ(GraphInternals::plan_for(g, {x}).tasks().num_tasks(), 1u);
}

}  // namespace
}  // namespace dagprop
