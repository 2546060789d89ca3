// Graph files: the round trip keeps every bit and every name, and the loader turns each kind of
// broken or hostile file into a dagprop::Error that says what is wrong.
#include <gtest/gtest.h>

#include <bit>
#include <cmath>
#include <cstdint>
#include <filesystem>
#include <fstream>
#include <limits>
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
  EXPECT_LOAD_ERROR(R"({"format": "dagprop-graph", "version": 4, "nodes": []})",
                    "the graph file has format version 4, newer than this dagprop reads (up to "
                    "3); upgrade dagprop to load it");
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
  std::string objects = R"({"format": )";
  for (int i = 0; i < 100000; ++i) objects += R"({"a": )";
  EXPECT_LOAD_ERROR(objects, "JSON nested deeper than 16 levels");
  // Arrays nest nowhere in the format: refused at the second level already.
  EXPECT_LOAD_ERROR(std::string(100000, '[') + std::string(100000, ']'),
                    "the file must hold a JSON object, not an array");
  EXPECT_LOAD_ERROR(file_with(R"({"id": 0, "op": "input", "name": "x", "dtype": "float64",
                                  "shape": [[[[1]]]]})"),
                    "node #0 (op input): field 'shape' holds an array; arrays in a graph file "
                    "hold numbers");
}

TEST(GraphFile, FileOverTheSizeLimitIsRefused) {
  LoadOptions options;
  options.max_file_bytes = 10;
  EXPECT_NE(load_error(file_with(""), options).find("over the limit of 10"), std::string::npos);
}

// ---------------------------------------------------------------- version 2: checksums

// A version 2 file with the given nodes.
std::string file_v2_with(const std::string& nodes) {
  return R"({"format": "dagprop-graph", "version": 2, "nodes": [)" + nodes + "]}";
}

// `text` with its first occurrence of `from` replaced by `to`.
std::string replaced(std::string text, const std::string& from, const std::string& to) {
  const std::size_t at = text.find(from);
  EXPECT_NE(at, std::string::npos) << from;
  if (at != std::string::npos) text.replace(at, from.size(), to);
  return text;
}

TEST(GraphFile, WrittenFilesAreVersion3WithACrcPerTensor) {
  Graph original;
  const auto n = testing::build_seed_neuron(original);
  const Snapshot traced = trace_gradients(n.a);
  SaveOptions options;
  options.values = true;
  options.gradients = true;
  options.snapshot = &traced;
  const std::string text = write_graph(original, options);
  EXPECT_NE(text.find("\"version\": 3,"), std::string::npos);
  // zlib's CRC-32 of the 8 bytes of 0.1 (little-endian float64).
  EXPECT_NE(text.find(R"("data":"mpmZmZmZuT8=","crc32":)"), std::string::npos) << text;
  std::size_t tensors = 0, crcs = 0;
  for (std::size_t at = text.find("\"data\""); at != std::string::npos;
       at = text.find("\"data\"", at + 1))
    ++tensors;
  for (std::size_t at = text.find("\"crc32\""); at != std::string::npos;
       at = text.find("\"crc32\"", at + 1))
    ++crcs;
  EXPECT_GT(tensors, 5u);
  EXPECT_EQ(crcs, tensors);
}

TEST(GraphFile, Version2RoundTripsBitForBit) {
  Graph original;
  const auto m = testing::build_mlp(original);
  original.backward(m.loss, m.feeds());
  // Values that decimal text would lose: a NaN payload, a signed zero, a subnormal.
  Tensor odd(Shape{3}, DType::f64);
  odd.set(0, std::bit_cast<double>(std::uint64_t{0x7FF8000000001234}));
  odd.set(1, -0.0);
  odd.set(2, std::numeric_limits<double>::denorm_min());
  (void)original.constant(odd, "odd");
  SaveOptions options;
  options.values = true;
  options.gradients = true;
  const std::string text = write_graph(original, options);
  const LoadedGraph loaded = read_graph(text);
  EXPECT_EQ(write_graph(*loaded.graph,
                        [&] {
                          SaveOptions again = options;
                          again.snapshot = &loaded.snapshot;
                          return again;
                        }()),
            text);
  const TensorView back = loaded.graph->value(loaded.graph->find("odd"));
  EXPECT_TRUE(bitwise_equal(back, odd.view()));
}

