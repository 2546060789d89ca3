// A tiny CNN trained by hand on synthetic 8x8 images: a horizontal bar (class 0) or a vertical bar
// (class 1) at a random place, in noise. Conv2d, MaxPool2d and Flatten layers, then a Linear
// layer; one backward() and one Adam step per batch, as for an MLP.
#include <cstdio>
#include <vector>

#include <dagprop/dagprop.hpp>

int main() {
  using namespace dagprop;
  constexpr std::int64_t kImages = 256, kBatch = 32, kSide = 8;
  // The data: images [256, 1, 8, 8] and labels [256], from one seeded generator.
  SplitMix64 random(7);
  std::vector<float> images(kImages * kSide * kSide), labels(kImages);
  for (std::int64_t n = 0; n < kImages; ++n) {
    const bool vertical = n % 2 == 1;
    const auto bar = static_cast<std::int64_t>(random.next() % kSide);
    labels[n] = vertical ? 1.0F : 0.0F;
    for (std::int64_t i = 0; i < kSide; ++i) {
      for (std::int64_t j = 0; j < kSide; ++j) {
        const bool on = vertical ? j == bar : i == bar;
        const double noise = 0.6 * (random.uniform() - 0.5);
        images[(n * kSide + i) * kSide + j] = static_cast<float>((on ? 1.0 : 0.0) + noise);
      }
    }
  }

  Graph g;
  const nn::Conv2d conv(g, "conv", 1, 4, {3, 3}, random, {.padding = {1, 1}});
  const nn::MaxPool2d pool({.kernel = {2, 2}});
  const nn::Flatten flatten;
  const nn::Linear classifier(g, "classifier", 4 * 4 * 4, 2, nn::Init::glorot_uniform, random);
  const Expr x = g.input("x", Shape{kBatch, 1, kSide, kSide}, DType::f32);
  const Expr y = g.input("labels", Shape{kBatch}, DType::f32);
  const Expr logits = classifier(flatten(pool(relu(conv(x)))));
  const Expr loss = cross_entropy(logits, y);

  nn::Adam adam({conv.weight(), conv.bias(), classifier.weight(), classifier.bias()},
                {.learning_rate = 0.02});
  for (int epoch = 0; epoch < 4; ++epoch) {
    double correct = 0, loss_sum = 0;
    for (std::int64_t first = 0; first < kImages; first += kBatch) {
      const TensorView batch(images.data() + first * kSide * kSide, x.shape(), DType::f32);
      const TensorView batch_labels(labels.data() + first, y.shape(), DType::f32);
      g.backward(loss, {{x, batch}, {y, batch_labels}}, {.keep = {logits}});
      correct += static_cast<double>(nn::count_correct(logits.value(), batch_labels));
      loss_sum += loss.item() * kBatch;
      adam.step();
    }
    std::printf("epoch %d  loss %.2f  accuracy %.2f\n", epoch + 1, loss_sum / kImages,
                correct / kImages);
  }
}
