// The importer's refusals: unsupported operators, attributes and opsets are named with the node,
// and broken or hostile files (truncated, corrupt, huge dims, cycles, missing initializers,
// external data, data that disagrees with its dims) are rejected with a message, quickly.
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <chrono>
#include <filesystem>
#include <fstream>
#include <random>
#include <sstream>

#include <dagprop/dagprop.hpp>
#include <dagprop/onnx.hpp>

#include "onnx_model_builder.hpp"

namespace dagprop {
namespace {

using ::testing::AllOf;
using ::testing::HasSubstr;
using testing::OnnxModelBuilder;

std::string import_error(const std::string& bytes, const OnnxImportOptions& options = {}) {
  try {
    read_onnx(bytes, options);
  } catch (const Error& e) {
    return e.what();
  }
  return "(imported without an error)";
}

// y = relu(x W + b): the valid model the broken ones start from.
OnnxModelBuilder linear_relu() {
  OnnxModelBuilder b;
  b.input("x", {2, 3});
  b.initializer("fc.weight", {4, 3}, std::vector<float>(12, 0.5f));
  b.initializer("fc.bias", {4}, {0.1f, 0.2f, 0.3f, 0.4f});
  auto& gemm = b.node("Gemm", {"x", "fc.weight", "fc.bias"}, {"h"}, "/fc/Gemm");
  OnnxModelBuilder::int_attribute(gemm, "transB", 1);
  b.node("Relu", {"h"}, {"y"}, "/Relu");
  b.output("y");
  return b;
}

TEST(OnnxImport, AValidModelImportsWithItsNamesAndComputes) {
  const OnnxModel m = read_onnx(linear_relu().bytes());
  ASSERT_EQ(m.inputs.size(), 1u);
  EXPECT_EQ(m.inputs[0].name(), "x");
  EXPECT_EQ(m.opset, 17);
  Graph& g = *m.graph;
  EXPECT_TRUE(g.is_parameter(g.find("fc.weight").id()));
  const Tensor x = Tensor::from(std::vector<float>{1, 2, 3, -1, -2, -3}, Shape{2, 3});
  const Tensor y = g.run(m.outputs[0], {{m.inputs[0], x}});
  EXPECT_FLOAT_EQ(y.at(0), 3.1f);  // 0.5 * 6 + 0.1
  EXPECT_FLOAT_EQ(y.at(4), 0.0f);  // relu(-3 + 0.1)
}

TEST(OnnxImport, UnsupportedOperatorNamesTheNodeTheOpsetAndTheSupportedList) {
  auto b = linear_relu();
  b.model().mutable_graph()->mutable_node(1)->set_op_type("Hardmax");
  EXPECT_THAT(import_error(b.bytes()),
              AllOf(HasSubstr("ONNX node '/Relu' (Hardmax, opset 17)"), HasSubstr("not supported"),
                    HasSubstr("Gemm, GlobalAveragePool"), HasSubstr("Relu")));
}

TEST(OnnxImport, UnknownAttributeIsNamedWithTheOnesThatAreRead) {
  auto b = linear_relu();
  OnnxModelBuilder::int_attribute(*b.model().mutable_graph()->mutable_node(0), "broadcast", 1);
  EXPECT_THAT(import_error(b.bytes()),
              AllOf(HasSubstr("'/fc/Gemm' (Gemm, opset 17)"), HasSubstr("attribute 'broadcast'"),
                    HasSubstr("alpha,beta,transA,transB")));
}

TEST(OnnxImport, UnsupportedAttributeValueIsNamed) {
  OnnxModelBuilder b;
  b.input("x", {1, 1, 4, 4});
  auto& pool = b.node("MaxPool", {"x"}, {"y"}, "pool");
  OnnxModelBuilder::ints_attribute(pool, "kernel_shape", {2, 2});
  OnnxModelBuilder::int_attribute(pool, "ceil_mode", 1);
  b.output("y");
  EXPECT_THAT(import_error(b.bytes()), AllOf(HasSubstr("'pool' (MaxPool, opset 17)"),
                                             HasSubstr("ceil_mode = 1 is not supported")));
}

TEST(OnnxImport, UnsupportedOpsetIsRefusedWithTheRange) {
  OnnxModelBuilder b(11);
  b.input("x", {2});
  b.node("Relu", {"x"}, {"y"});
  b.output("y");
  EXPECT_THAT(import_error(b.bytes()),
              AllOf(HasSubstr("opset 11"), HasSubstr("13 to 17"), HasSubstr("opset_version=17")));
}

TEST(OnnxImport, AnOperatorNewerThanTheModelsOpsetIsRefused) {
  OnnxModelBuilder b(16);
  b.input("x", {2, 3});
  b.initializer("g", {3}, {1, 1, 1});
  b.node("LayerNormalization", {"x", "g"}, {"y"}, "ln");
  b.output("y");
  EXPECT_THAT(import_error(b.bytes()), AllOf(HasSubstr("'ln' (LayerNormalization, opset 16)"),
                                             HasSubstr("opsets 17 to 17")));
}

TEST(OnnxImport, ErfOutsideTheGeluPatternIsExplained) {
  OnnxModelBuilder b;
  b.input("x", {2});
  b.node("Erf", {"x"}, {"y"}, "erf");
  b.output("y");
  EXPECT_THAT(import_error(b.bytes()),
              AllOf(HasSubstr("'erf' (Erf, opset 17)"), HasSubstr("GELU")));
}

TEST(OnnxImport, MissingInitializerNamesTheNodeAndTheName) {
  auto b = linear_relu();
  b.model().mutable_graph()->mutable_initializer()->RemoveLast();
  EXPECT_THAT(import_error(b.bytes()),
              AllOf(HasSubstr("'/fc/Gemm'"), HasSubstr("'fc.bias' is defined by no earlier node"),
                    HasSubstr("missing initializer")));
}

TEST(OnnxImport, CycleIsRefused) {
  OnnxModelBuilder b;
  b.input("x", {2});
  b.node("Add", {"x", "b"}, {"a"}, "first");
  b.node("Relu", {"a"}, {"b"}, "second");
  b.output("b");
  EXPECT_THAT(import_error(b.bytes()),
              AllOf(HasSubstr("'first' (Add"), HasSubstr("'b' is defined by no earlier node"),
                    HasSubstr("cycle")));
}

TEST(OnnxImport, ANameDefinedTwiceIsRefused) {
  auto b = linear_relu();
  b.node("Relu", {"h"}, {"y"}, "again");
  EXPECT_THAT(import_error(b.bytes()), AllOf(HasSubstr("'again'"), HasSubstr("already defined")));
}

TEST(OnnxImport, HugeDimensionsAreRefusedBeforeAllocating) {
  auto b = linear_relu();
  auto* w = b.model().mutable_graph()->mutable_initializer(0);
  w->clear_dims();
  w->add_dims(std::int64_t{1} << 40);
  w->add_dims(std::int64_t{1} << 40);
  const auto start = std::chrono::steady_clock::now();
  EXPECT_THAT(import_error(b.bytes()),
              AllOf(HasSubstr("initializer 'fc.weight'"), HasSubstr("more than")));
  EXPECT_LT(std::chrono::steady_clock::now() - start, std::chrono::seconds(1));
}

TEST(OnnxImport, HugeInputShapeIsRefused) {
  OnnxModelBuilder b;
  b.input("x", {std::int64_t{1} << 31, std::int64_t{1} << 31});
  b.node("Relu", {"x"}, {"y"});
  b.output("y");
  EXPECT_THAT(import_error(b.bytes()), AllOf(HasSubstr("graph input 'x'"), HasSubstr("more than")));
}

TEST(OnnxImport, RawDataOfTheWrongSizeIsRefused) {
  auto b = linear_relu();
  auto* w = b.model().mutable_graph()->mutable_initializer(0);
  w->clear_float_data();
  w->set_raw_data(std::string(8, '\0'));
  EXPECT_THAT(import_error(b.bytes()),
              AllOf(HasSubstr("initializer 'fc.weight'"), HasSubstr("8 bytes of raw_data"),
                    HasSubstr("12 elements")));
}

TEST(OnnxImport, TooFewFloatsForTheDimsAreRefused) {
  auto b = linear_relu();
  b.model().mutable_graph()->mutable_initializer(1)->mutable_float_data()->RemoveLast();
  EXPECT_THAT(import_error(b.bytes()), AllOf(HasSubstr("'fc.bias'"), HasSubstr("3 float_data")));
}

TEST(OnnxImport, ExternalDataIsRefusedWithTheFix) {
  auto b = linear_relu();
  auto* w = b.model().mutable_graph()->mutable_initializer(0);
  w->clear_float_data();
  w->set_data_location(onnx::TensorProto::EXTERNAL);
  auto* entry = w->add_external_data();
  entry->set_key("location");
  entry->set_value("/etc/passwd");
  EXPECT_THAT(import_error(b.bytes()), AllOf(HasSubstr("'fc.weight'"), HasSubstr("external file"),
                                             HasSubstr("save_as_external_data=False")));
}

TEST(OnnxImport, SymbolicDimensionNeedsAValue) {
  OnnxModelBuilder b;
  auto& in = b.input("x", {3});
  in.mutable_type()->mutable_tensor_type()->mutable_shape()->mutable_dim(0)->set_dim_param("batch");
  b.node("Relu", {"x"}, {"y"});
  b.output("y");
  EXPECT_THAT(import_error(b.bytes()),
              AllOf(HasSubstr("symbolic dimension 'batch'"), HasSubstr("dim_values")));
  OnnxImportOptions options;
  options.dim_values["batch"] = 5;
  EXPECT_EQ(read_onnx(b.bytes(), options).inputs[0].shape(), Shape{5});
}

TEST(OnnxImport, ShapesThatDoNotAgreeNameTheNode) {
  auto b = linear_relu();
  b.model().mutable_graph()->mutable_node(0)->mutable_attribute()->Clear();  // no transB
  EXPECT_THAT(import_error(b.bytes()), HasSubstr("ONNX node '/fc/Gemm' (Gemm, opset 17): "));
}

TEST(OnnxImport, NotAModelIsRefused) {
  EXPECT_THAT(import_error("this is not protobuf \xff\xff\xff"), HasSubstr("not an ONNX model"));
  EXPECT_THAT(import_error(""), HasSubstr("the ONNX model has no graph"));
}

TEST(OnnxImport, FileOverTheSizeLimitIsRefusedBeforeParsing) {
  OnnxImportOptions options;
  options.max_file_bytes = 10;
  EXPECT_THAT(import_error(linear_relu().bytes(), options), HasSubstr("max_file_bytes"));
}

TEST(OnnxImport, OutputsDagpropDoesNotComputeAreNamedWhereTheyAreRead) {
  OnnxModelBuilder b;
  b.input("x", {2, 3});
  b.node("Dropout", {"x"}, {"y", "mask"}, "drop");
  b.node("Mul", {"y", "mask"}, {"z"}, "use_mask");
  b.output("z");
  EXPECT_THAT(import_error(b.bytes()),
              AllOf(HasSubstr("'use_mask' (Mul"), HasSubstr("'mask' is Dropout's mask")));
}

TEST(OnnxImport, DropoutInTrainingModeIsRefused) {
  OnnxModelBuilder b;
  b.input("x", {2, 3});
  auto* t = b.model().mutable_graph()->add_initializer();
  t->set_name("training");
  t->set_data_type(onnx::TensorProto::BOOL);
  t->add_int32_data(1);
  b.node("Dropout", {"x", "", "training"}, {"y"}, "drop");
  b.output("y");
  EXPECT_THAT(import_error(b.bytes()),
              AllOf(HasSubstr("'drop' (Dropout"), HasSubstr("inference form")));
}

TEST(OnnxImport, ReshapeToAShapeOfOtherSizeNamesBothShapes) {
  OnnxModelBuilder b;
  b.input("x", {2, 3});
  auto* t = b.model().mutable_graph()->add_initializer();
  t->set_name("shape");
  t->set_data_type(onnx::TensorProto::INT64);
  t->add_dims(2);
  t->add_int64_data(4);
  t->add_int64_data(2);
  b.node("Reshape", {"x", "shape"}, {"y"}, "reshape");
  b.output("y");
  EXPECT_THAT(import_error(b.bytes()),
              AllOf(HasSubstr("'reshape' (Reshape"), HasSubstr("cannot reshape [2, 3]")));
}

TEST(OnnxImport, AShapeThatDependsOnTheInputsIsRefused) {
  OnnxModelBuilder b;
  b.input("x", {2, 3});
  b.input("s", {2}, onnx::TensorProto::INT64);
  b.node("Reshape", {"x", "s"}, {"y"}, "reshape");
  b.output("y");
  EXPECT_THAT(import_error(b.bytes()), AllOf(HasSubstr("its shape (input 1, 's') must be known")));
}

TEST(OnnxImport, TheFuzzSeedsImport) {
  int seeds = 0;
  for (const auto& entry :
       std::filesystem::directory_iterator(DAGPROP_SOURCE_DIR "/tests/fuzz/onnx_corpus")) {
    const std::string name = entry.path().filename().string();
    std::ifstream in(entry.path(), std::ios::binary);
    std::stringstream bytes;
    bytes << in.rdbuf();
    if (name.starts_with("torch_") || name.starts_with("dagprop_")) {
      EXPECT_NO_THROW(read_onnx(bytes.str())) << name;
      ++seeds;
    }
  }
  EXPECT_GE(seeds, 8);
}

// Every prefix of a valid file, and many files with flipped bytes, either import or throw
// dagprop::Error: nothing crashes, hangs or throws anything else.
TEST(OnnxImport, TruncatedAndCorruptFilesImportOrThrowAnError) {
  const std::string bytes = linear_relu().bytes();
  int refused = 0;
  for (std::size_t n = 0; n < bytes.size(); ++n) {
    try {
      read_onnx(bytes.substr(0, n));
    } catch (const Error&) {
      ++refused;
    }
  }
  EXPECT_GT(refused, static_cast<int>(bytes.size()) / 2);
  std::mt19937 rng(7);
  for (int trial = 0; trial < 2000; ++trial) {
    std::string corrupt = bytes;
    for (int k = 0; k < 3; ++k) corrupt[rng() % corrupt.size()] = static_cast<char>(rng());
    try {
      read_onnx(corrupt);
    } catch (const Error&) {
    }
  }
}

}  // namespace
}  // namespace dagprop
