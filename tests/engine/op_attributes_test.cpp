// Named op attributes: an op declares its parameters in its own OpDef and everything else (apply
// by name, graph files, the registry's checks) follows from the declaration.
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <cmath>
#include <string>

#include <dagprop/dagprop.hpp>
#include <dagprop/graph_io.hpp>

#include "engine/test_graphs.hpp"
#include "ops/op_cases.hpp"

namespace dagprop {
namespace {

using ::testing::HasSubstr;

// ---- a user op with parameters of new kinds: y = x^k / temperature, elementwise.

constexpr AttrSpec kTemperedPowerAttributes[] = {{.name = "k",
                                                  .kind = AttrKind::integer,
                                                  .slot = {.field = AttrField::ints, .first = 0},
                                                  .default_value = 2,
                                                  .doc = "the power",
                                                  .min = 1},
                                                 {.name = "temperature",
                                                  .kind = AttrKind::number,
                                                  .slot = {.field = AttrField::scalar},
                                                  .default_value = 1.0,
                                                  .doc = "divides the power"}};

struct TemperedPowerAttrs {
  std::int64_t k;
  double temperature;
  static TemperedPowerAttrs of(const OpAttrs& attrs) { return {attrs.ints.at(0), attrs.scalar}; }
};

template <class T>
void tempered_power_forward(const KernelCall& call) {
  const auto [k, temperature] = TemperedPowerAttrs::of(call.attrs);
  const T* x = call.inputs[0].as<T>();
  T* y = call.output.as<T>();
  for (std::int64_t i = 0; i < call.output.numel(); ++i)
    y[i] = static_cast<T>(std::pow(x[i], static_cast<double>(k)) / temperature);
}
Shape same_shape(const ShapeQuery& query) {
  return query.inputs[0];
}
void tempered_power_vjp(GradContext& c) {
  const auto [k, temperature] = TemperedPowerAttrs::of(c.attrs());
  const double power = static_cast<double>(k);
  c.set(0, c.grad_output() * (power / temperature) * pow(c.input(0), power - 1));
}

OpId tempered_power_op() {
  static const OpId id =
      OpRegistry::global().add(OpDef{.name = "test_tempered_power",
                                     .arity = 1,
                                     .shape = same_shape,
                                     .forward_f32 = tempered_power_forward<float>,
                                     .forward_f64 = tempered_power_forward<double>,
                                     .vjp = tempered_power_vjp,
                                     .forward_doc = "y = x^k / temperature",
                                     .gradient_doc = "dx = g k x^(k-1) / temperature",
                                     .attributes = kTemperedPowerAttributes});
  return id;
}

TEST(OpAttributes, UserOpWithNewParametersBuildsRunsDifferentiatesAndSavesByName) {
  (void)tempered_power_op();
  Graph g;
  const Expr x = g.parameter("x", Tensor::from({0.5, -1.5, 2.0}, Shape{3}));
  const Expr y = g.apply("test_tempered_power", std::span<const Expr>(&x, 1),
                         {{"k", 3}, {"temperature", 0.5}}, "y");
  EXPECT_EQ(g.run(y).to_vector(), (std::vector<double>{0.25, -6.75, 16.0}));
  EXPECT_TRUE(gradcheck(sum(y), {x}).ok);
  EXPECT_EQ(g.attribute(y.id(), "k"), AttrValue(3));
  EXPECT_EQ(g.attribute(y.id(), "temperature"), AttrValue(0.5));

  const std::string text = write_graph(g);
  EXPECT_NE(text.find(R"("attrs":{"k":3,"temperature":0.5})"), std::string::npos) << text;
  LoadedGraph loaded = read_graph(text);
  const Expr copy = loaded.graph->find("y");
  EXPECT_EQ(loaded.graph->attrs_of(copy.id()), g.attrs_of(y.id()));
  EXPECT_EQ(loaded.graph->run(copy).to_vector(), (std::vector<double>{0.25, -6.75, 16.0}));
}

TEST(OpAttributes, DefaultsFillWhatIsNotGivenAndAreNotWritten) {
  (void)tempered_power_op();
  Graph g;
  const Expr x = g.parameter("x", Tensor::from({3.0}, Shape{1}));
  const Expr y = g.apply("test_tempered_power", std::span<const Expr>(&x, 1), {}, "y");
  EXPECT_EQ(g.run(y).to_vector(), (std::vector<double>{9.0}));
  const std::string text = write_graph(g);
  EXPECT_EQ(text.find("\"attrs\""), std::string::npos) << text;
  EXPECT_EQ(read_graph(text).graph->attrs_of(1), g.attrs_of(y.id()));
}

TEST(OpAttributes, ApplyByNameRefusesUnknownNamesWrongKindsAndRanges) {
  (void)tempered_power_op();
  Graph g;
  const Expr x = g.input("x", Shape{2});
  const std::span<const Expr> in(&x, 1);
  EXPECT_THAT(
      [&] {
        g.apply("test_tempered_power", in, {{"kk", 3}});
      },
      ::testing::ThrowsMessage<Error>(
          HasSubstr("op 'test_tempered_power' has no attribute 'kk'; its "
                    "attributes: k, temperature")));
  EXPECT_THAT(
      [&] {
        g.apply("test_tempered_power", in, {{"k", 1.5}});
      },
      ::testing::ThrowsMessage<Error>(
          HasSubstr("attribute 'k' is an integer, not the number 1.5")));
  EXPECT_THAT(
      [&] {
        g.apply("test_tempered_power", in, {{"k", 0}});
      },
      ::testing::ThrowsMessage<Error>(HasSubstr("attribute 'k' must lie in [1, ")));
  EXPECT_THAT(
      [&] {
        g.apply("test_tempered_power", in, {{"k", 2}, {"k", 3}});
      },
      ::testing::ThrowsMessage<Error>(HasSubstr("attribute 'k' is given twice")));
  // An integer is a fine number.
  const Expr y = g.apply("test_tempered_power", in, {{"temperature", 2}});
  EXPECT_EQ(g.attribute(y.id(), "temperature"), AttrValue(2.0));
  EXPECT_THAT(
      [&] { (void)g.attribute(y.id(), "alpha"); },
      ::testing::ThrowsMessage<Error>(HasSubstr("has no attribute 'alpha'; the attributes of "
                                                "test_tempered_power: k, temperature")));
}

OpDef op_with(std::string_view name, AttrTable attributes) {
  return OpDef{.name = name,
               .arity = 1,
               .shape = same_shape,
               .forward_f64 = tempered_power_forward<double>,
               .vjp = tempered_power_vjp,
               .forward_doc = "y",
               .gradient_doc = "g",
               .attributes = attributes};
}

TEST(OpAttributes, RegistryRefusesABadTableNamingOpAndAttribute) {
  const AttrSpec twice[] = {
      {.name = "k", .kind = AttrKind::integer, .slot = {.field = AttrField::axis}, .doc = "a"},
      {.name = "k", .kind = AttrKind::integer, .slot = {.field = AttrField::axis2}, .doc = "b"}};
  EXPECT_THAT([&] { OpRegistry::global().add(op_with("test_twice", twice)); },
              ::testing::ThrowsMessage<Error>(
                  HasSubstr("op 'test_twice': attribute 'k' is declared twice")));
  const AttrSpec wrong_slot[] = {
      {.name = "scale", .kind = AttrKind::number, .slot = {.field = AttrField::axis}, .doc = "a"}};
  EXPECT_THAT([&] { OpRegistry::global().add(op_with("test_wrong_slot", wrong_slot)); },
              ::testing::ThrowsMessage<Error>(
                  HasSubstr("op 'test_wrong_slot': attribute 'scale' is number but its "
                            "slot cannot hold one")));
  const AttrSpec shared[] = {{.name = "stride",
                              .kind = AttrKind::integers,
                              .slot = {.field = AttrField::ints, .first = 0, .count = 2},
                              .doc = "a"},
                             {.name = "groups",
                              .kind = AttrKind::integer,
                              .slot = {.field = AttrField::ints, .first = 1},
                              .doc = "b"}};
  EXPECT_THAT([&] { OpRegistry::global().add(op_with("test_shared", shared)); },
              ::testing::ThrowsMessage<Error>(
                  HasSubstr("op 'test_shared': attribute 'groups' shares ints entries "
                            "with attribute 'stride'")));
  const AttrSpec out_of_range[] = {{.name = "k",
                                    .kind = AttrKind::integer,
                                    .slot = {.field = AttrField::ints},
                                    .doc = "a",
                                    .min = 1}};
  EXPECT_THAT([&] { OpRegistry::global().add(op_with("test_range", out_of_range)); },
              ::testing::ThrowsMessage<Error>(
                  HasSubstr("op 'test_range': attribute 'k' has the default 0, outside "
                            "its range")));
  EXPECT_FALSE(OpRegistry::global().find("test_twice"));
}

// ---- built-in ops read their attributes by their own names

TEST(OpAttributes, MatmulTransposesAndOneHotClassesHaveTheirOwnNames) {
  Graph g;
  const Expr a = g.input("a", Shape{3, 2}), b = g.input("b", Shape{4, 3});
  const Expr built = matmul(a, b, {.a = true, .b = true});
  const Expr by_name =
      g.apply("matmul", std::vector<Expr>{a, b}, {{"transpose_a", true}, {"transpose_b", true}});
  EXPECT_EQ(g.attrs_of(built.id()), g.attrs_of(by_name.id()));
  EXPECT_EQ(by_name.shape(), (Shape{2, 4}));
  EXPECT_EQ(g.attribute(matmul(b, a).id(), "transpose_a"), AttrValue(false));

  const Expr labels = g.input("labels", Shape{5});
  const Expr hot = one_hot(labels, 7);
  EXPECT_EQ(g.attribute(hot.id(), "classes"), AttrValue(7));
  EXPECT_EQ(g.apply("one_hot", std::span<const Expr>(&labels, 1), {{"classes", 7}}).shape(),
            (Shape{5, 7}));
}

// Every built-in op's builders give attributes that a graph file writes by name and reads back
// equal: nothing sits in a field the op does not declare.
TEST(OpAttributes, VersionThreeFilesWriteAttributesByName) {
  Graph g;
  const Expr a = g.input("a", Shape{3, 2}), b = g.input("b", Shape{3, 4});
  (void)g.set_name(matmul(a, b, {.a = true}), "product");
  (void)g.set_name(sum(a, 0, true), "total");
  const std::string text = write_graph(g);
  EXPECT_NE(text.find("\"version\": 3"), std::string::npos);
  EXPECT_NE(text.find(R"("attrs":{"transpose_a":true})"), std::string::npos) << text;
  EXPECT_NE(text.find(R"("attrs":{"axis":0,"keepdim":true,"all_axes":false})"), std::string::npos)
      << text;
  LoadedGraph loaded = read_graph(text);
  for (NodeId id = 0; id < g.size(); ++id) EXPECT_EQ(loaded.graph->attrs_of(id), g.attrs_of(id));
}

TEST(OpAttributes, OlderFilesWithRawFieldsStillLoad) {
  // Version 2 kept matmul's transposes in axis/axis2 and one_hot's class count in axis.
  const std::string text = R"({"format": "dagprop-graph", "version": 2, "nodes": [
    {"id": 0, "op": "input", "name": "a", "dtype": "float64", "shape": [3, 2]},
    {"id": 1, "op": "input", "name": "b", "dtype": "float64", "shape": [4, 3]},
    {"id": 2, "op": "matmul", "dtype": "float64", "shape": [2, 4], "inputs": [0, 1],
     "attrs": {"axis": -2, "axis2": -1}},
    {"id": 3, "op": "input", "name": "labels", "dtype": "float64", "shape": [5]},
    {"id": 4, "op": "one_hot", "dtype": "float64", "shape": [5, 7], "inputs": [3],
     "attrs": {"axis": 7}},
    {"id": 5, "op": "max", "dtype": "float64", "shape": [2], "inputs": [0],
     "attrs": {"axis": 0, "all_axes": false}}]})";
  LoadedGraph loaded = read_graph(text);
  const Graph& g = *loaded.graph;
  EXPECT_EQ(g.attribute(2, "transpose_a"), AttrValue(true));
  EXPECT_EQ(g.attribute(2, "transpose_b"), AttrValue(true));
  EXPECT_EQ(g.attribute(4, "classes"), AttrValue(7));
  EXPECT_EQ(g.attribute(5, "axis"), AttrValue(0));
  // What the builders make, so a file saved again is what a new graph would write.
  Graph fresh;
  const Expr a = fresh.input("a", Shape{3, 2}), b = fresh.input("b", Shape{4, 3});
  EXPECT_EQ(g.attrs_of(2), fresh.attrs_of(matmul(a, b, {.a = true, .b = true}).id()));
  EXPECT_EQ(g.attrs_of(5), fresh.attrs_of(max(a, 0).id()));
}

