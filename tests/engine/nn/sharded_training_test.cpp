// Sharded training gives the same bits on any number of ranks: ranks here are threads of one
// process, joined by an in-process Collective that combines the ranks' parts in a different order
// on every rank (so an order-dependent sum would show). tests/distributed runs the same over MPI.
#include <gtest/gtest.h>

#include <algorithm>
#include <barrier>
#include <bit>
#include <cmath>
#include <cstring>
#include <functional>
#include <thread>
#include <vector>

#include <dagprop/data/synthetic.hpp>
#include <dagprop/nn/collective.hpp>
#include <dagprop/nn/trainer.hpp>

namespace dagprop::nn {
namespace {

// `ranks` threads; each operation copies every rank's part into its slot, waits for all, and each
// rank combines the slots starting from its own (rank 2 of 4 adds 2, 3, 0, 1).
class ThreadGroup {
 public:
  explicit ThreadGroup(int ranks) : ranks_(ranks), barrier_(ranks), slots_(ranks) {
    for (int r = 0; r < ranks; ++r) members_.emplace_back(*this, r);
  }
  Collective& member(int rank) { return members_[static_cast<std::size_t>(rank)]; }
  std::int64_t payload_bytes(int rank) const {
    return members_[static_cast<std::size_t>(rank)].payload_bytes();
  }

 private:
  class Member final : public Collective {
   public:
    Member(ThreadGroup& group, int rank) : group_(&group), rank_(rank) {}
    int rank() const override { return rank_; }
    int size() const override { return group_->ranks_; }
    void max_in_place(std::span<std::int32_t> v) override {
      combine(v, [](std::int32_t a, std::int32_t b) { return std::max(a, b); });
    }
    void sum_in_place(std::span<std::int64_t> v) override {
      combine(v, [](std::int64_t a, std::int64_t b) { return a + b; });
    }
    void combine_disjoint(std::span<double> v) override {
      combine(v, [](double a, double b) { return a + b; });
    }
    void broadcast(std::span<std::byte> bytes, int root) override {
      payload_bytes_ += static_cast<std::int64_t>(bytes.size());
      share(bytes);
      if (rank_ != root) {
        std::memcpy(bytes.data(), group_->slots_[static_cast<std::size_t>(root)].data(),
                    bytes.size());
      }
      group_->barrier_.arrive_and_wait();
    }

   private:
    template <class T>
    void share(std::span<T> values) {
      auto& slot = group_->slots_[static_cast<std::size_t>(rank_)];
      slot.resize(values.size_bytes());
      std::memcpy(slot.data(), values.data(), values.size_bytes());
      group_->barrier_.arrive_and_wait();
    }
    template <class T, class Op>
    void combine(std::span<T> values, Op op) {
      payload_bytes_ += static_cast<std::int64_t>(values.size_bytes());
      share(values);
      const int n = group_->ranks_;
      for (std::size_t i = 0; i < values.size(); ++i) {
        T acc{};
        for (int k = 0; k < n; ++k) {
          T part;
          std::memcpy(
              &part,
              group_->slots_[static_cast<std::size_t>((rank_ + k) % n)].data() + i * sizeof(T),
              sizeof(T));
          acc = k == 0 ? part : op(acc, part);
        }
        values[i] = acc;
      }
      group_->barrier_.arrive_and_wait();
    }
    ThreadGroup* group_;
    int rank_;
  };

