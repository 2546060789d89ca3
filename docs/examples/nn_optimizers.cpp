// One step of each optimizer on w = 1 under the loss w^2 (gradient 2), and the learning-rate
// schedules. Optimizers read p.grad() and write p.value() in place.
#include <cstdio>

#include <dagprop/dagprop.hpp>

namespace {

template <class MakeOptimizer>
void one_step(const char* name, MakeOptimizer make) {
  dagprop::Graph g;
  const dagprop::Expr w = g.parameter("w", 1.0);
  auto optimizer = make(w);
  g.backward(w * w);
  optimizer.step();
  std::printf("%-32s w = %.6f\n", name, w.item());
}

}  // namespace

int main() {
  using namespace dagprop::nn;
  one_step("sgd lr 0.1", [](auto w) { return Sgd({w}, {.learning_rate = 0.1}); });
  one_step("sgd lr 0.1, weight decay 0.5",
           [](auto w) { return Sgd({w}, {.learning_rate = 0.1, .weight_decay = 0.5}); });
  // Adam's first step moves each weight by about the learning rate, whatever the gradient's size.
  one_step("adam lr 0.1", [](auto w) { return Adam({w}, {.learning_rate = 0.1}); });
  one_step("adamw lr 0.1, weight decay 0.5",
           [](auto w) { return AdamW({w}, {.learning_rate = 0.1, .weight_decay = 0.5}); });

  const LrSchedule step = LrSchedule::step(0.1, 2, 0.5);
  const LrSchedule cosine = LrSchedule::cosine(0.1, 4);
  for (int epoch = 0; epoch < 4; ++epoch) {
    std::printf("epoch %d  step schedule %.4f  cosine schedule %.4f\n", epoch, step.at(epoch),
                cosine.at(epoch));
  }
}
