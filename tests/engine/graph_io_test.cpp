// Graph files: the round trip keeps every bit and every name, and the loader turns each kind of
// broken or hostile file into a dagprop::Error that says what is wrong.
#include <gtest/gtest.h>

#include <cmath>
#include <filesystem>
#include <fstream>
#include <sstream>

#include <unistd.h>

#include <dagprop/dagprop.hpp>
#include <dagprop/graph_io.hpp>
#include <dagprop/snapshot.hpp>

#include "engine/test_graphs.hpp"

namespace dagprop {
namespace {

// The message of the Error that loading `text` throws ("" if it loads).
std::string load_error(const std::string& text, const LoadOptions& options = {}) {
  const std::string message = testing::error_message([&] { (void)read_graph(text, options); });
  return message == "no error" ? "" : message;
}

#define EXPECT_LOAD_ERROR(text, expected)                                             \
  do {                                                                                \
    const std::string message_ = load_error(text);                                    \
    EXPECT_NE(message_.find(expected), std::string::npos) << "message: " << message_; \
  } while (false)

// A minimal file with the given nodes.
std::string file_with(const std::string& nodes) {
  return R"({"format": "dagprop-graph", "version": 1, "nodes": [)" + nodes + "]}";
}

// Base64 of one float64 1.0 and of two.
constexpr const char* kOne = "AAAAAAAA8D8=";

TEST(GraphFile, RoundTripRunsForwardAndBackwardToIdenticalBits) {
  Graph original;
  const auto m = testing::build_mlp(original);
  original.backward(m.loss, m.feeds());
  const Tensor loss_before(m.loss.value());

  LoadedGraph loaded = read_graph(write_graph(original));
  Graph& g = *loaded.graph;
  ASSERT_EQ(g.size(), original.size());
  const Expr x = g.find("x"), labels = g.find("labels"), loss = g.find("loss/cross_entropy");
  g.backward(loss, {{x, m.x_value}, {labels, m.labels_value}});
  EXPECT_TRUE(bitwise_equal(loss.value(), loss_before));
  for (Expr p : original.parameters()) {
    const Expr copy = g.find(p.name());
    EXPECT_TRUE(bitwise_equal(copy.value(), p.value())) << p.name();
    EXPECT_TRUE(bitwise_equal(copy.grad(), p.grad())) << p.name();
  }
}

TEST(GraphFile, RoundTripKeepsOpsNamesScopesFlagsAndAttributes) {
  Graph original;
  const Expr x = original.input("x", Shape{2, 3});
  original.set_requires_grad(x);
  Expr y;
  {
    auto outer = original.scope("outer");
    auto inner = original.scope("inner");
    y = original.set_name(leaky_relu(transpose(x), 0.125), "y");
  }
  const Expr s = sum(reshape(y, {6}), 0, true);
  const Expr c = original.constant(Tensor::full(Shape{1}, -0.0), "minus zero");
  (void)grad(sum(s + c), x);

  LoadedGraph loaded = read_graph(write_graph(original));
  const Graph& g = *loaded.graph;
  ASSERT_EQ(g.size(), original.size());
  for (NodeId id = 0; id < g.size(); ++id) {
    SCOPED_TRACE(original.describe(id));
    EXPECT_EQ(g.op_name_of(id), original.op_name_of(id));
    EXPECT_EQ(g.full_name_of(id), original.full_name_of(id));
    EXPECT_EQ(g.scope_of(id), original.scope_of(id));
    EXPECT_EQ(g.node(id).flags, original.node(id).flags);
    EXPECT_EQ(g.attrs_of(id), original.attrs_of(id));
    EXPECT_TRUE(g.shape_of(id) == original.shape_of(id));
    const auto inputs = g.inputs_of(id), expected = original.inputs_of(id);
    EXPECT_TRUE(std::equal(inputs.begin(), inputs.end(), expected.begin(), expected.end()));
  }
  EXPECT_EQ(g.full_name_of(y.id()), "outer/inner/y");
  EXPECT_TRUE(std::signbit(g.value(loaded.graph->expr(c.id())).at(0)));
}

TEST(GraphFile, SavedValuesAndGradientsComeBackInTheSnapshot) {
  Graph original;
  const auto n = testing::build_seed_neuron(original);
  const Snapshot traced = trace_gradients(n.a);
  SaveOptions options;
  options.values = true;
  options.gradients = true;
  options.snapshot = &traced;
  const LoadedGraph loaded = read_graph(write_graph(original, options));
  ASSERT_NE(loaded.snapshot.value(n.a.id()), nullptr);
  EXPECT_EQ(loaded.snapshot.value(n.a.id())->item(), n.a.item());
  ASSERT_NE(loaded.snapshot.gradient(n.x2.id()), nullptr);
  EXPECT_EQ(loaded.snapshot.gradient(n.x2.id())->item(), 0.2);
  // Parameters and constants carry their value in the node, not again in the snapshot.
  EXPECT_EQ(loaded.snapshot.value(n.w1.id()), nullptr);
  EXPECT_EQ(loaded.snapshot.gradients.size(), traced.gradients.size());
}

TEST(GraphFile, AnomalyNodeIsSavedAndRestored) {
  Graph original;
  const Expr x = original.parameter("x", -1.0);
  const Expr y = log(x);
  original.set_anomaly_mode(true);
  EXPECT_THROW(original.run(y), Error);
  const LoadedGraph loaded = read_graph(write_graph(original));
  EXPECT_EQ(loaded.graph->anomaly_node(), y.id());
}

TEST(GraphFile, NamesThatAreNotUtf8AreSavedWithReplacementCharacters) {
  Graph original;
  (void)original.parameter("bad\xFF", 1.0);
  const LoadedGraph loaded = read_graph(write_graph(original));
  EXPECT_EQ(loaded.graph->full_name_of(0), "bad\xEF\xBF\xBD");
}

TEST(GraphFile, SaveAndLoadThroughAFile) {
  Graph original;
  const auto n = testing::build_seed_neuron(original);
  const auto path = std::filesystem::temp_directory_path() /
                    ("dagprop_graph_io_" + std::to_string(::getpid()) + ".json");
  save_graph(original, path.string());
  const LoadedGraph loaded = load_graph(path.string());
  std::filesystem::remove(path);
  EXPECT_EQ(loaded.graph->size(), original.size());
  EXPECT_EQ(loaded.graph->run(loaded.graph->find("a")).item(), n.a.graph().run(n.a).item());
}

TEST(GraphFile, MissingFileNamesThePath) {
  EXPECT_NE(testing::error_message([] {
              (void)load_graph("/no/such/graph.json");
            }).find("cannot read graph file '/no/such/graph.json'"),
            std::string::npos);
}

TEST(GraphFile, NewerVersionIsRefusedWithAnUpgradeHint) {
  EXPECT_LOAD_ERROR(R"({"format": "dagprop-graph", "version": 2, "nodes": []})",
                    "the graph file has format version 2, newer than this dagprop reads (up to "
                    "1); upgrade dagprop to load it");
}

TEST(GraphFile, OtherFormatIsRefused) {
  EXPECT_LOAD_ERROR(R"({"format": "onnx", "version": 1, "nodes": []})",
                    "the file: field 'format' is 'onnx'; a dagprop graph file says "
                    "'dagprop-graph'");
}

TEST(GraphFile, EveryTruncationOfAValidFileIsAnError) {
  Graph original;
  (void)testing::build_seed_neuron(original);
  const std::string text = write_graph(original);
  ASSERT_EQ(load_error(text), "");
  for (std::size_t length = 0; length + 2 < text.size(); length += 7) {
    const std::string message = load_error(text.substr(0, length));
    EXPECT_NE(message, "") << "a file cut at byte " << length << " loaded";
  }
  EXPECT_LOAD_ERROR(text.substr(0, text.size() / 2), "not valid JSON");
}

TEST(GraphFile, WrongTypeNamesTheNodeAndField) {
  EXPECT_LOAD_ERROR(file_with(R"({"id": 0, "op": "input", "name": "x", "dtype": "float64",
                                  "shape": "three"})"),
                    "node #0 (op input): field 'shape' must be an array of dimensions, not a "
                    "string");
  EXPECT_LOAD_ERROR(file_with(R"({"id": 0, "op": "input", "name": 7, "dtype": "float64",
                                  "shape": []})"),
                    "node #0 (op input): field 'name' must be a string, not an integer");
  EXPECT_LOAD_ERROR(file_with(R"({"id": 0, "op": "input", "name": "x", "dtype": "int8",
                                  "shape": []})"),
                    "field 'dtype' is 'int8'; use \"float32\" or \"float64\"");
  EXPECT_LOAD_ERROR(R"({"format": "dagprop-graph", "version": "1", "nodes": []})",
                    "the file: field 'version' must be an integer, not a string");
  EXPECT_LOAD_ERROR(R"([1, 2])", "the file must hold a JSON object, not an array");
}