TEST(GraphFile, Version1FileWithoutChecksumsStillLoads) {
  const std::string text = R"({"format": "dagprop-graph", "version": 1, "nodes": [
      {"id":0,"op":"constant","dtype":"float64","shape":[],"data":"AAAAAAAA4D8="},
      {"id":1,"op":"parameter","name":"w1","dtype":"float64","shape":[],"data":"mpmZmZmZuT8="},
      {"id":2,"op":"mul","dtype":"float64","shape":[],"inputs":[0,1]}],
      "values": [{"node":2,"data":"mpmZmZmZqT8="}],
      "gradients": [{"node":1,"data":"AAAAAAAA4D8="}]})";
  const LoadedGraph loaded = read_graph(text);
  Graph& g = *loaded.graph;
  ASSERT_EQ(g.size(), 3u);
  EXPECT_EQ(g.value(g.find("w1")).at(0), 0.1);
  EXPECT_EQ(g.run(g.expr(2)).item(), 0.5 * 0.1);
  ASSERT_NE(loaded.snapshot.value(2), nullptr);
  EXPECT_EQ(loaded.snapshot.value(2)->item(), 0.05);
  ASSERT_NE(loaded.snapshot.gradient(1), nullptr);
  EXPECT_EQ(loaded.snapshot.gradient(1)->item(), 0.5);
}

TEST(GraphFile, ChecksumInAVersion1FileIsRefused) {
  EXPECT_LOAD_ERROR(file_with(std::string(R"({"id": 0, "op": "parameter", "name": "w",
                                              "dtype": "float64", "shape": [], "data": ")") +
                              kOne + R"(", "crc32": 1})"),
                    "node #0 (op parameter) has the field 'crc32', which is new in format "
                    "version 2, but the file says version 1");
}

TEST(GraphFile, Version2TensorWithoutChecksumIsRefused) {
  EXPECT_LOAD_ERROR(file_v2_with(std::string(R"({"id": 0, "op": "parameter", "name": "w",
                                                 "dtype": "float64", "shape": [], "data": ")") +
                                 kOne + R"("})"),
                    "node #0 (op parameter) is missing the field 'crc32'");
  EXPECT_LOAD_ERROR(file_v2_with(std::string(R"({"id": 0, "op": "parameter", "name": "w",
                                                 "dtype": "float64", "shape": [], "data": ")") +
                                 kOne + R"(", "crc32": 4294967296})"),
                    "node #0 (op parameter): field 'crc32' is 4294967296 but must lie in [0, "
                    "4294967295]");
  EXPECT_LOAD_ERROR(file_v2_with(R"({"id": 0, "op": "input", "name": "x", "dtype": "float64",
                                     "shape": [], "crc32": 0})"),
                    "node #0 (op input): field 'crc32' is given, but inputs are fed per run");
}

TEST(GraphFile, BitFlipInTensorDataIsRefusedNamingTheTensor) {
  Graph original;
  (void)testing::build_seed_neuron(original);
  const std::string text = write_graph(original);
  ASSERT_EQ(load_error(text), "");
  // w1 = 0.1 is "mpmZmZmZuT8=": 'T' -> 'U' flips one bit of its exponent's byte, still base64.
  EXPECT_LOAD_ERROR(replaced(text, "mpmZmZmZuT8=", "mpmZmZmZuU8="),
                    "the data of node #2 'w1' (op parameter) does not match its CRC-32 (the file "
                    "says 0x");
  EXPECT_LOAD_ERROR(replaced(text, "mpmZmZmZuT8=", "mpmZmZmZuU8="),
                    "the file was changed or damaged after it was saved");
}

TEST(GraphFile, BitFlipInASavedGradientIsRefusedNamingItsNode) {
  Graph original;
  const auto n = testing::build_seed_neuron(original);
  const Snapshot traced = trace_gradients(n.a);
  SaveOptions options;
  options.gradients = true;
  options.snapshot = &traced;
  const std::string text = write_graph(original, options);
  // The gradient of x2 is w2 = 0.2, "mpmZmZmZyT8="; the parameter w2 holds the same bytes, so
  // the flip goes into the gradients list, after the nodes.
  const std::size_t list = text.find("\"gradients\"");
  ASSERT_NE(list, std::string::npos);
  const std::size_t at = text.find("mpmZmZmZyT8=", list);
  ASSERT_NE(at, std::string::npos);
  std::string damaged = text;
  damaged[at + 8] = 'z';
  EXPECT_LOAD_ERROR(damaged,
                    "the gradient of node #1 (op constant, shape []) (field "
                    "'gradients'[");
  EXPECT_LOAD_ERROR(damaged, "does not match its CRC-32");
}

