// libFuzzer target for the ONNX importer: any bytes must import or throw dagprop::Error, never
// crash, hang or allocate without bound. A model that imports is also run once on zeros (when
// small), which executes what the importer built.
#include <cstddef>
#include <cstdint>
#include <string_view>
#include <vector>

#include <dagprop/error.hpp>
#include <dagprop/onnx.hpp>

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  const std::string_view bytes(reinterpret_cast<const char*>(data), size);
  dagprop::OnnxImportOptions options;
  options.max_elements = std::int64_t{1} << 16;  // keeps each run's memory small
  options.max_nodes = 4096;
  try {
    dagprop::OnnxModel model = dagprop::read_onnx(bytes, options);
    std::vector<dagprop::Tensor> values;
    std::vector<dagprop::Feed> feeds;
    for (const dagprop::Expr& input : model.inputs)
      values.emplace_back(input.shape(), input.dtype());
    for (std::size_t k = 0; k < values.size(); ++k)
      feeds.push_back({model.inputs[k], values[k], {}});
    if (!model.outputs.empty() && model.graph->size() < 2048)
      (void)model.graph->run(model.outputs, feeds);
  } catch (const dagprop::Error&) {
    // A clear refusal is the expected outcome for most inputs.
  }
  return 0;
}
