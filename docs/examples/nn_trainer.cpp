// The Trainer: mini-batches, an optimizer, a schedule and an evaluation after every epoch, all
// seeded. This is what `dagprop train` runs; the same seed gives the same numbers.
#include <cstdio>

#include <dagprop/dagprop.hpp>

int main() {
  using namespace dagprop;
  const data::Dataset all = data::make_spirals({.samples = 1200, .noise = 0.05, .seed = 1});
  const auto [train, test] = data::split(all, 0.25, /*seed=*/1);

  nn::TrainOptions options;
  options.hidden = {64, 64};
  options.activation = "relu";
  options.optimizer = "adam";
  options.optimizer_settings.learning_rate = 0.01;
  options.schedule = "cosine";
  options.epochs = 40;
  options.batch_size = 32;
  nn::Trainer trainer(train, test, options);
  const nn::TrainHistory history = trainer.fit({.on_epoch = [](const nn::EpochRecord& e) {
    if (e.epoch % 10 == 0) {
      std::printf("epoch %2d  lr %.5f  train loss %.2f  test accuracy %.2f\n", e.epoch,
                  e.learning_rate, e.train_loss, e.test.accuracy);
    }
  }});
  std::printf("%zu parameter tensors, final test accuracy %.2f\n",
              trainer.parameters().size(), history.epochs.back().test.accuracy);
}
