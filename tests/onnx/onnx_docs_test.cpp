// docs/onnx.md's operator table is the importer's own table (onnx_ops_markdown()).
#include <gtest/gtest.h>

#include <fstream>
#include <sstream>

#include <dagprop/onnx.hpp>

namespace dagprop {
namespace {

TEST(OnnxDocs, DocsOnnxMdHoldsTheImportersOperatorTable) {
  std::ifstream file(DAGPROP_SOURCE_DIR "/docs/onnx.md");
  ASSERT_TRUE(file) << "docs/onnx.md is missing";
  std::stringstream content;
  content << file.rdbuf();
  const std::string text = content.str();
  const std::string begin = "<!-- onnx operators: begin (dagprop ops --onnx) -->\n";
  const std::string end = "<!-- onnx operators: end -->";
  const auto from = text.find(begin), to = text.find(end);
  ASSERT_NE(from, std::string::npos) << "docs/onnx.md has no line " << begin;
  ASSERT_NE(to, std::string::npos) << "docs/onnx.md has no line " << end;
  EXPECT_EQ(text.substr(from + begin.size(), to - from - begin.size()), onnx_ops_markdown())
      << "docs/onnx.md's table is out of date: replace it with the output of ./build/tools/dagprop "
         "ops --onnx";
}

TEST(OnnxDocs, EveryOperatorTheIssueNamesIsInTheTable) {
  for (const char* op : {"Gemm",
                         "MatMul",
                         "Add",
                         "Sub",
                         "Mul",
                         "Div",
                         "Neg",
                         "Pow",
                         "Sqrt",
                         "Exp",
                         "Log",
                         "Abs",
                         "Relu",
                         "LeakyRelu",
                         "Elu",
                         "Sigmoid",
                         "Tanh",
                         "Softplus",
                         "Softmax",
                         "LogSoftmax",
                         "Conv",
                         "MaxPool",
                         "AveragePool",
                         "GlobalAveragePool",
                         "BatchNormalization",
                         "Flatten",
                         "Reshape",
                         "Transpose",
                         "Concat",
                         "Constant",
                         "Identity",
                         "Dropout",
                         "ReduceMean",
                         "ReduceSum",
                         "Unsqueeze",
                         "Squeeze",
                         "Gather",
                         "Shape"}) {
    bool found = false;
    for (const OnnxOpSupport& s : onnx_supported_ops()) found = found || s.onnx_op == op;
    EXPECT_TRUE(found) << op;
  }
}

}  // namespace
}  // namespace dagprop