// ---------------------------------------------------------------- keys, order, limits

TEST(GraphFile, DuplicateKeysAreRefusedNamingTheKeyAndWhere) {
  EXPECT_LOAD_ERROR(file_with(R"({"id": 0, "op": "input", "name": "x", "name": "y",
                                  "dtype": "float64", "shape": []})"),
                    "node #0 (op input) has the field 'name' twice");
  EXPECT_LOAD_ERROR(file_with(R"({"id": 0, "op": "input", "name": "x", "dtype": "float64",
                                  "shape": [2]},
                                 {"id": 1, "op": "sum", "inputs": [0], "dtype": "float64",
                                  "shape": [], "attrs": {"axis": 0, "axis": 0}})"),
                    "node #1 (op sum): field 'attrs' has the field 'axis' twice");
  EXPECT_LOAD_ERROR(R"({"format": "dagprop-graph", "version": 1, "nodes": [], "nodes": []})",
                    "the file has the field 'nodes' twice");
  EXPECT_LOAD_ERROR(R"({"format": "dagprop-graph", "version": 1, "nodes": [
                         {"id": 0, "op": "input", "name": "x", "dtype": "float64", "shape": []}],
                       "values": [{"node": 0, "node": 0, "data": "AAAAAAAA8D8="}]})",
                    "the file: field 'values'[0] has the field 'node' twice");
}

TEST(GraphFile, ObjectWithMoreFieldsThanTheFormatHasIsRefused) {
  std::string node = R"({"id": 0)";
  for (int i = 0; i < 1000; ++i) node += ", \"f" + std::to_string(i) + "\": 0";
  EXPECT_LOAD_ERROR(file_with(node + "}"), "node #0 has more than 16 fields");
}

TEST(GraphFile, MillionEmptyObjectsAreRefusedAtTheFirst) {
  std::string empties = "{}";
  for (int i = 1; i < 1'000'000; ++i) empties += ",{}";
  EXPECT_LOAD_ERROR(file_with(empties), "node #0 is missing the field 'id'");
  EXPECT_LOAD_ERROR("[" + empties + "]", "the file must hold a JSON object, not an array");
  EXPECT_LOAD_ERROR(file_with(R"({"id": 0, "op": "exp", "dtype": "float64", "shape": [],
                                  "inputs": [)" +
                              empties + "]}"),
                    "node #0 (op exp): field 'inputs' holds an object; arrays in a graph file "
                    "hold numbers");
}

TEST(GraphFile, ListsBeforeTheNodesOrNodesBeforeTheVersionAreRefused) {
  EXPECT_LOAD_ERROR(R"({"format": "dagprop-graph", "nodes": [], "version": 1})",
                    "the file is missing the field 'version' before 'nodes' (a graph file starts "
                    "with its format and version)");
  EXPECT_LOAD_ERROR(R"({"format": "dagprop-graph", "version": 1, "values": [], "nodes": []})",
                    "the file: field 'values' comes before 'nodes'; a graph file lists its nodes "
                    "first");
  EXPECT_LOAD_ERROR(R"({"format": "dagprop-graph", "version": 1})",
                    "the file is missing the field 'nodes'");
}

TEST(GraphFile, TextAfterTheObjectIsRefused) {
  EXPECT_LOAD_ERROR(file_with("") + " {}", "not valid JSON");
}

TEST(GraphFile, NameLongerThanTheLimitIsRefused) {
  EXPECT_LOAD_ERROR(file_with(R"({"id": 0, "op": "input", "name": ")" + std::string(5000, 'n') +
                              R"(", "dtype": "float64", "shape": []})"),
                    "node #0 (op input): field 'name' is 5000 bytes long; at most 4096 are "
                    "accepted (LoadOptions::max_name_bytes)");
  LoadOptions options;
  options.max_name_bytes = 3;
  EXPECT_NE(load_error(file_with(R"({"id": 0, "op": "input", "name": "four",
                                     "dtype": "float64", "shape": []})"),
                       options)
                .find("field 'name' is 4 bytes long; at most 3 are accepted"),
            std::string::npos);
}

