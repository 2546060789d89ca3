// The seed text's neuron: a = relu(w1 x1 + w2 x2 + b), its value and every gradient.
#include <cstdio>

#include <dagprop/dagprop.hpp>

int main() {
  using namespace dagprop;
  Graph g;
  auto x1 = g.constant(0.5), x2 = g.constant(0.6);
  auto w1 = g.parameter("w1", 0.1), w2 = g.parameter("w2", 0.2), b = g.parameter("b", 0.3);
  auto a = relu(w1 * x1 + w2 * x2 + b);  // 0.47
  g.backward(a);                         // dw1 = 0.5, dw2 = 0.6, db = 1
  std::printf("a = %.2f, dw1 = %.2f, dw2 = %.2f, db = %.2f\n", a.item(), w1.grad().item(),
              w2.grad().item(), b.grad().item());
}