TEST(GraphFile, UnknownFieldIsNamed) {
  EXPECT_LOAD_ERROR(file_with(R"({"id": 0, "op": "input", "name": "x", "dtype": "float64",
                                  "shape": [], "shpae": [2]})"),
                    "node #0 (op input) has an unknown field 'shpae'");
}

TEST(GraphFile, UnknownOpIsNamedWithTheFix) {
  EXPECT_LOAD_ERROR(file_with(R"({"id": 0, "op": "frobnicate", "dtype": "float64",
                                  "shape": []})"),
                    "node #0 (op frobnicate): field 'op' names the unknown op 'frobnicate'; "
                    "register it with OpRegistry::global().add() before loading");
}

TEST(GraphFile, InputReferringToALaterNodeIsRefusedAsACycle) {
  const std::string text = file_with(
      R"({"id": 0, "op": "exp", "inputs": [1], "dtype": "float64", "shape": []},
         {"id": 1, "op": "exp", "inputs": [0], "dtype": "float64", "shape": []})");
  EXPECT_LOAD_ERROR(text,
                    "node #0 (op exp): field 'inputs'[0] refers to node #1, which is not listed "
                    "before this one; a node's inputs must come first (a later or missing node "
                    "would make a cycle)");
}

TEST(GraphFile, InputReferringToItselfOrAMissingNodeIsRefused) {
  EXPECT_LOAD_ERROR(file_with(R"({"id": 0, "op": "exp", "inputs": [0], "dtype": "float64",
                                  "shape": []})"),
                    "refers to node #0, which is not listed before this one");
  EXPECT_LOAD_ERROR(file_with(R"({"id": 0, "op": "exp", "inputs": [99999999999],
                                  "dtype": "float64", "shape": []})"),
                    "refers to node #99999999999");
  EXPECT_LOAD_ERROR(file_with(R"({"id": 0, "op": "exp", "inputs": [-1], "dtype": "float64",
                                  "shape": []})"),
                    "field 'inputs'[0] is -1 but must lie in [0, ");
}