TEST(GraphFile, HugeStringsFromTheFileAreCutInMessages) {
  const std::string op(1'000'000, 'o');
  const std::string message =
      load_error(file_with(R"({"id": 0, "op": ")" + op + R"(", "dtype": "float64", "shape": []})"));
  EXPECT_NE(message.find("names the unknown op 'oooo"), std::string::npos) << message;
  EXPECT_NE(message.find("... (1000000 bytes)'"), std::string::npos) << message.substr(0, 500);
  EXPECT_LT(message.size(), 1000u);
}

// ---------------------------------------------------------------- writing to files

TEST(GraphFile, SavingToAFullDeviceNamesTheFile) {
  if (!std::filesystem::exists("/dev/full")) GTEST_SKIP() << "no /dev/full on this system";
  Graph original;
  (void)testing::build_mlp(original);
  EXPECT_NE(testing::error_message([&] {
              save_graph(original, "/dev/full");
            }).find("writing the graph to '/dev/full' failed: No space left on device"),
            std::string::npos);
}

TEST(GraphFile, SavingIntoAMissingDirectoryNamesTheFile) {
  Graph original;
  (void)testing::build_seed_neuron(original);
  EXPECT_NE(testing::error_message([&] { save_graph(original, "/no/such/dir/graph.json"); })
                .find("cannot open '/no/such/dir/graph.json' to save the graph: No such file or "
                      "directory; check that the directory exists and is writable"),
            std::string::npos);
}

TEST(GraphFile, LoadingAFileNamesItInErrors) {
  const auto path = std::filesystem::temp_directory_path() /
                    ("dagprop_graph_io_bad_" + std::to_string(::getpid()) + ".json");
  {
    std::ofstream out(path);
    out << file_with(R"({"id": 0, "op": "input", "name": "x", "name": "x", "dtype": "float64",
                         "shape": []})");
  }
  const std::string message = testing::error_message([&] { (void)load_graph(path.string()); });
  std::filesystem::remove(path);
  EXPECT_NE(message.find("graph file '" + path.string() +
                         "': node #0 (op input) has the field "
                         "'name' twice"),
            std::string::npos)
      << message;
}

// The corpus's version 2 seeds are what save_graph wrote before attributes had names, its version
// 3 seeds what it writes today: they load, and the damaged ones fail for the reason their names
// give.
TEST(GraphFile, FuzzCorpusSeedsLoadAndDamagedOnesFailForTheirReason) {
  const std::filesystem::path corpus =
      std::filesystem::path(DAGPROP_SOURCE_DIR) / "tests" / "fuzz" / "corpus";
  auto read = [&](const char* name) {
    std::ifstream in(corpus / name, std::ios::binary);
    std::stringstream contents;
    contents << in.rdbuf();
    return contents.str();
  };
  for (const char* name :
       {"seed_neuron_traced_v2.json", "ops_mix_f32_v2.json", "anomaly_v2.json"}) {
    const std::string text = read(name);
    EXPECT_NE(text.find("\"version\": 2"), std::string::npos) << name;
    EXPECT_EQ(load_error(text), "") << name;
  }
  EXPECT_LOAD_ERROR(read("crc_mismatch_v2.json"),
                    "the data of node #2 'w1' (op parameter) does not match its CRC-32");
  EXPECT_LOAD_ERROR(read("crc_in_version_1.json"),
                    "has the field 'crc32', which is new in format version 2");
  for (const char* name : {"named_attrs_v3.json", "raw_attrs_v2.json"}) {
    const std::string text = read(name);
    EXPECT_EQ(load_error(text), "") << name;
  }
  EXPECT_LOAD_ERROR(read("unknown_attribute_v3.json"),
                    "node #2 'product' (op matmul): field 'attrs' names the attribute 'axis2', "
                    "which op matmul does not have; its attributes: transpose_a, transpose_b");
  EXPECT_LOAD_ERROR(read("attribute_kind_v3.json"),
                    "node #2 (op sum): field 'attrs': field 'keepdim' must be true or false, not "
                    "an integer");
  EXPECT_LOAD_ERROR(read("attribute_range_v3.json"),
                    "node #1 (op one_hot): field 'attrs': field 'classes' is 0 but must lie in "
                    "[1, ");
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
