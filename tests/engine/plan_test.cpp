// Plans: compiled once per set of outputs, only the nodes they need, run many times.
#include <gtest/gtest.h>

#include <algorithm>

#include <dagprop/dagprop.hpp>

#include "boost_graph.hpp"
#include "graph_internals.hpp"
#include "plan.hpp"

namespace dagprop {
namespace {

TEST(Plan, ComputesOnlyTheNodesTheOutputsNeed) {
  Graph g;
  const Expr x = g.parameter("x", 2.0);
  const Expr needed = x * 3.0;
  const Expr unneeded = exp(x);
  Plan& plan = GraphInternals::plan_for(g, {needed});
  EXPECT_TRUE(plan.computes(needed.id()));
  EXPECT_FALSE(plan.computes(unneeded.id()));
  EXPECT_EQ(plan.steps().size(), 1u);
}

TEST(Plan, OrderPutsEveryNodeAfterItsInputs) {
  Graph g;
  SplitMix64 random(3);
  std::vector<Expr> nodes{g.parameter("p0", 0.5), g.parameter("p1", -0.5)};
  for (int i = 0; i < 200; ++i) {
    const Expr a = nodes[random.next() % nodes.size()], b = nodes[random.next() % nodes.size()];
    nodes.push_back(random.next() % 2 ? tanh(a * b) : a + b);
  }
  const auto order = topological_order(g, {nodes.back().id()});
  std::vector<std::size_t> position(g.size(), order.size());
  for (std::size_t i = 0; i < order.size(); ++i) position[order[i]] = i;
  for (NodeId id : order) {
    for (NodeId input : g.inputs_of(id)) EXPECT_LT(position[input], position[id]);
  }
}

TEST(Plan, IsReusedAcrossRunsWithNewFeeds) {
  Graph g;
  const Expr x = g.input("x", Shape{2});
  const Expr y = sum(x * x);
  Plan& first = GraphInternals::plan_for(g, {y});
  EXPECT_DOUBLE_EQ(g.run(y, {{x, Tensor::from({1.0, 2.0}, Shape{2})}}).item(), 5.0);
  EXPECT_DOUBLE_EQ(g.run(y, {{x, Tensor::from({3.0, 4.0}, Shape{2})}}).item(), 25.0);
  EXPECT_EQ(&GraphInternals::plan_for(g, {y}), &first);
}

TEST(Plan, BoundOutputIsWrittenToItsStorageAndReadThereByLaterSteps) {
  Graph g;
  const Expr x = g.parameter("x", Tensor::from({1.0, 2.0, 3.0}, Shape{3}));
  const Expr doubled = x * 2.0;
  const Expr total = sum(doubled);  // reads the bound output
  Plan& plan = GraphInternals::plan_for(g, {doubled, total});
  alignas(64) double storage[3] = {0, 0, 0};
  plan.bind_output(doubled.id(), reinterpret_cast<std::byte*>(storage));
  GraphInternals::run_plan(g, plan);
  EXPECT_EQ(storage[2], 6.0);
  EXPECT_EQ(plan.value(doubled.id()).raw(), static_cast<void*>(storage));
  EXPECT_DOUBLE_EQ(plan.value(total.id()).item(), 12.0);

  plan.bind_output(doubled.id(), nullptr);  // back to the workspace
  g.set_value(x, Tensor::from({1.0, 1.0, 1.0}, Shape{3}));
  GraphInternals::run_plan(g, plan);
  EXPECT_EQ(storage[2], 6.0) << "an unbound output no longer writes to the storage";
  EXPECT_NE(plan.value(doubled.id()).raw(), static_cast<void*>(storage));
  EXPECT_DOUBLE_EQ(plan.value(total.id()).item(), 6.0);
}

TEST(Plan, BindingANodeThatIsNotAComputedOutputIsAnError) {
  Graph g;
  const Expr x = g.parameter("x", Tensor::from({1.0, 2.0}, Shape{2}));
  const Expr doubled = x * 2.0;
  const Expr total = sum(doubled);
  Plan& plan = GraphInternals::plan_for(g, {total});
  alignas(64) double storage[2] = {0, 0};
  EXPECT_THROW(plan.bind_output(doubled.id(), reinterpret_cast<std::byte*>(storage)), Error);
  Plan& with_leaf = GraphInternals::plan_for(g, {x, total});
  EXPECT_THROW(with_leaf.bind_output(x.id(), reinterpret_cast<std::byte*>(storage)), Error);
}

TEST(Plan, ScalarNodesArePackedIntoAFewBytes) {
  Graph g;
  Expr x = g.parameter("x", 0.1);
  for (int i = 0; i < 1000; ++i) x = tanh(x);
  const Plan& plan = GraphInternals::plan_for(g, {x});
  EXPECT_LE(plan.workspace_bytes(), 1000u * sizeof(double) + 64);
}

TEST(Plan, ParameterUpdatesInPlaceAreSeenByTheNextRun) {
  Graph g;
  const Expr w = g.parameter("w", Tensor::from({1.0, 2.0}, Shape{2}));
  const Expr y = sum(w);
  EXPECT_DOUBLE_EQ(g.run(y).item(), 3.0);
  w.value().set(0, 10.0);
  EXPECT_DOUBLE_EQ(g.run(y).item(), 12.0);
}

TEST(BoostGraphView, DepthFirstSearchSeesEveryDependencyEdge) {
  Graph g;
  const Expr a = g.parameter("a", 1.0), b = g.parameter("b", 2.0);
  const Expr c = a * b + a;
  std::size_t edges = 0;
  for (NodeId v = 0; v < g.size(); ++v) {
    auto [first, last] = out_edges(v, g);
    for (auto e = first; e != last; ++e) {
      EXPECT_EQ(source(*e, g), v);
      EXPECT_LT(target(*e, g), v);
      ++edges;
    }
  }
  EXPECT_EQ(edges, 4u);  // mul: a, b; add: mul, a
  EXPECT_EQ(topological_order(g, {c.id()}).back(), c.id());
}

TEST(Scopes, NestedScopesPrefixNames) {
  Graph g;
  Expr w;
  {
    auto outer = g.scope("model");
    auto inner = g.scope("layer1");
    w = g.parameter("W", 1.0);
  }
  const Expr top = g.parameter("top", 1.0);
  EXPECT_EQ(w.name(), "model/layer1/W");
  EXPECT_EQ(top.name(), "top");
  EXPECT_EQ(g.find("model/layer1/W"), w);
}

}  // namespace
}  // namespace dagprop