TEST(GraphFile, NodesOutOfOrderAreRefused) {
  EXPECT_LOAD_ERROR(file_with(R"({"id": 1, "op": "input", "name": "x", "dtype": "float64",
                                  "shape": []})"),
                    "node #0 (op input): field 'id' is 1; nodes must be listed in order");
}

TEST(GraphFile, ShapesThatDoNotAgreeAreRefused) {
  const std::string x = R"({"id": 0, "op": "input", "name": "x", "dtype": "float64",
                            "shape": [2, 3]},)";
  EXPECT_LOAD_ERROR(file_with(x + R"({"id": 1, "op": "exp", "inputs": [0], "dtype": "float64",
                                      "shape": [3, 2]})"),
                    "node #1 (op exp) is float64 [3, 2] in the file, but its inputs give float64 "
                    "[2, 3]; the file is inconsistent");
  EXPECT_LOAD_ERROR(file_with(x + R"({"id": 1, "op": "matmul", "inputs": [0, 0],
                                      "dtype": "float64", "shape": [2, 2]})"),
                    "node #1 (op matmul) does not build: ");
  EXPECT_LOAD_ERROR(file_with(x + R"({"id": 1, "op": "add", "inputs": [0],
                                      "dtype": "float64", "shape": [2, 3]})"),
                    "takes 2 input(s) but was given 1");
}

TEST(GraphFile, AbsurdTensorSizeIsRefusedBeforeAnythingIsAllocated) {
  // 10^12 elements: over the default limit of 2^32.
  EXPECT_LOAD_ERROR(file_with(R"({"id": 0, "op": "parameter", "name": "w", "dtype": "float32",
                                  "shape": [1000000, 1000000], "data": ""})"),
                    "node #0 (op parameter): field 'shape' is [1000000, 1000000], more than the "
                    "limit of 4294967296 elements (LoadOptions::max_elements)");
  // Within the limit, but the data does not hold that many bytes.
  EXPECT_LOAD_ERROR(file_with(R"({"id": 0, "op": "parameter", "name": "w", "dtype": "float32",
                                  "shape": [65536, 65536], "data": "AAAA"})"),
                    "field 'data' has 4 base64 characters, but float32 [65536, 65536] needs "
                    "22906492248 (17179869184 bytes)");
}

TEST(GraphFile, ShapesWhoseProductOverflowsAreRefused) {
  EXPECT_LOAD_ERROR(file_with(R"({"id": 0, "op": "input", "name": "x", "dtype": "float64",
                                  "shape": [4294967296, 4294967296, 4294967296]})"),
                    "field 'shape' is [4294967296, 4294967296, 4294967296], more than the limit");
  EXPECT_LOAD_ERROR(file_with(R"({"id": 0, "op": "input", "name": "x", "dtype": "float64",
                                  "shape": [1, 2, 3, 4, 5, 6, 7]})"),
                    "field 'shape' has 7 dimensions; at most 6 are supported");
}

TEST(GraphFile, BroadcastBeyondTheLimitIsRefused) {
  // [65536, 1] + [1, 65536] is 2^32 elements: at the limit; one more doubling is over it.
  const std::string text = file_with(
      R"({"id": 0, "op": "input", "name": "a", "dtype": "float32", "shape": [131072, 1]},
         {"id": 1, "op": "input", "name": "b", "dtype": "float32", "shape": [1, 65536]},
         {"id": 2, "op": "add", "inputs": [0, 1], "dtype": "float32", "shape": [1]})");
  EXPECT_LOAD_ERROR(text,
                    "node #2 (op add) is [131072, 65536], more than the limit of "
                    "4294967296 elements");
}