std::string v3_file_with(const std::string& node) {
  return R"({"format": "dagprop-graph", "version": 3, "nodes": [
    {"id": 0, "op": "input", "name": "a", "dtype": "float64", "shape": [3, 2]},
    {"id": 1, "op": "input", "name": "b", "dtype": "float64", "shape": [3, 4]},)" +
         node + "]}";
}

std::string load_error(const std::string& text) {
  return testing::error_message([&] { (void)read_graph(text); });
}

TEST(OpAttributes, VersionThreeFilesRefuseUnknownNamesAndWrongKinds) {
  EXPECT_NE(load_error(v3_file_with(R"({"id": 2, "op": "matmul", "name": "p", "dtype": "float64",
      "shape": [2, 4], "inputs": [0, 1], "attrs": {"transpose": true}})"))
                .find("node #2 'p' (op matmul): field 'attrs' names the attribute 'transpose', "
                      "which op matmul does not have; its attributes: transpose_a, transpose_b"),
            std::string::npos)
      << load_error(v3_file_with(R"({"id": 2, "op": "matmul", "name": "p", "dtype": "float64",
      "shape": [2, 4], "inputs": [0, 1], "attrs": {"transpose": true}})"));
  const std::string wrong_kind =
      load_error(v3_file_with(R"({"id": 2, "op": "matmul", "dtype": "float64", "shape": [2, 4],
      "inputs": [0, 1], "attrs": {"transpose_a": 1}})"));
  EXPECT_NE(wrong_kind.find("node #2 (op matmul): field 'attrs': field 'transpose_a'"),
            std::string::npos)
      << wrong_kind;
  EXPECT_NE(wrong_kind.find("must be true or false"), std::string::npos) << wrong_kind;
  // The raw fields of older versions are not names of a version 3 file.
  const std::string raw =
      load_error(v3_file_with(R"({"id": 2, "op": "sum", "dtype": "float64", "shape": [2],
      "inputs": [0], "attrs": {"axis": 0, "all_axes": false, "ints": [1]}})"));
  EXPECT_NE(raw.find("names the attribute 'ints', which op sum does not have; its attributes: "
                     "axis, keepdim, all_axes"),
            std::string::npos)
      << raw;
  const std::string range =
      load_error(v3_file_with(R"({"id": 2, "op": "transpose", "dtype": "float64", "shape": [2, 3],
      "inputs": [0], "attrs": {"axis_a": 4294967296}})"));
  EXPECT_NE(range.find("field 'attrs': field 'axis_a'"), std::string::npos) << range;
  EXPECT_NE(range.find("must lie in [-2147483648, 2147483647]"), std::string::npos) << range;
}

