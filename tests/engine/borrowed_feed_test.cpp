// A borrowed feed (Feed::borrowed) is read where it lies, without a copy into the workspace, and
// its owner is held until the plan's next run; the results are the bits of a copied feed, on
// every executor.
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <memory>
#include <vector>

#include <dagprop/dagprop.hpp>

#include "engine/test_graphs.hpp"

namespace dagprop {
namespace {

using testing::build_mlp;
using testing::error_message;
using testing::Mlp;

TEST(BorrowedFeed, IsReadInPlaceAndHeldUntilThePlansNextRun) {
  Graph g;
  const Expr x = g.input("x", Shape{3});
  const Expr y = sum(tanh(x * 2.0) + x);
  Function f = g.compile({y});

  auto fed = std::make_shared<Tensor>(Tensor::from({0.1, -0.3, 0.5}, Shape{3}));
  const std::weak_ptr<Tensor> watch = fed;
  const void* fed_bytes = fed->view().raw();
  f.run({Feed::borrowed(x, *fed, fed)});
  fed.reset();  // the plan holds it now
  ASSERT_FALSE(watch.expired());
  EXPECT_EQ(f.value(x).raw(), fed_bytes);  // the input's value is the fed memory itself
  const double borrowed_result = f.value(y).at(0);

  const Tensor copied = Tensor::from({0.1, -0.3, 0.5}, Shape{3});
  f.run({{x, copied}});
  EXPECT_TRUE(watch.expired());                      // released by the next run
  EXPECT_NE(f.value(x).raw(), copied.view().raw());  // copied into the workspace again
  EXPECT_EQ(f.value(x).to_vector(), copied.to_vector());
  EXPECT_EQ(f.value(y).at(0), borrowed_result);
}

TEST(BorrowedFeed, IsCheckedLikeACopiedFeed) {
  Graph g;
  const Expr x = g.input("x", Shape{3});
  Function f = g.compile({sum(x)});
  auto wrong = std::make_shared<Tensor>(Tensor::from({1.0, 2.0}, Shape{2}));
  EXPECT_THAT(
      error_message([&] { f.run({Feed::borrowed(x, *wrong, wrong)}); }),
      ::testing::HasSubstr("was fed a float64 tensor of shape [2]; feed float64 of shape [3]"));
}

class BorrowedFeedOnExecutors : public ::testing::TestWithParam<int> {};

// The MLP's batch is read by several steps (the first product, and the backward graph's weight
// gradient): borrowing re-points all of them, and a copied feed afterwards points them back.
TEST_P(BorrowedFeedOnExecutors, GivesTheBitsOfACopiedFeed) {
  Graph g;
  g.set_num_threads(GetParam());
  const Mlp mlp = build_mlp(g);
  const std::vector<Expr> wrt{g.find("mlp/layer1/W"), g.find("mlp/layer2/W")};
  std::vector<Expr> outputs = grad(mlp.loss, wrt);
  outputs.push_back(mlp.loss);
  Function f = g.compile(outputs);

  const auto read = [&] {
    std::vector<std::vector<double>> values;
    for (const Expr& output : outputs) values.push_back(f.value(output).to_vector());
    return values;
  };
  // Another batch than the one copied in last: a run that read the workspace would give the
  // first batch's results.
  Tensor other_batch = mlp.x_value;
  for (std::int64_t i = 0; i < other_batch.numel(); ++i)
    other_batch.set(i, 0.5 - 2.0 * other_batch.at(i));
  f.run({{mlp.x, other_batch}, {mlp.labels, mlp.labels_value}});
  const auto other_copied = read();
  f.run(mlp.feeds());
  const auto copied = read();
  ASSERT_NE(other_copied, copied);

  auto borrowed = std::make_shared<Tensor>(other_batch);
  f.run({Feed::borrowed(mlp.x, *borrowed, borrowed), {mlp.labels, mlp.labels_value}});
  EXPECT_EQ(read(), other_copied);
  f.run(mlp.feeds());  // copied again: the steps read the workspace again
  EXPECT_EQ(read(), copied);
}

INSTANTIATE_TEST_SUITE_P(Executors, BorrowedFeedOnExecutors, ::testing::Values(0, 1, 2));

}  // namespace
}  // namespace dagprop
