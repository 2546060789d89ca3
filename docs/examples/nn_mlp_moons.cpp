// An MLP built from a list of sizes and an activation name, trained by hand on two moons: one
// backward() and one optimizer step per batch. The optimizer updates parameters in place, so the
// plans compiled on the first step are replayed, never rebuilt.
#include <cstdio>

#include <dagprop/dagprop.hpp>

int main() {
  using namespace dagprop;
  const data::Dataset moons = data::make_moons({.samples = 512, .noise = 0.1, .seed = 3});

  Graph g;
  SplitMix64 random(1);
  const nn::Mlp mlp(g, {.sizes = {2, 16, 16, 2}, .activation = "gelu"}, random);
  constexpr std::int64_t kBatch = 64;
  const Expr x = g.input("x", Shape{kBatch, 2}, DType::f32);
  const Expr labels = g.input("labels", Shape{kBatch}, DType::f32);
  const Expr logits = mlp(x);
  const Expr loss = cross_entropy(logits, labels);

  nn::Adam adam(mlp.parameters(), {.learning_rate = 0.01});
  data::MiniBatches batches(moons, kBatch, /*seed=*/1);
  for (int epoch = 0; epoch < 20; ++epoch) {
    batches.start_epoch(epoch);
    double correct = 0, seen = 0, loss_sum = 0;
    while (batches.next()) {
      g.backward(loss, {{x, batches.features()}, {labels, batches.labels()}}, {.keep = {logits}});
      correct += static_cast<double>(nn::count_correct(logits.value(), batches.labels()));
      seen += kBatch;
      loss_sum += loss.item() * kBatch;
      adam.step();
    }
    if (epoch % 5 == 4) {
      std::printf("epoch %2d  loss %.2f  accuracy %.2f\n", epoch + 1, loss_sum / seen,
                  correct / seen);
    }
  }
}
