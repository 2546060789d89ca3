// docs/onnx.md's worked example: a CNN that PyTorch exported (onnx_export_cnn.py), imported,
// differentiated and drawn with its gradients. Usage: example_onnx_cnn DIR (holding cnn.onnx and
// x.npy); writes DIR/cnn.svg.
#include <cmath>
#include <cstdio>
#include <string>

#include <dagprop/dagprop.hpp>
#include <dagprop/npy.hpp>
#include <dagprop/onnx.hpp>

int main(int argc, char** argv) {
  if (argc != 2) {
    std::fprintf(stderr, "usage: %s DIR\n", argv[0]);
    return 2;
  }
  const std::string dir = argv[1];
  dagprop::OnnxModel model = dagprop::load_onnx(dir + "/cnn.onnx");
  dagprop::Graph& g = *model.graph;
  const dagprop::Expr x = model.inputs[0], log_probs = model.outputs[0];
  const dagprop::Tensor batch = dagprop::load_npy(dir + "/x.npy");

  // The loss: the log-probability of class 0 of every image, as a sum.
  const dagprop::Expr loss = dagprop::sum(dagprop::slice(log_probs, 1, 0, 1));
  g.set_requires_grad(x);
  g.set_keep_values(true);
  g.backward(loss, {{x, batch}});
  std::printf("%s, %zu parameters\n", model.producer.c_str(), g.parameters().size());
  for (const dagprop::Expr& p : g.parameters()) {
    double norm = 0;
    for (const double v : p.grad().to_vector()) norm += v * v;
    std::printf("  %-10s %-14s |grad| %.3g\n", p.name().c_str(), p.shape().to_string().c_str(),
                std::sqrt(norm));
  }
  dagprop::render(g, dir + "/cnn.svg");
  std::printf("drew %s/cnn.svg\n", dir.c_str());
  // And back to ONNX: the imported model, as dagprop writes it.
  dagprop::save_onnx(g, {log_probs}, dir + "/cnn_dagprop.onnx", {.output_names = {"log_probs"}});
  dagprop::OnnxModel again = dagprop::load_onnx(dir + "/cnn_dagprop.onnx");
  const dagprop::Tensor a = g.run(log_probs, {{x, batch}});
  const dagprop::Tensor b = again.graph->run(again.outputs[0], {{again.inputs[0], batch}});
  std::printf("re-imported: %s\n",
              dagprop::bitwise_equal(a, b) ? "the same bits" : "DIFFERENT values");
}