  int ranks_;
  std::barrier<> barrier_;
  std::vector<std::vector<std::byte>> slots_;
  std::vector<Member> members_;
};

struct Moons {
  data::Dataset train, test;
};

// Built once, read by every test and thread.
const Moons& moons() {
  static const Moons data{data::make_moons({.samples = 480, .noise = 0.1, .seed = 1}),
                          data::make_moons({.samples = 250, .noise = 0.1, .seed = 2})};
  return data;
}

TrainOptions sharded_options() {
  TrainOptions o;
  o.hidden = {16, 8};
  o.activation = "tanh";
  o.optimizer = "adam";
  o.optimizer_settings.learning_rate = 0.02;
  o.epochs = 2;
  o.batch_size = 48;
  o.shards = 12;
  o.eval_batch_size = 60;  // 250 = 4 * 60 + 10: 5 evaluation batches over the ranks
  return o;
}

struct Outcome {
  std::vector<std::vector<std::uint32_t>> parameters;  // bits
  std::vector<std::uint64_t> metrics;                  // bits of every epoch's figures
};

Outcome outcome_of(Trainer& trainer, const TrainHistory& history) {
  Outcome o;
  for (const Expr& p : trainer.parameters()) {
    const TensorView v = p.value();
    std::vector<std::uint32_t> bits(static_cast<std::size_t>(v.numel()));
    std::memcpy(bits.data(), v.raw(), v.nbytes());
    o.parameters.push_back(bits);
  }
  for (const EpochRecord& e : history.epochs) {
    for (const double x : {e.train_loss, e.train_accuracy, e.test.loss, e.test.accuracy})
      o.metrics.push_back(std::bit_cast<std::uint64_t>(x));
  }
  return o;
}

std::vector<Outcome> train_on_ranks(int ranks, const TrainOptions& options) {
  const Moons& data = moons();
  ThreadGroup group(ranks);
  std::vector<Outcome> outcomes(static_cast<std::size_t>(ranks));
  std::vector<std::thread> threads;
  for (int r = 0; r < ranks; ++r) {
    threads.emplace_back([&, r] {
      Trainer trainer(data.train, data.test, options, nullptr, &group.member(r));
      const TrainHistory history = trainer.fit();
      outcomes[static_cast<std::size_t>(r)] = outcome_of(trainer, history);
    });
  }
  for (std::thread& t : threads) t.join();
  return outcomes;
}

TEST(ShardedTraining, AnyNumberOfRanksGivesTheBitsOfOneProcess) {
  const Moons& data = moons();
  Trainer single(data.train, data.test, sharded_options());
  const Outcome expected = outcome_of(single, single.fit());
  for (int ranks : {1, 2, 3, 4}) {
    const std::vector<Outcome> outcomes = train_on_ranks(ranks, sharded_options());
    for (int r = 0; r < ranks; ++r) {
      EXPECT_EQ(outcomes[static_cast<std::size_t>(r)].parameters, expected.parameters)
          << "rank " << r << " of " << ranks;
      EXPECT_EQ(outcomes[static_cast<std::size_t>(r)].metrics, expected.metrics)
          << "rank " << r << " of " << ranks;
    }
  }
}

// The mean of the shards' mean gradients is the batch's mean gradient: sharded training follows
// whole-batch training to float rounding (not to the bit: the sums differ).
TEST(ShardedTraining, FollowsWholeBatchTrainingToRounding) {
  const Moons& data = moons();
  TrainOptions o = sharded_options();
  o.epochs = 1;
  Trainer sharded(data.train, data.test, o);
  sharded.fit();
  o.shards = 0;
  Trainer whole(data.train, data.test, o);
  whole.fit();
  const std::vector<Expr> a = sharded.parameters(), b = whole.parameters();
  double largest = 0.0, difference = 0.0;
  for (std::size_t i = 0; i < a.size(); ++i) {
    for (std::int64_t k = 0; k < a[i].shape().numel(); ++k) {
      largest = std::max(largest, std::fabs(b[i].value().at(k)));
      difference = std::max(difference, std::fabs(a[i].value().at(k) - b[i].value().at(k)));
    }
  }
  EXPECT_GT(largest, 0.1);
  EXPECT_LT(difference, 1e-5);
}

TEST(ShardedTraining, LearnsTwoMoons) {
  const data::Dataset train = data::make_moons({.samples = 800, .noise = 0.1, .seed = 1});
  TrainOptions o = sharded_options();
  o.epochs = 15;
  o.batch_size = 32;
  o.shards = 8;
  Trainer trainer(train, moons().test, o);
  EXPECT_GE(trainer.fit().epochs.back().test.accuracy, 0.95);
}

TEST(ShardedTraining, CommunicatesEightBytesPerGradientElementPerStep) {
  const Moons& data = moons();
  TrainOptions o = sharded_options();
  o.epochs = 1;
  ThreadGroup group(3);
  std::int64_t elements = 0, tensors = 0;
  std::vector<std::thread> threads;
  for (int r = 0; r < 3; ++r) {
    threads.emplace_back([&, r] {
      Trainer trainer(data.train, data.test, o, nullptr, &group.member(r));
      trainer.fit();
      if (r == 0) {
        for (const Expr& p : trainer.parameters()) {
          elements += p.shape().numel();
          ++tensors;
        }
      }
    });
  }
  for (std::thread& t : threads) t.join();
  const std::int64_t steps = 480 / 48;
  // Per step: the gradient as 64-bit integers, one exponent per tensor, each shard's loss and
  // correct count, the stop flag. Once: rank 0's parameters and Adam's two moments (4 bytes per
  // element each). Per evaluation batch: its loss and its count.
  const std::int64_t per_step = 8 * elements + 4 * tensors + 16 * o.shards + 4;
  const std::int64_t expected = steps * per_step + 3 * 4 * elements + 16 * 5;
  for (int r = 0; r < 3; ++r) EXPECT_EQ(group.payload_bytes(r), expected) << "rank " << r;
}

TEST(ShardedTraining, RefusesMoreRanksThanShards) {
  const Moons& data = moons();
  TrainOptions o = sharded_options();
  o.batch_size = 2;
  o.shards = 2;
  ThreadGroup group(3);
  try {
    Trainer trainer(data.train, data.test, o, nullptr, &group.member(0));
    FAIL() << "3 ranks on 2 shards accepted";
  } catch (const Error& e) {
    EXPECT_NE(std::string(e.what()).find(
                  "a batch of 2 in 2 shards cannot feed 3 ranks (each rank trains on whole "
                  "shards); run at most 2 ranks"),
              std::string::npos)
        << e.what();
  }
}

TEST(ShardedTraining, RefusesShardsThatDoNotDivideTheBatch) {
  const Moons& data = moons();
  TrainOptions o = sharded_options();
  o.shards = 5;
  try {
    Trainer trainer(data.train, data.test, o);
    FAIL() << "5 shards of 48 accepted";
  } catch (const Error& e) {
    EXPECT_NE(std::string(e.what()).find("5 shards of a batch of 48; the shards must divide"),
              std::string::npos)
        << e.what();
  }
}

TEST(ShardedTraining, SeveralRanksNeedShards) {
  const Moons& data = moons();
  TrainOptions o = sharded_options();
  o.shards = 0;
  ThreadGroup group(2);
  EXPECT_THROW(Trainer(data.train, data.test, o, nullptr, &group.member(0)), Error);
}

// The start-up check, on every rank at once: each must throw the same CollectiveError.
std::vector<std::string> start_messages(int ranks, const std::function<std::string(int)>& failure,
                                        const std::function<std::string(int)>& configuration) {
  ThreadGroup group(ranks);
  std::vector<std::string> messages(static_cast<std::size_t>(ranks));
  std::vector<std::thread> threads;
  for (int r = 0; r < ranks; ++r) {
    threads.emplace_back([&, r] {
      try {
        agree_to_start(group.member(r), failure(r), configuration(r));
        messages[static_cast<std::size_t>(r)] = "started";
      } catch (const CollectiveError& e) {
        messages[static_cast<std::size_t>(r)] = e.what();
      }
    });
  }
  for (std::thread& t : threads) t.join();
  return messages;
}

TEST(ShardedTraining, StartUpCheckNamesTheRankThatCannotStart) {
  const auto messages = start_messages(
      4, [](int r) { return r == 2 ? std::string("cannot open 'data/train.idx'") : std::string(); },
      [](int) { return std::string("same"); });
  for (const std::string& m : messages) {
    EXPECT_EQ(m, "rank 2 of 4 cannot start: cannot open 'data/train.idx'; every rank stops");
  }
}

TEST(ShardedTraining, StartUpCheckNamesTheRanksWithAnotherConfiguration) {
  const auto messages = start_messages(
      3, [](int) { return std::string(); },
      [](int r) { return r == 1 ? std::string("seed 2") : std::string("seed 1"); });
  for (const std::string& m : messages) {
    EXPECT_EQ(m.rfind("rank 1 of 3 runs a configuration other than rank 0's", 0), 0U) << m;
  }
  const auto agreed = start_messages(
      3, [](int) { return std::string(); }, [](int) { return std::string("seed 1"); });
  for (const std::string& m : agreed) EXPECT_EQ(m, "started");
}

}  // namespace
}  // namespace dagprop::nn