// Every op of the table, with its gradient ops (first and second order), as its builders and
// gradient rules make them: saved by name and loaded back, each node's attributes are the same.
TEST(OpAttributes, EveryBuiltInOpsAttributesRoundTripThroughAGraphFile) {
  for (const testing::OpCase& c : testing::op_cases()) {
    SCOPED_TRACE(c.op + ", " + c.label);
    Graph g;
    std::vector<Expr> wrt;
    const Expr y = c.build(g, wrt);
    if (c.expectation == testing::GradientExpectation::finite_differences) {
      const std::vector<Expr> first = grad(sum(y), wrt);
      Expr total = sum(first[0]);
      for (std::size_t i = 1; i < first.size(); ++i) total = total + sum(first[i]);
      (void)grad(total, wrt);
    }
    LoadedGraph loaded = read_graph(write_graph(g));
    ASSERT_EQ(loaded.graph->size(), g.size());
    for (NodeId id = 0; id < g.size(); ++id) {
      EXPECT_EQ(loaded.graph->attrs_of(id), g.attrs_of(id)) << g.describe(id) << " in\n"
                                                            << write_graph(g);
    }
  }
}

// A user op registered before attribute tables kept its parameters in raw fields: an old file of
// it loads with them intact (nothing is dropped unseen), and saving asks for a declaration.
TEST(OpAttributes, OlderFilesOfAnOpWithoutATableKeepTheirRawFields) {
  static const OpId id = OpRegistry::global().add(op_with("test_undeclared", {}));
  const std::string text = R"({"format": "dagprop-graph", "version": 2, "nodes": [
    {"id": 0, "op": "input", "name": "x", "dtype": "float64", "shape": [2]},
    {"id": 1, "op": "test_undeclared", "dtype": "float64", "shape": [2], "inputs": [0],
     "attrs": {"scalar": 0.5, "ints": [3]}}]})";
  LoadedGraph loaded = read_graph(text);
  EXPECT_EQ(loaded.graph->node(1).op, id);
  EXPECT_EQ(loaded.graph->attrs_of(1).scalar, 0.5);
  EXPECT_EQ(loaded.graph->attrs_of(1).ints, (std::vector<std::int64_t>{3}));
  EXPECT_THAT(
      [&] { (void)write_graph(*loaded.graph); },
      ::testing::ThrowsMessage<Error>(HasSubstr("holds attribute values its op does not declare")));
}

TEST(OpAttributes, AValueInAnUndeclaredFieldIsRefusedWhenSaving) {
  Graph g;
  const Expr x = g.input("x", Shape{2});
  OpAttrs stray;
  stray.axis = 3;  // relu has no attributes
  (void)g.apply("relu", std::span<const Expr>(&x, 1), stray);
  EXPECT_THAT([&] { (void)write_graph(g); },
              ::testing::ThrowsMessage<Error>(
                  HasSubstr("holds attribute values its op does not declare (its "
                            "attributes: none)")));
}

}  // namespace
}  // namespace dagprop
