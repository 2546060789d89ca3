// Convolutional training steps (conv2d, max and average pooling, their gradients and the weight
// gradient's runs of images) give the serial executor's bits at 1, 2 and 8 threads.
#include <gtest/gtest.h>

#include <string>
#include <vector>

#include <dagprop/dagprop.hpp>

namespace dagprop {
namespace {

constexpr int kThreadCounts[] = {1, 2, 8};

Tensor random_f32(SplitMix64& random, Shape shape, double scale) {
  Tensor t(shape, DType::f32);
  float* data = t.data<float>();
  for (std::int64_t i = 0; i < t.numel(); ++i)
    data[i] = static_cast<float>((2 * random.uniform() - 1) * scale);
  return t;
}

// W6's network at a smaller width: large enough that every convolution splits into tasks and the
// second layer's weight gradient into several runs of images.
std::vector<Tensor> train_small_cnn(int threads) {
  constexpr std::int64_t kBatch = 32;
  Graph g;
  g.set_num_threads(threads);
  SplitMix64 random(21);
  const Expr x = g.input("x", Shape{kBatch, 1, 28, 28}, DType::f32);
  const Expr labels = g.input("labels", Shape{kBatch}, DType::f32);
  const Expr w1 = g.parameter("w1", random_f32(random, Shape{8, 1, 5, 5}, 0.2));
  const Expr b1 = g.parameter("b1", random_f32(random, Shape{8}, 0.2));
  const Expr w2 = g.parameter("w2", random_f32(random, Shape{16, 8, 5, 5}, 0.07));
  const Expr b2 = g.parameter("b2", random_f32(random, Shape{16}, 0.07));
  const Expr w3 = g.parameter("w3", random_f32(random, Shape{10, 16 * 7 * 7}, 0.03));
  const Expr h1 = max_pool2d(relu(conv2d(x, w1, b1, {.padding = {2, 2}})));
  const Expr h2 = avg_pool2d(relu(conv2d(h1, w2, b2, {.padding = {2, 2}})),
                             {.kernel = {3, 3}, .stride = {2, 2}, .padding = {1, 1}});
  const Expr loss = cross_entropy(matmul(flatten(h2), w3, {.b = true}), labels);
  const Tensor x_value = random_f32(random, Shape{kBatch, 1, 28, 28}, 1.0);
  Tensor label_value(Shape{kBatch}, DType::f32);
  for (std::int64_t r = 0; r < kBatch; ++r)
    label_value.set(r, static_cast<double>(random.next() % 10));
  std::vector<Tensor> trace;  // the loss of every step, then the final parameters
  for (int step = 0; step < 3; ++step) {
    g.backward(loss, {{x, x_value}, {labels, label_value}});
    trace.emplace_back(loss.value());
    for (Expr p : g.parameters()) {
      Tensor updated(p.value());
      const TensorView gradient = p.grad();
      for (std::int64_t i = 0; i < updated.numel(); ++i)
        updated.set(i, updated.at(i) - 0.05 * gradient.at(i));
      g.set_value(p, updated);
    }
  }
  for (Expr p : g.parameters()) trace.emplace_back(p.value());
  return trace;
}

TEST(ConvDeterminism, CnnTrainingStepsAreBitwiseEqualToSerial) {
  const std::vector<Tensor> serial = train_small_cnn(0);
  for (const int threads : kThreadCounts) {
    for (int run = 0; run < 2; ++run) {
      const std::vector<Tensor> parallel = train_small_cnn(threads);
      ASSERT_EQ(serial.size(), parallel.size());
      for (std::size_t i = 0; i < serial.size(); ++i) {
        EXPECT_TRUE(bitwise_equal(serial[i], parallel[i]))
            << threads << " threads, run " << run << ": result " << i << " differs";
      }
    }
  }
}

}  // namespace
}  // namespace dagprop
