// The same API on tensors: relu(matmul(x, W) + b) on a batch, trained one step, with a gradient
// check.
#include <cstdio>

#include <dagprop/dagprop.hpp>

int main() {
  using namespace dagprop;
  Graph g;
  const Expr x = g.input("x", Shape{4, 3});  // a batch of 4 examples, 3 features
  const Expr W = g.parameter("W", Tensor::full(Shape{3, 2}, 0.1));
  const Expr b = g.parameter("b", Tensor::from({0.0, 0.5}, Shape{2}));  // broadcast over the batch
  const Expr h = relu(matmul(x, W) + b);
  const Expr loss = mean(h * h);

  const Tensor batch = Tensor::from({1, 2, 3, 4, 5, 6, 7, 8, 9, -1, -2, -3}, Shape{4, 3});
  g.backward(loss, {{x, batch}});
  std::printf("loss = %.4f\n", loss.item());
  std::printf("dL/db = [%.4f, %.4f]\n", b.grad().at(0), b.grad().at(1));

  const GradcheckResult check = gradcheck(loss, {W, b}, {{x, batch}});
  std::printf("gradcheck %s\n", check.ok ? "passed" : "FAILED");
}
