// Runs have an explicit home: a Function's values are read from the Function, unaffected by other
// runs; Graph::value() reads the latest of the graph's own runs that computed the node; backward()
// stores inner nodes' gradients on request (retain_grad).
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <cmath>
#include <vector>

#include <dagprop/dagprop.hpp>

#include "engine/test_graphs.hpp"

namespace dagprop {
namespace {

using ::testing::HasSubstr;

const std::vector<Feed> kNoFeeds;

TEST(Function, ValuesAreReadFromTheFunctionThatRanThemAndSurviveOtherRuns) {
  Graph g;
  const Expr x = g.input("x", Shape{3});
  const Expr doubled = scale(x, 2.0), squared = mul(x, x);
  Function f = g.compile({doubled});
  Function h = g.compile({squared});
  const Tensor a = Tensor::from(std::vector<double>{1, 2, 3}, Shape{3});
  const Tensor b = Tensor::from(std::vector<double>{-1, 5, 0.5}, Shape{3});
  f.run({{x, a}});
  h.run({{x, b}});
  g.run({squared}, {{x, b}});
  // Another Function and the graph's own run() leave f's values alone.
  EXPECT_EQ(f.value(doubled).at(2), 6.0);
  EXPECT_EQ(h.value(squared).at(1), 25.0);
  const std::vector<Tensor> copies = f({{x, b}});
  EXPECT_EQ(copies[0].at(0), -2.0);
  EXPECT_EQ(f.value(doubled).at(0), -2.0);
}

TEST(Function, SaysWhatIsWrongWhenAValueCannotBeRead) {
  Graph g;
  const Expr x = g.input("x", Shape{2});
  const Expr y = g.set_name(exp(x), "y");
  const Expr z = g.set_name(sum(y), "z");
  const Expr unrelated = g.set_name(neg(x), "unrelated");
  Function f = g.compile({z});
  EXPECT_THAT(testing::error_message([&] { (void)f.value(z); }),
              HasSubstr("has not completed a run yet"));
  EXPECT_THAT(testing::error_message([&] { f.run(); }), HasSubstr("has no feed"));
  EXPECT_THAT(testing::error_message([&] { (void)f.value(z); }),
              HasSubstr("has not completed a run yet"));
  f.run({{x, Tensor::zeros(Shape{2}, DType::f64)}});
  EXPECT_EQ(f.value(z).item(), 2.0);
  EXPECT_THAT(testing::error_message([&] { (void)f.value(unrelated); }),
              HasSubstr("'unrelated' (op neg, shape [2]) is not computed by the Function of 'z'"));
  // y's buffer was reused: the message says how to keep it.
  EXPECT_THAT(testing::error_message([&] { (void)f.value(y); }), HasSubstr("keep"));
  Function kept = g.compile({z}, {.keep = {y}});
  kept.run({{x, Tensor::zeros(Shape{2}, DType::f64)}});
  EXPECT_EQ(kept.value(y).at(1), 1.0);
  Function empty;
  EXPECT_THAT(testing::error_message([&] { empty.run(); }), HasSubstr("this Function is empty"));
  Graph other;
  EXPECT_THAT(testing::error_message([&] { (void)f.value(other.constant(1.0)); }),
              HasSubstr("belongs to another Graph"));
}

TEST(Function, ReportsWhatCompilingDecided) {
  Graph g;
  Expr h = g.parameter("p", 0.5);
  for (int i = 0; i < 100; ++i) h = tanh(h);
  Function f = g.compile({h});
  EXPECT_EQ(f.num_steps(), 100U);
  EXPECT_LT(f.workspace_bytes(), f.unshared_workspace_bytes());
  EXPECT_EQ(f.num_tasks(), 1U);
  EXPECT_DOUBLE_EQ(f.parallelism(), 1.0);
  EXPECT_EQ(f.unshared_workspace_bytes(), 100U * sizeof(double));  // scalars packed at 8 bytes
  // Keeping every value shares no buffer.
  Function all = g.compile({h}, {.keep_all_values = true});
  EXPECT_GE(all.workspace_bytes(), all.unshared_workspace_bytes());
}

TEST(GraphValue, ReadsTheLatestOfTheGraphsOwnRunsThatComputedTheNode) {
  Graph g;
  const Expr x = g.input("x", Shape{});
  const Expr y = g.set_name(scale(x, 3.0), "y");
  const Expr other = g.set_name(neg(x), "other");
  g.run({y}, {{x, Tensor::scalar(1.0)}});
  // A run that does not compute y leaves y's value readable (it did not, before runs had a home).
  g.run({other}, {{x, Tensor::scalar(5.0)}});
  EXPECT_EQ(g.value(y).item(), 3.0);
  EXPECT_EQ(g.value(other).item(), -5.0);
  // A later run that computes y without keeping it: reading y says so rather than giving an old
  // value.
  const Expr after = g.set_name(add(y, other), "after");
  g.run({after}, {{x, Tensor::scalar(2.0)}});
  EXPECT_EQ(g.value(after).item(), 4.0);
  EXPECT_THAT(testing::error_message([&] { (void)g.value(y); }), HasSubstr("keep"));
  // A Function's runs are its own.
  Function f = g.compile({y});
  f.run({{x, Tensor::scalar(10.0)}});
  EXPECT_EQ(g.value(after).item(), 4.0);
  EXPECT_EQ(f.value(y).item(), 30.0);
  Graph fresh;
  const Expr never = fresh.set_name(neg(fresh.input("x", Shape{})), "never");
  EXPECT_THAT(testing::error_message([&] { (void)fresh.value(never); }),
              HasSubstr("has no value yet from the graph's run() or backward()"));
}

TEST(RetainGrad, BackwardStoresTheGradientsOfTheInnerNodesAskedFor) {
  Graph g;
  const Expr x1 = g.constant(0.5), x2 = g.constant(0.6);
  const Expr w1 = g.parameter("w1", 0.1), w2 = g.parameter("w2", 0.2), b = g.parameter("b", 0.3);
  const Expr z = g.set_name(w1 * x1 + w2 * x2 + b, "z");
  const Expr a = g.set_name(sigmoid(z), "a");
  const Expr loss = g.set_name(mul(a, a), "loss");
  g.backward(loss, kNoFeeds, {.retain_grad = {z, a}});
  const double s = 1.0 / (1.0 + std::exp(-0.47));
  EXPECT_NEAR(g.grad(a).item(), 2 * s, 1e-15);
  EXPECT_NEAR(g.grad(z).item(), 2 * s * s * (1 - s), 1e-15);
  EXPECT_DOUBLE_EQ(g.grad(b).item(), g.grad(z).item());
  EXPECT_TRUE(g.has_grad(z));
  // Accumulating adds to the retained gradients as to the parameters'.
  g.backward(loss, kNoFeeds, {.accumulate = true, .retain_grad = {z}});
  EXPECT_NEAR(g.grad(z).item(), 4 * s * s * (1 - s), 1e-15);
  EXPECT_FALSE(g.has_grad(a));  // not asked for this time
  // Without the request, no inner gradient; the graph is not rebuilt for a set asked for before.
  g.backward(loss);
  EXPECT_FALSE(g.has_grad(z));
  const std::size_t nodes = g.size();
  g.backward(loss, kNoFeeds, {.retain_grad = {z, a}});
  EXPECT_EQ(g.size(), nodes);
  EXPECT_NEAR(g.grad(z).item(), 2 * s * s * (1 - s), 1e-15);
  g.zero_grad();
  EXPECT_EQ(g.grad(z).item(), 0.0);
}

TEST(RetainGrad, MatchesGradAsAnExpressionOnTensors) {
  Graph g;
  const Expr x = g.input("x", Shape{4, 3});
  const Expr w = g.parameter(
      "w", Tensor::from(std::vector<double>{0.1, -0.2, 0.3, 0.4, 0.5, -0.6}, Shape{3, 2}));
  const Expr h = g.set_name(tanh(matmul(x, w)), "h");
  const Expr loss = sum(mul(h, h));
  std::vector<double> xs(12);
  for (std::size_t i = 0; i < xs.size(); ++i) xs[i] = 0.1 * static_cast<double>(i) - 0.5;
  const Tensor xv = Tensor::from(xs, Shape{4, 3});
  g.backward(loss, {{x, xv}}, {.retain_grad = {h}});
  const Tensor expected = g.run(grad(loss, h), {{x, xv}});
  ASSERT_EQ(g.grad(h).shape(), (Shape{4, 2}));
  for (std::int64_t i = 0; i < expected.numel(); ++i)
    EXPECT_EQ(g.grad(h).at(i), expected.at(i)) << i;
}

TEST(RetainGrad, RejectsLeavesWithAMessage) {
  Graph g;
  const Expr w = g.parameter("w", 2.0);
  const Expr x = g.input("x", Shape{});
  const Expr loss = mul(w, x);
  EXPECT_THAT(testing::error_message([&] {
                g.backward(loss, {{x, Tensor::scalar(1.0)}}, {.retain_grad = {x}});
              }),
              HasSubstr("retain_grad names 'x' (op input, shape []), a leaf"));
}

}  // namespace
}  // namespace dagprop
