// A failure inside a parallel task reaches the caller as the serial executor's error, and the graph
// runs normally afterwards.
#include <gtest/gtest.h>

#include <cmath>
#include <functional>
#include <limits>
#include <string>

#include <dagprop/dagprop.hpp>

namespace dagprop {
namespace {

constexpr int kThreadCounts[] = {1, 2, 8};

// The message of the Error that `run` throws ("" if it throws none).
std::string error_of(const std::function<void()>& run) {
  try {
    run();
  } catch (const Error& e) {
    return e.what();
  }
  return "";
}

Tensor filled(Shape shape, double value) {
  return Tensor::full(shape, value);
}

// Four independent classifier heads on one batch; their losses are summed. Large enough that the
// heads are separate tasks.
struct Classifiers {
  Graph g;
  Expr x, labels, loss;
  std::vector<Expr> head_losses;

  Classifiers() {
    x = g.input("x", Shape{64, 128});
    labels = g.input("labels", Shape{64});
    for (int h = 0; h < 4; ++h) {
      const auto scope = g.scope("head" + std::to_string(h));
      const Expr w = g.parameter("w", filled(Shape{128, 10}, 0.01 * (h + 1)));
      head_losses.push_back(g.set_name(cross_entropy(tanh(matmul(x, w)), labels), "loss"));
    }
    loss = head_losses[0] + head_losses[1] + head_losses[2] + head_losses[3];
  }
};

Tensor labels_with(std::int64_t bad_row, double bad_label) {
  Tensor labels(Shape{64}, DType::f64);
  for (std::int64_t r = 0; r < 64; ++r) labels.set(r, static_cast<double>(r % 10));
  if (bad_row >= 0) labels.set(bad_row, bad_label);
  return labels;
}

TEST(ParallelFailure, KernelErrorIsTheSerialErrorNamingTheNode) {
  Classifiers c;
  const Tensor x = filled(Shape{64, 128}, 0.5);
  const Tensor bad = labels_with(3, 12);
  auto backward = [&] { c.g.backward(c.loss, {{c.x, x}, {c.labels, bad}}); };
  c.g.set_num_threads(0);
  const std::string serial = error_of(backward);
  EXPECT_NE(serial.find("'head0/loss' (op cross_entropy"), std::string::npos) << serial;
  EXPECT_NE(serial.find("label 12.000000 in row 3 is not a class index in 0..9"), std::string::npos)
      << serial;
  for (const int threads : kThreadCounts) {
    c.g.set_num_threads(threads);
    for (int run = 0; run < 5; ++run)
      EXPECT_EQ(error_of(backward), serial) << threads << " threads";
  }
}

TEST(ParallelFailure, GraphRunsCorrectlyAfterAFailedParallelRun) {
  Classifiers c;
  const Tensor x = filled(Shape{64, 128}, 0.5);
  const Tensor good = labels_with(-1, 0);
  c.g.backward(c.loss, {{c.x, x}, {c.labels, good}});
  const Tensor serial_loss(c.loss.value());
  const Tensor serial_grad(c.g.find("head2/w").grad());
  for (const int threads : kThreadCounts) {
    c.g.set_num_threads(threads);
    EXPECT_NE(error_of([&] {
                c.g.backward(c.loss, {{c.x, x}, {c.labels, labels_with(63, -1)}});
              }),
              "");
    c.g.backward(c.loss, {{c.x, x}, {c.labels, good}});
    EXPECT_TRUE(bitwise_equal(c.loss.value(), serial_loss)) << threads << " threads";
    EXPECT_TRUE(bitwise_equal(c.g.find("head2/w").grad(), serial_grad)) << threads << " threads";
  }
}

TEST(ParallelFailure, AnomalyModeReportsTheSerialNodeWhenSeveralBranchesFail) {
  // Every branch produces a NaN; the serial executor stops at the first in plan order, and so must
  // the parallel one, whichever thread failed first.
  Graph g;
  const Expr x = g.input("x", Shape{256, 256});
  Expr total;
  for (int b = 0; b < 6; ++b) {
    const auto scope = g.scope("branch" + std::to_string(b));
    const Expr shifted = g.set_name(log(tanh(x) - 0.1 * b), "log");  // NaN where tanh(x) < 0.1 b
    total = b == 0 ? sum(shifted) : total + sum(shifted);
  }
  const Tensor x_value = filled(Shape{256, 256}, -0.5);
  g.set_anomaly_mode(true);
  g.set_num_threads(0);
  const std::string serial = error_of([&] { g.run(total, {{x, x_value}}); });
  const NodeId serial_node = g.anomaly_node();
  EXPECT_NE(serial.find("anomaly mode: 'branch0/log' (op log, shape [256, 256]) produced "),
            std::string::npos)
      << serial;
  for (const int threads : kThreadCounts) {
    g.set_num_threads(threads);
    for (int run = 0; run < 10; ++run) {
      EXPECT_EQ(error_of([&] { g.run(total, {{x, x_value}}); }), serial) << threads << " threads";
      EXPECT_EQ(g.anomaly_node(), serial_node);
    }
  }
}

TEST(ParallelFailure, AnomalyModeRunSucceedsOnceTheInputsAreFinite) {
  Graph g;
  const Expr x = g.input("x", Shape{4096});
  const Expr y = sum(log(x) + sqrt(x));
  g.set_anomaly_mode(true);
  g.set_num_threads(2);
  EXPECT_NE(error_of([&] {
              g.run(y, {{x, filled(Shape{4096}, -1.0)}});
            }).find("anomaly mode"),
            std::string::npos);
  EXPECT_NE(g.anomaly_node(), kNoNode);
  const double value = g.run(y, {{x, filled(Shape{4096}, 1.0)}}).item();
  EXPECT_EQ(value, 4096.0);
  EXPECT_EQ(g.anomaly_node(), kNoNode);
}

}  // namespace
}  // namespace dagprop