TEST(GraphFile, DataThatIsNotBase64OrHasTheWrongLengthIsRefused) {
  EXPECT_LOAD_ERROR(file_with(R"({"id": 0, "op": "parameter", "name": "w", "dtype": "float64",
                                  "shape": [], "data": "AAAAAAAA8D8"})"),
                    "field 'data' has 11 base64 characters, but float64 [] needs 12 (8 bytes)");
  EXPECT_LOAD_ERROR(file_with(R"({"id": 0, "op": "parameter", "name": "w", "dtype": "float64",
                                  "shape": [], "data": "AAAAAAAA8D!="})"),
                    "field 'data' is not valid base64");
  EXPECT_LOAD_ERROR(file_with(R"({"id": 0, "op": "parameter", "name": "w", "dtype": "float64",
                                  "shape": []})"),
                    "node #0 (op parameter) is missing the field 'data'");
}

TEST(GraphFile, LeavesNeedTheirNames) {
  EXPECT_LOAD_ERROR(file_with(R"({"id": 0, "op": "input", "dtype": "float64", "shape": []})"),
                    "node #0 (op input) needs a 'name': inputs are fed by name");
  EXPECT_LOAD_ERROR(file_with(std::string(R"({"id": 0, "op": "parameter", "dtype": "float64",
                                              "shape": [], "data": ")") +
                              kOne + R"("})"),
                    "node #0 (op parameter) needs a 'name'");
}

TEST(GraphFile, MalformedScopeIsRefused) {
  EXPECT_LOAD_ERROR(file_with(R"({"id": 0, "op": "input", "name": "x", "scope": "a//b",
                                  "dtype": "float64", "shape": []})"),
                    "field 'scope' has an empty scope name between '/' separators");
  EXPECT_LOAD_ERROR(file_with(R"({"id": 0, "op": "input", "name": "x", "scope": "a/",
                                  "dtype": "float64", "shape": []})"),
                    "field 'scope' ends with '/'");
}

TEST(GraphFile, ScopesTooDeepOrTooLongAreRefused) {
  std::string deep = "s";
  for (int i = 0; i < 40; ++i) deep += "/s";
  EXPECT_LOAD_ERROR(file_with(R"({"id": 0, "op": "input", "name": "x", "scope": ")" + deep +
                              R"(", "dtype": "float64", "shape": []})"),
                    "field 'scope' nests more than 32 scopes deep");
  EXPECT_LOAD_ERROR(file_with(R"({"id": 0, "op": "input", "name": "x", "scope": ")" +
                              std::string(5000, 'a') + R"(", "dtype": "float64", "shape": []})"),
                    "field 'scope' is 5000 bytes long; at most 4096 are accepted");
}

TEST(GraphFile, ValuesForMissingNodesAreRefused) {
  const std::string text = R"({"format": "dagprop-graph", "version": 1, "nodes": [
      {"id": 0, "op": "input", "name": "x", "dtype": "float64", "shape": []}],
      "values": [{"node": 3, "data": "AAAAAAAA8D8="}]})";
  EXPECT_LOAD_ERROR(text, "field 'values'[0]: field 'node' is 3 but must lie in [0, 0]");
}

TEST(GraphFile, DeeplyNestedJsonIsRefusedWhileParsing) {
  const std::string text = std::string(100000, '[') + std::string(100000, ']');
  EXPECT_LOAD_ERROR(text, "JSON nested deeper than 16 levels");
}

TEST(GraphFile, FileOverTheSizeLimitIsRefused) {
  LoadOptions options;
  options.max_file_bytes = 10;
  EXPECT_NE(load_error(file_with(""), options).find("over the limit of 10"), std::string::npos);
}

// Every input the fuzzer found interesting loads or fails with dagprop::Error, never worse.
TEST(GraphFile, FuzzCorpusLoadsOrFailsCleanly) {
  const std::filesystem::path corpus =
      std::filesystem::path(DAGPROP_SOURCE_DIR) / "tests" / "fuzz" / "corpus";
  ASSERT_TRUE(std::filesystem::is_directory(corpus)) << corpus;
  int files = 0;
  for (const auto& entry : std::filesystem::directory_iterator(corpus)) {
    std::ifstream in(entry.path(), std::ios::binary);
    std::stringstream contents;
    contents << in.rdbuf();
    SCOPED_TRACE(entry.path().string());
    try {
      (void)read_graph(contents.str());
    } catch (const Error&) {
    }
    ++files;
  }
  EXPECT_GT(files, 0);
}

}  // namespace
}  // namespace dagprop
