// The TBB executor gives the serial executor's bits, at every thread count, run after run: values,
// gradients and training steps.
#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <memory>
#include <string>
#include <vector>

#include <dagprop/dagprop.hpp>

#include "graph_internals.hpp"
#include "plan.hpp"

#include "parallel/random_dag.hpp"

namespace dagprop {
namespace {

// Thread counts compared with the serial executor: one thread, this machine's cores, and more
// threads than cores.
constexpr int kThreadCounts[] = {1, 2, 8};
constexpr int kRunsPerThreadCount = 3;

// Everything one run produces: the requested values, then the stored gradients.
std::vector<Tensor> run_and_collect(Graph& g, Expr loss, const std::vector<Expr>& values,
                                    const std::vector<Expr>& gradients,
                                    const std::vector<Feed>& feeds = {}) {
  std::vector<Tensor> results = g.run(values, feeds);
  g.backward(loss, feeds);
  for (const Expr& e : gradients) results.emplace_back(e.grad());
  return results;
}

void expect_bitwise_equal(const std::vector<Tensor>& expected, const std::vector<Tensor>& actual,
                          const std::string& where) {
  ASSERT_EQ(expected.size(), actual.size()) << where;
  for (std::size_t i = 0; i < expected.size(); ++i)
    EXPECT_TRUE(bitwise_equal(expected[i], actual[i])) << where << ": result " << i << " differs";
}

// Runs with the serial executor keeping every value (no buffer is shared), then with the TBB
// executor at each thread count, several times, with the buffers shared as the memory plan allows:
// a write that overtook a read on another thread would change the bits. Compares the gradients of
// those `candidates` that the loss reaches (backward() stores no others).
void expect_same_bits_at_every_thread_count(Graph& g, Expr loss, const std::vector<Expr>& values,
                                            const std::vector<Expr>& candidates,
                                            const std::vector<Feed>& feeds = {}) {
  g.set_num_threads(0);
  g.backward(loss, feeds);
  std::vector<Expr> gradients;
  for (const Expr& e : candidates) {
    if (g.has_grad(e.id())) gradients.push_back(e);
  }
  ASSERT_FALSE(gradients.empty());
  g.set_keep_values(true);
  const std::vector<Tensor> serial = run_and_collect(g, loss, values, gradients, feeds);
  ASSERT_TRUE(std::isfinite(serial.front().item()));
  g.set_keep_values(false);
  for (const int threads : kThreadCounts) {
    g.set_num_threads(threads);
    for (int run = 0; run < kRunsPerThreadCount; ++run) {
      expect_bitwise_equal(serial, run_and_collect(g, loss, values, gradients, feeds),
                           std::to_string(threads) + " threads, run " + std::to_string(run));
    }
  }
}

TEST(ParallelDeterminism, RandomDagValuesAndGradientsAreBitwiseEqualToSerial) {
  double most_parallel = 0;
  for (const std::uint64_t seed : {1u, 2u, 3u}) {
    Graph g;
    const testing::RandomDag dag = testing::build_random_dag(g, seed, 120, 96);
    std::vector<Expr> values{dag.loss};
    values.insert(values.end(), dag.ops.begin(), dag.ops.end());
    most_parallel =
        std::max(most_parallel, GraphInternals::plan_for(g, values).tasks().parallelism());
    SCOPED_TRACE("seed " + std::to_string(seed));
    expect_same_bits_at_every_thread_count(g, dag.loss, values, dag.parameters);
  }
  // At least one graph runs its tasks concurrently rather than in order on the calling thread.
  EXPECT_GE(most_parallel, kMinTaskParallelism);
}

TEST(ParallelDeterminism, LargeKernelsSplitIntoChunksGiveSerialBits) {
  // Tensors far above kParallelWorkThreshold, so elementwise loops, reductions and the matmul
  // row blocks all run their chunks on several threads.
  Graph g;
  const testing::RandomDag dag = testing::build_random_dag(g, 7, 24, 320, 4);
  expect_same_bits_at_every_thread_count(g, dag.loss, {dag.loss, dag.ops.back()}, dag.parameters);
}

// Optimizer updates split their loops over the executor's threads (Graph::run_kernels): the
// parameters after a few steps of each optimizer, in float32 and float64, large enough that every
// loop is cut into chunks, equal the serial executor's bit for bit.
TEST(ParallelDeterminism, OptimizerStepsAreBitwiseEqualToSerial) {
  constexpr std::int64_t kSize = 300000;  // several chunks even for SGD's cheapest loop
  constexpr int kSteps = 3;
  auto train = [&](int threads, const std::string& optimizer, DType dtype) {
    Graph g;
    g.set_num_threads(threads);
    SplitMix64 random(23);
    Tensor initial(Shape{kSize}, dtype), slope(Shape{kSize}, dtype);
    for (std::int64_t i = 0; i < kSize; ++i) {
      initial.set(i, 2 * random.uniform() - 1);
      slope.set(i, 2 * random.uniform() - 1);
    }
    const Expr w = g.parameter("w", initial);
    const Expr c = g.constant(slope);
    const Expr loss = sum(w * w * c);  // a gradient that changes with w: 2 w c
    const std::unique_ptr<nn::Optimizer> step = nn::make_optimizer(
        optimizer, {w}, {.learning_rate = 0.01, .momentum = 0.9, .weight_decay = 0.001});
    for (int s = 0; s < kSteps; ++s) {
      g.backward(loss);
      step->step();
    }
    return std::vector<Tensor>{Tensor(w.value())};
  };
  for (const std::string optimizer : {"sgd", "adam", "adamw"}) {
    for (const DType dtype : {DType::f32, DType::f64}) {
      const std::vector<Tensor> serial = train(0, optimizer, dtype);
      for (const int threads : kThreadCounts) {
        expect_bitwise_equal(serial, train(threads, optimizer, dtype),
                             optimizer + " " + std::string(dtype_name(dtype)) + ", " +
                                 std::to_string(threads) + " threads");
      }
    }
  }
}

TEST(ParallelDeterminism, MlpTrainingStepsAreBitwiseEqualToSerial) {
  constexpr std::int64_t kBatch = 128, kIn = 96, kHidden = 256, kClasses = 10;
  constexpr int kSteps = 3;
  auto train = [&](int threads) {
    Graph g;
    g.set_num_threads(threads);
    SplitMix64 random(11);
    const Expr x = g.input("x", Shape{kBatch, kIn});
    const Expr labels = g.input("labels", Shape{kBatch});
    const Expr w1 = g.parameter("w1", testing::random_tensor(random, Shape{kIn, kHidden}, 0.1));
    const Expr b1 = g.parameter("b1", Tensor::zeros(Shape{kHidden}));
    const Expr w2 = g.parameter("w2", testing::random_tensor(random, Shape{kHidden, kHidden}, 0.1));
    const Expr b2 = g.parameter("b2", Tensor::zeros(Shape{kHidden}));
    const Expr w3 =
        g.parameter("w3", testing::random_tensor(random, Shape{kHidden, kClasses}, 0.1));
    const Expr h1 = relu(matmul(x, w1) + b1);
    const Expr h2 = relu(matmul(h1, w2) + b2);
    const Expr loss = cross_entropy(matmul(h2, w3), labels);
    const Tensor x_value = testing::random_tensor(random, Shape{kBatch, kIn}, 1.0);
    Tensor label_value(Shape{kBatch}, DType::f64);
    for (std::int64_t r = 0; r < kBatch; ++r)
      label_value.set(r, static_cast<double>(random.next() % kClasses));
    std::vector<Tensor> trace;  // loss of every step, then the final parameters
    for (int step = 0; step < kSteps; ++step) {
      g.backward(loss, {{x, x_value}, {labels, label_value}});
      trace.emplace_back(loss.value());
      for (Expr p : g.parameters()) {
        Tensor updated(p.value());
        const TensorView gradient = p.grad();
        for (std::int64_t i = 0; i < updated.numel(); ++i)
          updated.set(i, updated.at(i) - 0.1 * gradient.at(i));
        g.set_value(p, updated);
      }
    }
    for (Expr p : g.parameters()) trace.emplace_back(p.value());
    return trace;
  };
  const std::vector<Tensor> serial = train(0);
  for (const int threads : kThreadCounts) {
    for (int run = 0; run < kRunsPerThreadCount; ++run)
      expect_bitwise_equal(serial, train(threads), std::to_string(threads) + " threads");
  }
}

TEST(ParallelDeterminism, ScalarNeuronSoupIsBitwiseEqualToSerial) {
  // W1 of WORKLOADS.md in small: scalar neurons reading four random earlier nodes.
  constexpr std::size_t kInputs = 16;
  constexpr int kNeurons = 3000;
  Graph g;
  SplitMix64 random(101);
  std::vector<Expr> nodes;
  std::vector<Tensor> input_values;
  std::vector<Feed> feeds;
  std::vector<Expr> gradients;
  for (std::size_t j = 0; j < kInputs; ++j) {
    nodes.push_back(g.input("x" + std::to_string(j), Shape{}));
    g.set_requires_grad(nodes.back());
    gradients.push_back(nodes.back());
    input_values.push_back(Tensor::scalar(2 * random.uniform() - 1));
  }
  for (std::size_t j = 0; j < kInputs; ++j) feeds.push_back({nodes[j], input_values[j]});
  for (int i = 0; i < kNeurons; ++i) {
    Expr z = g.parameter(2 * random.uniform() - 1);  // unnamed: named after its node id
    gradients.push_back(z);
    for (int m = 0; m < 4; ++m) {
      const Expr w = g.parameter(2 * random.uniform() - 1);
      gradients.push_back(w);
      z = z + w * nodes[random.next() % nodes.size()];
    }
    nodes.push_back(i % 3 == 0 ? sigmoid(z) : i % 3 == 1 ? tanh(z) : relu(z));
  }
  Expr loss = nodes.back();
  for (std::size_t k = nodes.size() - 200; k + 1 < nodes.size(); ++k) loss = loss + nodes[k];
  expect_same_bits_at_every_thread_count(g, loss, {loss}, gradients, feeds);
}

// The tensor ops of issue 19 on tensors large enough that their kernels run in chunks on several
// threads: the scatter-adds (embedding with repeated indices, gather, max's gradient), the
// normalizations' statistics and dropout's mask give the serial bits.
TEST(ParallelDeterminism, TensorOpsValuesAndGradientsAreBitwiseEqualToSerial) {
  Graph g;
  SplitMix64 random(41);
  auto random_tensor = [&](Shape shape, double low, double high) {
    Tensor t(shape, DType::f32);
    for (std::int64_t i = 0; i < t.numel(); ++i) t.set(i, low + (high - low) * random.uniform());
    return t;
  };
  auto whole_numbers = [&](Shape shape, std::int64_t below) {
    Tensor t(shape, DType::f32);
    for (std::int64_t i = 0; i < t.numel(); ++i)
      t.set(i, static_cast<double>(random.next() % static_cast<std::uint64_t>(below)));
    return t;
  };
  const Expr x = g.parameter("x", random_tensor(Shape{32, 8, 32, 32}, -3, 3));
  const Expr gamma = g.parameter("gamma", random_tensor(Shape{8}, 0.5, 1.5));
  const Expr beta = g.parameter("beta", random_tensor(Shape{8}, -1, 1));
  const Expr normalized = batch_norm(x, batch_moments(x), gamma, beta);
  const Expr dropped = dropout(normalized, g.constant(3.0, DType::f32), 0.3, 17);
  const Expr rows = reshape(dropped, {-1, 64});
  const Expr ln = layer_norm(rows, g.parameter("ln_gamma", random_tensor(Shape{64}, 0.5, 1.5)),
                             g.parameter("ln_beta", random_tensor(Shape{64}, -1, 1)));
  const Expr joined = concat({ln, slice(ln, 1, 0, 64, 3)}, 1);
  const Expr peaks = max(maximum(joined, scale(joined, -0.5)), 1);
  const Expr table = g.parameter("table", random_tensor(Shape{500, 64}, -1, 1));
  const Expr looked_up = embedding(table, g.constant(whole_numbers(Shape{80, 128}, 500)));
  const Expr picked = gather(table, 0, g.constant(whole_numbers(Shape{9000, 64}, 500)));
  const Expr loss =
      sum(peaks) + sum(looked_up * looked_up) +
      sum(where(greater(picked, ln.graph().constant(0.0, DType::f32)), picked, scale(picked, 0.1)));
  expect_same_bits_at_every_thread_count(g, loss, {loss, peaks}, {x, gamma, beta, table});
}

}  // namespace
}  // namespace dagprop
