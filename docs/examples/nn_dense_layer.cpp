// A Dense layer is the seed's neuron on a batch: relu(matmul(x, W) + b). Here with the seed's
// weights (w1 = 0.1, w2 = 0.2, b = 0.3) on two examples, then the gradients backward() stores.
#include <cstdio>

#include <dagprop/dagprop.hpp>

int main() {
  using namespace dagprop;
  Graph g;
  SplitMix64 random(1);
  const nn::Dense neuron(g, "neuron", 2, 1, nn::activation_by_name("relu"), random, DType::f64);
  g.set_value(neuron.linear().weight(), Tensor::from(std::vector<double>{0.1, 0.2}, Shape{2, 1}));
  g.set_value(neuron.linear().bias(), Tensor::from(std::vector<double>{0.3}, Shape{1}));

  const Expr x = g.input("x", Shape{2, 2});  // a batch of two examples
  const Expr a = neuron(x);
  const Tensor batch = Tensor::from(std::vector<double>{0.5, 0.6, 1.0, -2.0}, Shape{2, 2});
  g.backward(sum(a), {{x, batch}}, {.keep = {a}});  // a stays readable

  std::printf("activations: %.2f %.2f\n", a.value().at(0), a.value().at(1));
  const TensorView dw = neuron.linear().weight().grad();
  std::printf("dW = [%.2f, %.2f], db = %.2f\n", dw.at(0), dw.at(1),
              neuron.linear().bias().grad().at(0));
  std::printf("parameters: %s %s\n", neuron.linear().weight().name().c_str(),
              neuron.linear().bias().name().c_str());
}
