// Seeded shuffles, splits and mini-batches.
#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <set>

#include <dagprop/data/batches.hpp>
#include <dagprop/data/synthetic.hpp>
#include <dagprop/error.hpp>

namespace dagprop::data {
namespace {

// A dataset whose single feature is the row number, so batches show which rows they hold.
Dataset numbered(std::int64_t n) {
  Dataset d;
  d.name = "numbered";
  d.num_classes = 2;
  d.features = Tensor(Shape{n, 1}, DType::f32);
  d.labels = Tensor(Shape{n}, DType::f32);
  for (std::int64_t i = 0; i < n; ++i) {
    d.features.set(i, static_cast<double>(i));
    d.labels.set(i, static_cast<double>(i % 2));
  }
  return d;
}

std::vector<double> epoch_rows(MiniBatches& batches, int epoch) {
  std::vector<double> rows;
  batches.start_epoch(epoch);
  while (batches.next()) {
    for (std::int64_t i = 0; i < batches.batch_size(); ++i) {
      rows.push_back(batches.features().at(i));
      EXPECT_EQ(batches.labels().at(i), static_cast<double>(static_cast<int>(rows.back()) % 2));
    }
  }
  return rows;
}

TEST(ShuffledIndices, IsAPermutationThatDependsOnlyOnTheSeed) {
  const auto a = shuffled_indices(1000, 5), b = shuffled_indices(1000, 5);
  EXPECT_EQ(a, b);
  EXPECT_NE(a, shuffled_indices(1000, 6));
  auto sorted = a;
  std::sort(sorted.begin(), sorted.end());
  for (std::int64_t i = 0; i < 1000; ++i) EXPECT_EQ(sorted[static_cast<std::size_t>(i)], i);
}

TEST(MiniBatches, EachEpochVisitsEveryFullBatchRowOnce) {
  const Dataset d = numbered(103);
  MiniBatches batches(d, 10, 1);
  EXPECT_EQ(batches.batches_per_epoch(), 10);
  const std::vector<double> rows = epoch_rows(batches, 0);
  EXPECT_EQ(rows.size(), 100U);
  EXPECT_EQ(std::set<double>(rows.begin(), rows.end()).size(), 100U);
}

TEST(MiniBatches, SameSeedAndEpochGiveTheSameOrder) {
  const Dataset d = numbered(64);
  MiniBatches a(d, 8, 7), b(d, 8, 7);
  const auto first = epoch_rows(a, 0);
  EXPECT_EQ(first, epoch_rows(b, 0));
  EXPECT_NE(first, epoch_rows(a, 1));
  EXPECT_EQ(epoch_rows(a, 3), epoch_rows(b, 3));  // epoch 3 does not depend on epochs drawn before
}

TEST(MiniBatches, WithoutShuffleKeepsTheDatasetOrder) {
  const Dataset d = numbered(6);
  MiniBatches batches(d, 3, 1, false);
  EXPECT_EQ(epoch_rows(batches, 0), (std::vector<double>{0, 1, 2, 3, 4, 5}));
}

TEST(MiniBatches, SkippingBatchesResumesTheEpochWhereItWas) {
  const Dataset d = numbered(64);
  MiniBatches a(d, 8, 7), b(d, 8, 7);
  const std::vector<double> whole = epoch_rows(a, 2);
  b.start_epoch(2);
  ASSERT_TRUE(b.skip(3));
  std::vector<double> rest;
  while (b.next()) {
    for (std::int64_t i = 0; i < b.batch_size(); ++i) rest.push_back(b.features().at(i));
  }
  EXPECT_EQ(rest, std::vector<double>(whole.begin() + 24, whole.end()));
  b.start_epoch(0);
  EXPECT_FALSE(b.skip(9));  // 8 batches per epoch
  EXPECT_FALSE(b.skip(-1));
  EXPECT_TRUE(b.skip(8));
  EXPECT_FALSE(b.next());
}

TEST(MiniBatches, RejectsABatchLargerThanTheDataset) {
  const Dataset d = numbered(5);
  EXPECT_THROW(MiniBatches(d, 6, 1), Error);
  EXPECT_THROW(MiniBatches(d, 0, 1), Error);
}

TEST(Split, HoldsOutTheFractionDisjointly) {
  const Dataset d = numbered(100);
  const auto [rest, held] = split(d, 0.2, 3);
  EXPECT_EQ(rest.size(), 80);
  EXPECT_EQ(held.size(), 20);
  std::set<double> all;
  for (std::int64_t i = 0; i < 80; ++i) all.insert(rest.features.at(i));
  for (std::int64_t i = 0; i < 20; ++i) all.insert(held.features.at(i));
  EXPECT_EQ(all.size(), 100U);
  EXPECT_THROW(split(d, 1.0, 3), Error);
}

TEST(Standardizer, UsesTrainingStatisticsAndCentresConstantFeatures) {
  Dataset train = numbered(4);  // feature 0, 1, 2, 3: mean 1.5
  Dataset test = numbered(2);
  const Standardizer s = Standardizer::fit(train);
  s.apply(train);
  s.apply(test);
  EXPECT_NEAR(train.features.at(0) + train.features.at(3), 0.0, 1e-6);
  EXPECT_NEAR(test.features.at(0), -1.5 / std::sqrt(1.25), 1e-6);
}

}  // namespace
}  // namespace dagprop::data
