// index_select, gather, embedding: the values picked, gradients added over repeated indices, and
// indices that are not whole numbers in range.
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "tensor_ops_support.hpp"

namespace dagprop::testing {
namespace {

using ::testing::ElementsAre;
using ::testing::HasSubstr;

TEST(IndexSelect, PicksAndRepeatsRows) {
  Graph g;
  const Expr x = parameter_of(g, "x", {1, 2, 3, 4, 5, 6}, Shape{3, 2});
  const Expr rows = g.constant(Tensor::from({2, 0, 2}, Shape{3}));
  EXPECT_THAT(values_of(g.run(index_select(x, 0, rows))), ElementsAre(5, 6, 1, 2, 5, 6));
  EXPECT_THAT(values_of(g.run(index_select(x, 1, g.constant(Tensor::from({1}, Shape{1}))))),
              ElementsAre(2, 4, 6));
}

TEST(Embedding, GradientAddsUpOverRepeatedIndices) {
  Graph g;
  const Expr table = parameter_of(g, "table", {1, 2, 3, 4, 5, 6}, Shape{3, 2});
  const Expr indices = g.constant(Tensor::from({2, 2, 0, 2}, Shape{2, 2}));
  const Expr y = embedding(table, indices);
  EXPECT_EQ(y.shape(), (Shape{2, 2, 2}));
  EXPECT_THAT(values_of(g.run(y)), ElementsAre(5, 6, 5, 6, 1, 2, 5, 6));
  EXPECT_THAT(values_of(g.run(grad(sum(y), table))), ElementsAre(1, 1, 0, 0, 3, 3));
}

TEST(IndexSelect, IndexOutOfRangeIsAnErrorNamingTheNodeAndTheValue) {
  Graph g;
  const Expr x = g.input("x", Shape{4, 2});
  const Expr rows = g.input("rows", Shape{2});
  const Expr y = g.set_name(index_select(x, 0, rows), "picked");
  const Tensor xv = Tensor::zeros(Shape{4, 2});
  const Tensor bad = Tensor::from({1, 4}, Shape{2});
  EXPECT_THAT(
      [&] {
        g.run(y, {{x, xv}, {rows, bad}});
      },
      ::testing::ThrowsMessage<Error>(AllOf(
          HasSubstr("'picked'"), HasSubstr("index 4.000000 at position 1"), HasSubstr("[0, 4)"))));
  const Tensor fraction = Tensor::from({0.5, 1}, Shape{2});
  EXPECT_THAT(
      [&] {
        g.run(y, {{x, xv}, {rows, fraction}});
      },
      ::testing::ThrowsMessage<Error>(HasSubstr("index 0.500000 at position 0")));
}

TEST(IndexSelect, IndicesCarryNoGradient) {
  Graph g;
  const Expr x = parameter_of(g, "x", {1, 2}, Shape{2});
  const Expr rows = parameter_of(g, "rows", {1}, Shape{1});
  EXPECT_THAT(
      [&] {
        grad(sum(index_select(x, 0, rows)), {x, rows});
      },
      ::testing::ThrowsMessage<Error>(HasSubstr("not differentiable")));
}

TEST(Gather, PicksAlongAnAxisAndScattersTheGradientBack) {
  Graph g;
  const Expr x = parameter_of(g, "x", {1, 2, 3, 4, 5, 6}, Shape{2, 3});
  const Expr index = g.constant(Tensor::from({2, 2, 0, 1}, Shape{2, 2}));
  const Expr y = gather(x, 1, index);
  EXPECT_THAT(values_of(g.run(y)), ElementsAre(3, 3, 4, 5));
  EXPECT_THAT(values_of(g.run(grad(sum(y), x))), ElementsAre(0, 0, 2, 1, 1, 0));
}

TEST(Gather, IndexOfAnotherShapeIsAnError) {
  Graph g;
  const Expr x = g.input("x", Shape{2, 3});
  const Expr index = g.input("i", Shape{3, 1});
  EXPECT_THAT([&] { gather(x, 1, index); },
              ::testing::ThrowsMessage<Error>(HasSubstr("x is [2, 3], index is [3, 1]")));
}

}  // namespace
}  // namespace dagprop::testing
