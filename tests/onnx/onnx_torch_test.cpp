// Models that PyTorch exported (tests/onnx/make_torch_models.py, run by CTest just before):
// dagprop's import computes PyTorch's output and PyTorch's gradients of sum(output * seed) with
// respect to every parameter and every float input, in float32 and float64.
#include <gtest/gtest.h>

#include <cmath>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include <dagprop/dagprop.hpp>
#include <dagprop/npy.hpp>
#include <dagprop/onnx.hpp>

namespace dagprop {
namespace {

namespace fs = std::filesystem;

// |a - b| <= atol + rtol |b| everywhere; the message names the worst element.
::testing::AssertionResult all_close(const TensorView& got, const TensorView& want, double rtol,
                                     double atol) {
  if (!(got.shape() == want.shape())) {
    return ::testing::AssertionFailure()
           << "shape " << got.shape().to_string() << ", PyTorch's " << want.shape().to_string();
  }
  double worst = 0;
  std::int64_t at = -1;
  for (std::int64_t i = 0; i < got.numel(); ++i) {
    const double excess = std::abs(got.at(i) - want.at(i)) - (atol + rtol * std::abs(want.at(i)));
    if (!(excess <= worst)) worst = std::isnan(excess) ? INFINITY : excess, at = i;
  }
  if (at < 0) return ::testing::AssertionSuccess();
  return ::testing::AssertionFailure()
         << "element " << at << ": dagprop " << got.at(at) << ", PyTorch " << want.at(at);
}

const fs::path kModels = DAGPROP_ONNX_TORCH_MODELS;

std::vector<std::string> exported_models() {
  std::ifstream list(kModels / "models.txt");
  std::vector<std::string> names;
  for (std::string line; std::getline(list, line);) {
    if (!line.empty()) names.push_back(line);
  }
  return names;
}

TEST(OnnxTorch, ImportedModelsMatchPyTorchsValuesAndGradients) {
  const auto models = exported_models();
  if (models.empty()) {
    GTEST_SKIP() << "no PyTorch models in " << kModels
                 << ": onnx.export_torch_models did not run or skipped (python3-torch missing?)";
  }
  EXPECT_GE(models.size(), 20u);
  for (const std::string& name : models) {
    SCOPED_TRACE(name);
    const fs::path dir = kModels / name;
    std::ifstream manifest_file(dir / "manifest.json");
    const auto manifest = nlohmann::json::parse(manifest_file);
    const bool f32 = manifest["dtype"] == "f32";
    const double rtol = f32 ? 2e-4 : 1e-10, atol = f32 ? 2e-5 : 1e-12;
    const DType dtype = f32 ? DType::f32 : DType::f64;

    const OnnxModel model = load_onnx((dir / "model.onnx").string());
    Graph& g = *model.graph;
    ASSERT_EQ(model.outputs.size(), 1u);
    EXPECT_EQ(model.outputs[0].dtype(), dtype);
    std::vector<Tensor> values;
    std::vector<Feed> feeds;
    for (const Expr& input : model.inputs) {
      values.push_back(load_npy(
          (dir / manifest["inputs"][input.name()].get<std::string>()).string(), dtype, dtype));
      if (manifest["gradients"].contains(input.name())) g.set_requires_grad(input);
    }
    for (std::size_t i = 0; i < values.size(); ++i) feeds.push_back({model.inputs[i], values[i]});

    const Tensor want = load_npy((dir / manifest["output"].get<std::string>()).string());
    EXPECT_TRUE(all_close(g.run(model.outputs[0], feeds), want, rtol, atol)) << "output";

    const Tensor seed = load_npy((dir / manifest["seed"].get<std::string>()).string(), dtype);
    g.backward(model.outputs[0], seed, feeds);
    for (const auto& [param, file] : manifest["gradients"].items()) {
      const Tensor want_grad = load_npy((dir / file.get<std::string>()).string());
      EXPECT_TRUE(all_close(g.find(param).grad(), want_grad, rtol, atol))
          << "gradient of " << param;
    }
    // Every trainable tensor of PyTorch's is a parameter here, and no other initializer is.
    std::size_t torch_parameters = 0;
    for (const auto& [param, file] : manifest["gradients"].items()) {
      if (!manifest["inputs"].contains(param)) ++torch_parameters;
    }
    EXPECT_EQ(g.parameters().size(), torch_parameters);
  }
}

// gradcheck works on imported models: every float64 model's gradients with respect to its
// parameters and float inputs agree with central differences.
TEST(OnnxTorch, ImportedFloat64ModelsPassGradcheck) {
  int checked = 0;
  for (const std::string& name : exported_models()) {
    if (!name.ends_with("_f64")) continue;
    SCOPED_TRACE(name);
    const fs::path dir = kModels / name;
    const OnnxModel model = load_onnx((dir / "model.onnx").string());
    std::vector<Tensor> values;
    std::vector<Feed> feeds;
    std::vector<Expr> wrt = model.graph->parameters();
    for (std::size_t k = 0; k < model.inputs.size(); ++k) {
      values.push_back(load_npy((dir / ("input." + model.inputs[k].name() + ".npy")).string(),
                                DType::f64, DType::f64));
      if (!model.index_inputs[k]) wrt.push_back(model.inputs[k]);
    }
    for (std::size_t k = 0; k < values.size(); ++k) feeds.push_back({model.inputs[k], values[k]});
    const GradcheckResult result = gradcheck(model.outputs[0], wrt, feeds);
    EXPECT_TRUE(result.ok) << result.report();
    EXPECT_GE(result.elements_checked, 30) << result.report();
    ++checked;
  }
  if (checked == 0) GTEST_SKIP() << "no PyTorch models in " << kModels;
}

// An imported model trains like one built in dagprop: a loss on top of its output, backward, and
// dagprop's optimizer updating the imported parameters in place.
TEST(OnnxTorch, AnImportedModelFineTunesWithDagpropsOptimizer) {
  const fs::path dir = kModels / "mlp_tanh_f64";
  if (!fs::exists(dir / "model.onnx")) GTEST_SKIP() << "no PyTorch models in " << kModels;
  const OnnxModel model = load_onnx((dir / "model.onnx").string());
  Graph& g = *model.graph;
  const Tensor x = load_npy((dir / "input.x.npy").string());
  const std::int64_t batch = x.shape()[0];
  const Expr labels = g.labels("labels", batch, 3, DType::f64);
  const Expr loss = cross_entropy(model.outputs[0], labels);
  const std::vector<std::int64_t> classes = {0, 1, 2, 1};
  nn::Sgd sgd(g.parameters(), {.learning_rate = 0.5});
  std::vector<double> losses;
  for (int step = 0; step < 30; ++step) {
    g.backward(loss, {{model.inputs[0], x}, Feed::classes(labels, classes)});
    losses.push_back(loss.item());
    sgd.step();
  }
  EXPECT_LT(losses.back(), 0.5 * losses.front())
      << "from " << losses.front() << " to " << losses.back();
}

}  // namespace
}  // namespace dagprop
