// Pictures: labels with values and gradients, edge direction, escaping, filters, clusters,
// collapsed scopes, colours, problems, and rendering. Every DOT produced here is parsed back by
// Graphviz (parse_dot) and its node and edge counts checked.
#include <gtest/gtest.h>

#include <cmath>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <set>

#include <dagprop/dagprop.hpp>
#include <dagprop/dot.hpp>
#include <dagprop/snapshot.hpp>

#include "engine/dot_parse.hpp"
#include "engine/test_graphs.hpp"

namespace dagprop {
namespace {

using testing::parse_dot;
using testing::ParsedDot;

std::string node_name(Expr e) {
  return "n" + std::to_string(e.id());
}

// Parses the picture, checks its counts (one more node for the legend) and returns it.
ParsedDot parse_checked(const std::string& dot, int boxes, int edges, bool legend = true) {
  ParsedDot parsed = parse_dot(dot);
  EXPECT_TRUE(parsed.ok) << "Graphviz could not parse:\n" << dot;
  EXPECT_EQ(parsed.nodes, boxes + (legend ? 1 : 0)) << dot;
  EXPECT_EQ(parsed.edges, edges) << dot;
  return parsed;
}

TEST(Dot, SeedNeuronPictureShowsEveryValueAndGradient) {
  Graph g;
  const auto n = testing::build_seed_neuron(g);
  const Snapshot snapshot = trace_gradients(n.a);
  DotOptions options;
  options.snapshot = &snapshot;
  // x1, x2, w1, w2, b, two products, two sums, relu; the gradient nodes stay out.
  const ParsedDot dot = parse_checked(to_dot(g, options), 10, 9);
  EXPECT_EQ(dot.attribute(node_name(n.w1), "label"),
            "w1 : parameter\\nscalar float64\\nvalue 0.1\\ngrad 0.5");
  EXPECT_EQ(dot.attribute(node_name(n.x2), "label"),
            "#1 : constant\\nscalar float64\\nvalue 0.6\\ngrad 0.2");
  EXPECT_EQ(dot.attribute(node_name(n.a), "label"),
            "a : relu\\nscalar float64\\nvalue 0.47\\ngrad 1");
  EXPECT_EQ(dot.attribute(node_name(n.b), "shape"), "cylinder");
  EXPECT_EQ(dot.attribute(node_name(n.x1), "shape"), "ellipse");
  EXPECT_EQ(dot.attribute(node_name(n.a), "shape"), "box");
}

TEST(Dot, EdgesPointFromInputToConsumer) {
  Graph g;
  const Expr x = g.parameter("x", 2.0);
  const Expr y = g.set_name(exp(x), "y");
  const ParsedDot dot = parse_checked(to_dot(g), 2, 1);
  ASSERT_EQ(dot.edge_list.size(), 1u);
  EXPECT_EQ(dot.edge_list[0].first, node_name(x));
  EXPECT_EQ(dot.edge_list[0].second, node_name(y));
}

TEST(Dot, RepeatedInputDrawsOneEdgePerSlot) {
  Graph g;
  const Expr x = g.parameter("x", 3.0);
  (void)(x * x);
  parse_checked(to_dot(g), 2, 2);
}

TEST(Dot, NamesWithQuotesBackslashesNewlinesMarkupAndUnicodeSurviveGraphviz) {
  Graph g;
  const Expr quote = g.parameter("say \"hi\"", 1.0);
  const Expr trailing = g.parameter("ends in \\", 1.0);
  const Expr newline = g.parameter("two\nlines", 1.0);
  const Expr markup = g.parameter("<b>&amp;</b>", 1.0);
  const Expr unicode = g.parameter("\xCE\xB8_\xE2\x88\x87", 1.0);  // θ_∇
  const Expr invalid = g.parameter("bad\xFF\x01", 1.0);
  Expr scoped;
  {
    auto scope = g.scope("odd \"scope\\");
    scoped = g.parameter("w", 1.0);
  }
  DotOptions options;
  options.show_shapes = false;
  options.show_values = false;
  const ParsedDot dot = parse_checked(to_dot(g, options), 7, 0);
  EXPECT_EQ(dot.attribute(node_name(quote), "label"), "say \"hi\" : parameter");
  EXPECT_EQ(dot.attribute(node_name(trailing), "label"), "ends in \\\\ : parameter");
  EXPECT_EQ(dot.attribute(node_name(newline), "label"), "two\\nlines : parameter");
  EXPECT_EQ(dot.attribute(node_name(markup), "label"), "<b>&amp;amp;</b> : parameter");
  EXPECT_EQ(dot.attribute(node_name(unicode), "label"), "\xCE\xB8_\xE2\x88\x87 : parameter");
  EXPECT_EQ(dot.attribute(node_name(invalid), "label"), "bad\xEF\xBF\xBD\xEF\xBF\xBD : parameter");
  EXPECT_EQ(dot.attribute(node_name(scoped), "label"), "w : parameter");
  EXPECT_EQ(dot.clusters, 1);
}

TEST(Dot, ScopeNameEndingInBackslashStillParses) {
  Graph g;
  {
    auto scope = g.scope("trailing\\");
    (void)g.parameter("w", 1.0);
  }
  const ParsedDot dot = parse_checked(to_dot(g), 1, 0);
  EXPECT_EQ(dot.clusters, 1);
}

TEST(Dot, NodesWithoutValuesLeaveTheValueLineOut) {
  Graph g;
  const Expr x = g.input("x", Shape{3});
  const Expr y = g.set_name(tanh(x), "y");
  const ParsedDot dot = parse_checked(to_dot(g), 2, 1);
  EXPECT_EQ(dot.attribute(node_name(y), "label"), "y : tanh\\n[3] float64");
  EXPECT_EQ(dot.attribute(node_name(x), "label"), "x : input\\n[3] float64");
}

TEST(Dot, TensorValuesAreSummarizedByMinMeanMaxAndNorm) {
  Graph g;
  const Expr w =
      g.parameter("w", Tensor::from(std::vector<double>{3.0, -4.0, 0.0, 1.0}, Shape{2, 2}));
  const ParsedDot dot = parse_checked(to_dot(g), 1, 0);
  EXPECT_EQ(dot.attribute(node_name(w), "label"),
            "w : parameter\\n[2, 2] float64\\nvalue min -4 mean 0 max 3 L2 5.099");
}

TEST(Dot, ValuesOfIntermediateNodesComeFromTheLastRun) {
  Graph g;
  const Expr x = g.input("x", Shape{});
  const Expr y = g.set_name(x * 2.0, "y");
  g.run(y, {{x, Tensor::scalar(1.5)}});
  const ParsedDot dot = parse_checked(to_dot(g), 3, 2);
  EXPECT_EQ(dot.attribute(node_name(y), "label"), "y : mul\\nscalar float64\\nvalue 3");
  EXPECT_EQ(dot.attribute(node_name(x), "label"), "x : input\\nscalar float64\\nvalue 1.5");
}

TEST(Dot, GradientNodesAreLeftOutUnlessAskedForAndThenDrawnDashedBlue) {
  Graph g;
  const auto n = testing::build_seed_neuron(g);
  g.backward(n.a);
  const std::size_t forward_nodes = 10;
  parse_checked(to_dot(g), static_cast<int>(forward_nodes), 9);
  DotOptions options;
  options.include_gradient_nodes = true;
  int slots = 0;
  for (NodeId id = 0; id < g.size(); ++id) slots += static_cast<int>(g.inputs_of(id).size());
  const ParsedDot all = parse_checked(to_dot(g, options), static_cast<int>(g.size()), slots);
  int dashed_blue = 0;
  for (NodeId id = 0; id < g.size(); ++id) {
    const std::string name = "n" + std::to_string(id);
    const bool gradient = has_flag(g.node(id).flags, NodeFlags::gradient);
    EXPECT_EQ(all.attribute(name, "color") == "#0072B2", gradient) << name;
    dashed_blue += gradient ? 1 : 0;
  }
  EXPECT_GT(dashed_blue, 0);
}

TEST(Dot, FocusDrawsOnlyTheNodeAndItsAncestors) {
  Graph g;
  const auto n = testing::build_seed_neuron(g);
  // a = relu((w1 * x1 + w2 * x2) + b): walk down to w1 * x1.
  const NodeId sum = g.inputs_of(n.a.id())[0];
  const NodeId w1x1 = g.inputs_of(g.inputs_of(sum)[0])[0];
  DotOptions options;
  options.focus = w1x1;
  const ParsedDot dot = parse_checked(to_dot(g, options), 3, 2);
  EXPECT_EQ(dot.node_attributes.count(node_name(n.w1)), 1u);
  EXPECT_EQ(dot.node_attributes.count(node_name(n.w2)), 0u);
}

TEST(Dot, FocusOnAMissingNodeNamesIt) {
  Graph g;
  (void)g.parameter("w", 1.0);
  DotOptions options;
  options.focus = 7;
  EXPECT_EQ(testing::error_message([&] { (void)to_dot(g, options); }),
            "DotOptions::focus is node #7, but the graph has 1 nodes");
}

TEST(Dot, TopKKeepsTheNodesWithTheLargestGradients) {
  Graph g;
  const auto n = testing::build_seed_neuron(g);
  const Snapshot snapshot = trace_gradients(n.a);
  DotOptions options;
  options.snapshot = &snapshot;
  options.top_k = 3;
  // |grad|: a, the sums and b are 1; w2 0.6, w1 0.5, x2 0.2, x1 0.1. Ties go to the lower id.
  const ParsedDot dot = parse_checked(to_dot(g, options), 3, 0);
  EXPECT_EQ(dot.node_attributes.count(node_name(n.b)), 1u);
  EXPECT_EQ(dot.node_attributes.count(node_name(n.w1)), 0u);
}

TEST(Dot, ScopesBecomeNestedClusters) {
  Graph g;
  const auto m = testing::build_mlp(g);
  // x, labels; layer1: W, b, matmul, add, relu; layer2 the same with tanh; layer3 without an
  // activation; the loss. An edge per input slot.
  ASSERT_EQ(g.size(), 17u);
  const ParsedDot dot = parse_checked(to_dot(g), 17, 16);
  // mlp, mlp/layer1..3, loss
  EXPECT_EQ(dot.clusters, 5);
  EXPECT_EQ(dot.deepest_cluster, 2);
  (void)m;
}

TEST(Dot, UnclusteredPicturesShowFullNames) {
  Graph g;
  Expr w;
  {
    auto scope = g.scope("layer");
    w = g.parameter("W", 1.0);
  }
  DotOptions options;
  options.cluster_scopes = false;
  options.show_shapes = false;
  const ParsedDot dot = parse_checked(to_dot(g, options), 1, 0);
  EXPECT_EQ(dot.clusters, 0);
  EXPECT_EQ(dot.attribute(node_name(w), "label"), "layer/W : parameter\\nvalue 1");
}

TEST(Dot, CollapsedScopeIsOneBoxWithMergedEdges) {
  Graph g;
  const auto m = testing::build_mlp(g);
  DotOptions options;
  options.collapse = {"mlp/layer2"};
  // layer2 holds W, b, matmul, add, tanh: five nodes become one box, and its four inner edges go.
  const ParsedDot dot = parse_checked(to_dot(g, options), 17 - 5 + 1, 16 - 4);
  std::string box;
  for (const auto& [name, attributes] : dot.node_attributes) {
    if (name.starts_with("scope")) box = name;
  }
  EXPECT_EQ(dot.attribute(box, "shape"), "box3d");
  EXPECT_NE(dot.attribute(box, "label").find("mlp/layer2 (scope, 5 nodes)"), std::string::npos)
      << dot.attribute(box, "label");
  int into = 0, out_of = 0;
  for (const auto& [tail, head] : dot.edge_list) {
    into += head == box ? 1 : 0;
    out_of += tail == box ? 1 : 0;
  }
  EXPECT_EQ(into, 1);    // from relu of layer1
  EXPECT_EQ(out_of, 1);  // to matmul of layer3
  (void)m;
}

TEST(Dot, CollapsedMlpOnABatchAfterBackwardStaysUnderFiftyBoxes) {
  Graph g;
  const auto m = testing::build_mlp(g, 128);
  g.backward(m.loss, m.feeds());
  DotOptions options;
  options.collapse = {"*"};
  // x, labels and the boxes mlp and loss; x -> mlp, mlp -> loss, labels -> loss.
  const ParsedDot dot = parse_checked(to_dot(g, options), 4, 3);
  EXPECT_LT(dot.nodes, 50);

  // With the gradient nodes (built at the top level, outside the collapsed scopes): every node
  // stands for itself or for its top-level scope's box, and edges touching a box are merged.
  auto box_of = [&](NodeId id) {
    const std::string_view scope = g.scope_of(id);
    return scope.empty() ? "n" + std::to_string(id) : std::string(scope.substr(0, scope.find('/')));
  };
  std::set<std::string> boxes;
  std::set<std::pair<std::string, std::string>> merged;
  int edges = 0;
  for (NodeId id = 0; id < g.size(); ++id) {
    boxes.insert(box_of(id));
    for (const NodeId input : g.inputs_of(id)) {
      const std::string from = box_of(input), to = box_of(id);
      if (from == to) continue;
      const bool touches_box = !from.starts_with("n") || !to.starts_with("n");
      if (!touches_box || merged.insert({from, to}).second) ++edges;
    }
  }
  options.include_gradient_nodes = true;
  parse_checked(to_dot(g, options), static_cast<int>(boxes.size()), edges);
}

TEST(Dot, ColourFollowsGradientMagnitudeOnALogScale) {
  Graph g;
  const Expr small = g.parameter("small", 1.0);
  const Expr large = g.parameter("large", 1.0);
  const Expr middle = g.parameter("middle", 1.0);
  const Expr loss = small * 1e-3 + large * 1e3 + middle * 1.0;
  g.backward(loss);
  DotOptions options;
  options.focus = loss.id();
  options.top_k = 3;
  const ParsedDot dot = parse_checked(to_dot(g, options), 3, 0);
  EXPECT_EQ(dot.attribute(node_name(small), "fillcolor"), "#440154");   // viridis(0)
  EXPECT_EQ(dot.attribute(node_name(large), "fillcolor"), "#fde725");   // viridis(1)
  EXPECT_EQ(dot.attribute(node_name(middle), "fillcolor"), "#23908c");  // viridis(0.5)
  EXPECT_EQ(dot.attribute(node_name(small), "fontcolor"), "white");
}

TEST(Dot, ZeroGradientIsWhite) {
  Graph g;
  const Expr w = g.parameter("w", -1.0);
  g.backward(relu(w));
  const ParsedDot dot = parse_checked(to_dot(g), 2, 1);
  EXPECT_EQ(dot.attribute(node_name(w), "fillcolor"), "#ffffff");
}

TEST(Dot, AnomalyNodeIsRedWithItsReason) {
  Graph g;
  const Expr x = g.parameter("x", -1.0);
  const Expr y = g.set_name(log(x), "y");
  const Expr z = g.set_name(y * 2.0, "z");
  g.set_anomaly_mode(true);
  EXPECT_THROW(g.run(z), Error);
  ASSERT_EQ(g.anomaly_node(), y.id());
  const ParsedDot dot = parse_checked(to_dot(g), 4, 3);
  EXPECT_EQ(dot.attribute(node_name(y), "fillcolor"), "#D62728");
  EXPECT_NE(dot.attribute(node_name(y), "label").find("ANOMALY: the run's first NaN/Inf"),
            std::string::npos);
  EXPECT_EQ(dot.attribute(node_name(z), "label").find("ANOMALY"), std::string::npos);
}

// y = x^2 with a deliberately wrong gradient rule (dx = g * x instead of 2 g x).
OpId wrong_square_op() {
  static const OpId id = OpRegistry::global().add(OpDef{
      .name = "test_wrong_square",
      .arity = 1,
      .shape = [](const ShapeQuery& q) { return q.inputs[0]; },
      .forward_f64 =
          [](const KernelCall& c) {
            for (std::int64_t i = 0; i < c.output.numel(); ++i)
              c.output.as<double>()[i] = c.inputs[0].as<double>()[i] * c.inputs[0].as<double>()[i];
          },
      .vjp = [](GradContext& c) { c.set(0, c.grad_output() * c.input(0)); },
      .forward_doc = "y = x^2",
      .gradient_doc = "dx = g * x (wrong on purpose)"});
  return id;
}

TEST(Dot, FailingLocalGradientCheckIsRedWithTheReason) {
  Graph g;
  const Expr x = g.parameter("x", 1.5);
  const Expr y = g.apply(wrong_square_op(), std::vector<Expr>{x}, {}, "y");
  const Expr z = g.set_name(exp(y), "z");
  DotOptions options;
  options.local_gradient_failures = check_local_gradients(z);
  ASSERT_EQ(options.local_gradient_failures.size(), 1u);
  const ParsedDot dot = parse_checked(to_dot(g, options), 3, 2);
  EXPECT_EQ(dot.attribute(node_name(y), "fillcolor"), "#D62728");
  EXPECT_NE(dot.attribute(node_name(y), "label").find("LOCAL GRADIENT CHECK FAILED"),
            std::string::npos);
  EXPECT_NE(dot.attribute(node_name(z), "fillcolor"), "#D62728");
}

TEST(Dot, DeadReluUnitsAreMarkedWithTheirCount) {
  Graph g;
  const Expr x = g.input("x", Shape{4, 2});
  // Unit 1 gets a negative weight on positive inputs: zero on every row.
  const Expr w = g.parameter(
      "W", Tensor::from(std::vector<double>{1.0, -1.0, 1.0, 1.0, -1.0, 1.0}, Shape{2, 3}));
  const Expr h = g.set_name(relu(matmul(x, w)), "h");
  g.run(h, {{x, Tensor::full(Shape{4, 2}, 0.5)}});
  const ParsedDot dot = parse_checked(to_dot(g), 4, 3);
  EXPECT_NE(dot.attribute(node_name(h), "label").find("dead 1 of 3 units (zero on every row)"),
            std::string::npos);
  EXPECT_EQ(dot.attribute(node_name(h), "color"), "#E69F00");
}

TEST(Dot, SaturatedSigmoidAndTanhUnitsAreMarked) {
  Graph g;
  const Expr x = g.input("x", Shape{2, 2});
  const Expr s = g.set_name(sigmoid(x), "s");
  const Expr t = g.set_name(tanh(x), "t");
  // Column 0 is far from zero on both rows, column 1 is not.
  const Tensor value = Tensor::from(std::vector<double>{9.0, 0.1, -9.0, 0.2}, Shape{2, 2});
  g.run({s, t}, {{x, value}});
  const ParsedDot dot = parse_checked(to_dot(g), 3, 2);
  EXPECT_NE(dot.attribute(node_name(s), "label").find("saturated 1 of 2 units"), std::string::npos);
  EXPECT_NE(dot.attribute(node_name(t), "label").find("saturated 1 of 2 units"), std::string::npos);
  EXPECT_EQ(dot.attribute(node_name(s), "color"), "#CC79A7");
}

TEST(Dot, LegendShowsTheScaleAndCanBeLeftOut) {
  Graph g;
  const auto n = testing::build_seed_neuron(g);
  g.backward(n.a);
  const ParsedDot with = parse_checked(to_dot(g), 10, 9);
  EXPECT_NE(with.attribute("legend", "label").find("gradient RMS (log scale)"), std::string::npos);
  DotOptions options;
  options.legend = false;
  parse_checked(to_dot(g, options), 10, 9, false);
}

class RenderTest : public ::testing::Test {
 protected:
  std::filesystem::path directory_ =
      std::filesystem::temp_directory_path() /
      ("dagprop_render_" + std::to_string(::testing::UnitTest::GetInstance()->random_seed()) + "_" +
       ::testing::UnitTest::GetInstance()->current_test_info()->name());
  void SetUp() override { std::filesystem::create_directories(directory_); }
  void TearDown() override { std::filesystem::remove_all(directory_); }
  std::string head_of(const std::filesystem::path& file, std::size_t n) {
    std::ifstream in(file, std::ios::binary);
    std::string bytes(n, '\0');
    in.read(bytes.data(), static_cast<std::streamsize>(n));
    return bytes.substr(0, static_cast<std::size_t>(in.gcount()));
  }
};

TEST_F(RenderTest, WritesSvgPngPdfAndDotByExtension) {
  Graph g;
  const auto n = testing::build_seed_neuron(g);
  g.backward(n.a);
  render(g, (directory_ / "neuron.svg").string());
  render(g, (directory_ / "neuron.png").string());
  render(g, (directory_ / "neuron.pdf").string());
  render(g, (directory_ / "neuron.dot").string());
  EXPECT_NE(head_of(directory_ / "neuron.svg", 1000).find("<svg"), std::string::npos);
  EXPECT_EQ(head_of(directory_ / "neuron.png", 4), "\x89PNG");
  EXPECT_EQ(head_of(directory_ / "neuron.pdf", 4), "%PDF");
  std::ifstream dot_file(directory_ / "neuron.dot");
  const std::string dot((std::istreambuf_iterator<char>(dot_file)), {});
  EXPECT_EQ(dot, to_dot(g));
  parse_checked(dot, 10, 9);
}

TEST_F(RenderTest, UnknownExtensionIsRefusedWithTheFormatsItKnows) {
  Graph g;
  (void)g.parameter("w", 1.0);
  EXPECT_NE(testing::error_message([&] {
              render(g, (directory_ / "picture.jpeg").string());
            }).find("the extension '.jpeg' names no format; use .svg, .png, .pdf or .dot"),
            std::string::npos);
}

TEST_F(RenderTest, MissingDirectoryIsAnError) {
  Graph g;
  (void)g.parameter("w", 1.0);
  const std::string message =
      testing::error_message([&] { render(g, (directory_ / "no" / "such" / "dir.svg").string()); });
  EXPECT_NE(message.find("Graphviz could not render"), std::string::npos) << message;
  EXPECT_NE(message.find("Could not open"), std::string::npos) << message;
}

}  // namespace
}  // namespace dagprop
