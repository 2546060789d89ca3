// docs/visualization.md, the convolutional picture: a small CNN on two 8x8 images (a horizontal
// and a vertical bar), its feature maps and kernels drawn as heatmaps inside their boxes with
// their gradients below. The kernels are set by hand (two bar detectors, two edge detectors), so
// each feature map shows what its kernel finds.
// Usage: example_visualize_cnn OUTPUT_DIR (writes cnn_heatmaps.svg and cnn_heatmaps.dot)
#include <string>
#include <vector>

#include <dagprop/dagprop.hpp>
#include <dagprop/dot.hpp>
#include <dagprop/snapshot.hpp>

int main(int argc, char** argv) {
  using namespace dagprop;
  const std::string out = argc > 1 ? argv[1] : ".";
  constexpr std::int64_t kSide = 8;
  Graph g;
  const Expr x = g.input("images", Shape{2, 1, kSide, kSide}, DType::f32);
  const Expr labels = g.input("labels", Shape{2}, DType::f32);
  Expr h;
  {
    auto layer = g.scope("conv");
    // [out 4, in 1, 3, 3]: horizontal bar, vertical bar, a left edge, a top edge.
    const Tensor kernels = Tensor::from(
        std::vector<float>{-0.5F, -0.5F, -0.5F, 1,     1, 1,     -0.5F, -0.5F, -0.5F,  //
                           -0.5F, 1,     -0.5F, -0.5F, 1, -0.5F, -0.5F, 1,     -0.5F,  //
                           -1,    0,     1,     -1,    0, 1,     -1,    0,     1,      //
                           -1,    -1,    -1,    0,     0, 0,     1,     1,     1},
        Shape{4, 1, 3, 3});
    const Tensor bias = Tensor::from(std::vector<float>{0, 0, 0, 0}, Shape{4});
    h = relu(conv2d(x, g.parameter("W", kernels), g.parameter("b", bias), {.padding = {1, 1}}));
  }
  {
    auto layer = g.scope("pool");
    h = flatten(max_pool2d(h, {.kernel = {2, 2}}));
  }
  Expr loss;
  {
    auto layer = g.scope("classifier");
    SplitMix64 random(5);
    Tensor weights(Shape{4 * 4 * 4, 2}, DType::f32);
    for (std::int64_t i = 0; i < weights.numel(); ++i) weights.set(i, 0.2 * random.uniform() - 0.1);
    const Expr logits = matmul(h, g.parameter("W", weights));
    loss = g.set_name(cross_entropy(logits, labels), "cross_entropy");
  }

  Tensor images(Shape{2, 1, kSide, kSide}, DType::f32);
  for (std::int64_t i = 0; i < kSide; ++i) {
    images.set(2 * kSide + i, 1.0);                  // image 0: a bar along row 2
    images.set(kSide * kSide + i * kSide + 5, 1.0);  // image 1: a bar down column 5
  }
  const Tensor label_values = Tensor::from(std::vector<float>{0, 1}, Shape{2});

  const Snapshot snapshot = trace_gradients(loss, {{x, images}, {labels, label_values}});
  DotOptions options;
  options.snapshot = &snapshot;
  options.heatmaps = 4;
  options.title = "A CNN's feature maps and kernels, their gradients below";
  render(g, out + "/cnn_heatmaps.svg", options);
  render(g, out + "/cnn_heatmaps.dot", options);
}
