// Pictures: labels with values and gradients, edge direction, escaping, filters, clusters,
// collapsed scopes, colours, problems, and rendering. Every DOT produced here is parsed back by
// Graphviz (parse_dot) and its node and edge counts checked.
#include <gtest/gtest.h>

#include <cmath>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <map>
#include <set>

#include <dagprop/dagprop.hpp>
#include <dagprop/dot.hpp>
#include <dagprop/snapshot.hpp>

#include "engine/dot_parse.hpp"
#include "engine/test_graphs.hpp"
#include "viz/dot_picture.hpp"

namespace dagprop {
namespace {

using testing::parse_dot;
using testing::ParsedDot;

std::string node_name(Expr e) {
  return "n" + std::to_string(e.id());
}

// Parses the picture, checks its counts (the legend is the graph's label, not a node) and
// returns it.
ParsedDot parse_checked(const std::string& dot, int boxes, int edges) {
  ParsedDot parsed = parse_dot(dot);
  EXPECT_TRUE(parsed.ok) << "Graphviz could not parse:\n" << dot;
  EXPECT_EQ(parsed.nodes, boxes) << dot;
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
            "a : relu\\nscalar float64\\nvalue 0.47\\ngrad 1 (the seed)");
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
  // |grad|: a, the products, the sums and b are 1; w2 0.6, w1 0.5, x2 0.2, x1 0.1. Ties go to
  // the lower id: b and the two products, none of which depends on another (no edges).
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

TEST(Dot, LegendIsACompactGraphLabelThatCanBeLeftOut) {
  Graph g;
  const auto n = testing::build_seed_neuron(g);
  g.backward(n.a);
  DotOptions options;
  options.title = "the neuron";
  const ParsedDot with = parse_checked(to_dot(g, options), 10, 9);
  const std::string legend = with.graph_attributes.at("label");
  EXPECT_NE(legend.find("gradient RMS (log):"), std::string::npos) << legend;
  EXPECT_NE(legend.find("the neuron"), std::string::npos) << legend;
  // Only the styles the picture uses: no gradient nodes, problems or dead units here.
  EXPECT_EQ(legend.find("gradient node"), std::string::npos) << legend;
  EXPECT_EQ(legend.find("dead units"), std::string::npos) << legend;
  EXPECT_EQ(legend.find("NaN/Inf"), std::string::npos) << legend;
  options.legend = false;
  const ParsedDot without = parse_checked(to_dot(g, options), 10, 9);
  EXPECT_EQ(without.graph_attributes.at("label"), "the neuron");
}

// The numbers of the legend's colour stops, in order.
std::vector<std::string> legend_stops(const ParsedDot& dot) {
  const std::string legend = dot.graph_attributes.at("label");
  std::vector<std::string> stops;
  for (std::size_t at = legend.find("bgcolor"); at != std::string::npos;
       at = legend.find("bgcolor", at + 1)) {
    const std::size_t start = legend.find("\">", legend.find("<font", at)) + 2;
    stops.push_back(legend.substr(start, legend.find("</font>", start) - start));
  }
  return stops;
}

TEST(Dot, FocusOnOneNodeGivesALegendWithDistinctStops) {
  Graph g;
  const auto m = testing::build_mlp(g);
  const Snapshot snapshot = trace_gradients(m.loss, m.feeds());
  DotOptions options;
  options.snapshot = &snapshot;
  options.focus = g.find("mlp/layer2/W").id();
  const std::vector<std::string> stops = legend_stops(parse_checked(to_dot(g, options), 1, 0));
  ASSERT_EQ(stops.size(), 5u);
  EXPECT_EQ(std::set<std::string>(stops.begin(), stops.end()).size(), 5u)
      << stops[0] << " " << stops[1] << " " << stops[2] << " " << stops[3] << " " << stops[4];
}

TEST(Dot, ColourScaleLeavesOutTheSeed) {
  Graph g;
  const auto m = testing::build_mlp(g);
  const Snapshot snapshot = trace_gradients(m.loss, m.feeds());
  DotOptions options;
  options.snapshot = &snapshot;
  const std::string dot = to_dot(g, options);
  const ParsedDot parsed = parse_checked(dot, 17, 16);
  EXPECT_NE(parsed.attribute(node_name(m.loss), "label").find("grad 1 (the seed)"),
            std::string::npos);
  // The parameters' and activations' gradients (about 1e-3 to 1e-2) take the scale: at least
  // four colours among them, and its top stop is theirs, well below the seed's 1.
  std::set<std::string> fills;
  for (NodeId id = 0; id < g.size(); ++id) {
    if (g.is_input(id) || id == m.loss.id()) continue;
    fills.insert(parsed.attribute("n" + std::to_string(id), "fillcolor"));
  }
  EXPECT_GE(fills.size(), 4u) << dot;
  EXPECT_EQ(parsed.attribute(node_name(m.loss), "fillcolor"), "#f2f2f2") << "the seed is neutral";
  const std::vector<std::string> stops = legend_stops(parsed);
  ASSERT_EQ(stops.size(), 5u);
  EXPECT_LT(std::stod(stops.back()), 0.5) << stops.back();
  EXPECT_NE(parsed.graph_attributes.at("label").find("the seed"), std::string::npos);
}

TEST(Dot, OperandsOfNonCommutativeOpsAreLabelled) {
  Graph g;
  const Expr a = g.parameter("a", 2.0), b = g.parameter("b", 5.0);
  const Expr numerator = g.set_name(b - a, "b_minus_a");
  const Expr denominator = g.set_name(a - b, "a_minus_b");
  const Expr ratio = g.set_name(numerator / denominator, "ratio");
  const Expr total = g.set_name(a + b, "total");
  const ParsedDot dot = parse_checked(to_dot(g), 6, 8);
  std::map<std::pair<std::string, std::string>, std::string> labels;
  for (std::size_t e = 0; e < dot.edge_list.size(); ++e) {
    const auto it = dot.edge_attributes[e].find("label");
    labels[dot.edge_list[e]] = it == dot.edge_attributes[e].end() ? "" : it->second;
  }
  EXPECT_EQ((labels[{node_name(numerator), node_name(ratio)}]), "numerator");
  EXPECT_EQ((labels[{node_name(denominator), node_name(ratio)}]), "denominator");
  EXPECT_EQ((labels[{node_name(b), node_name(numerator)}]), "+");
  EXPECT_EQ((labels[{node_name(a), node_name(numerator)}]), "\xE2\x88\x92");  // minus sign
  EXPECT_EQ((labels[{node_name(a), node_name(denominator)}]), "+");
  EXPECT_EQ((labels[{node_name(a), node_name(total)}]), "");  // add is commutative
}

TEST(Dot, EveryBuiltInOpOfSeveralInputsEitherCommutesOrNamesItsOperands) {
  // The names are the op's own declaration (OpDef::operand_names): a built-in op of two or more
  // inputs without them fails here, not in someone's picture.
  std::size_t named = 0;
  for (OpId op = 0; op < OpRegistry::global().size(); ++op) {
    const OpDef& def = OpRegistry::global()[op];
    if (def.arity >= 0 && def.arity < 2) continue;
    const std::size_t inputs = def.arity < 0 ? 3 : static_cast<std::size_t>(def.arity);
    const auto names = picture::operand_names(def, inputs);
    if (def.commutative) {
      EXPECT_TRUE(names.empty()) << def.name;
      continue;
    }
    ASSERT_EQ(names.size(), inputs) << def.name;
    EXPECT_EQ(std::set<std::string>(names.begin(), names.end()).size(), names.size()) << def.name;
    if (def.name == "concat") continue;  // any number of inputs, all alike: "input k" says it
    EXPECT_FALSE(def.operand_names.empty()) << def.name << " declares no operand_names";
    ++named;
  }
  EXPECT_GE(named, 35u);
}

TEST(Dot, OpsDeclareTheirUnitKindForUnitHealth) {
  const auto units = [](std::string_view name) {
    return OpRegistry::global()[OpRegistry::global().id_of(name)].units;
  };
  EXPECT_EQ(units("relu"), UnitKind::rectifier);
  EXPECT_EQ(units("step"), UnitKind::rectifier);
  EXPECT_EQ(units("sigmoid"), UnitKind::sigmoid);
  EXPECT_EQ(units("tanh"), UnitKind::tanh);
  EXPECT_EQ(units("add"), UnitKind::none);
}

TEST(Dot, OperandNamesThatDoNotMatchTheArityAreRefusedWhenTheOpIsAdded) {
  OpDef def = OpRegistry::global()[OpRegistry::global().id_of("sub")];
  def.name = "sub_with_three_names";
  def.operand_names = "a, b, c";
  try {
    OpRegistry::global().add(def);
    FAIL() << "three names for two inputs were accepted";
  } catch (const Error& e) {
    EXPECT_NE(std::string(e.what()).find("op 'sub_with_three_names' names 3 operands ('a, b, c') "
                                         "for 2 inputs"),
              std::string::npos)
        << e.what();
  }
}

TEST(Dot, TopKKeepsEdgesThroughLeftOutNodesDashedWithTheirCount) {
  Graph g;
  const Expr w = g.parameter("w", 1.0);
  const Expr up = g.set_name(scale(w, 1e3), "up");         // its gradient: 1e-3
  const Expr down = g.set_name(scale(up, 1e-6), "down");   // 1e3
  const Expr loss = g.set_name(scale(down, 1e3), "loss");  // 1 (the seed)
  const Expr tiny = g.set_name(scale(up, 1e-9), "tiny");   // no gradient: not on the loss' path
  (void)tiny;
  const Snapshot snapshot = trace_gradients(loss);
  DotOptions options;
  options.snapshot = &snapshot;
  options.top_k = 2;  // down (1e3) and w (1, before the loss by id); `up` is left out
  const ParsedDot dot = parse_checked(to_dot(g, options), 2, 1);
  ASSERT_EQ(dot.edge_list.size(), 1u);
  EXPECT_EQ(dot.edge_list[0], std::make_pair(node_name(w), node_name(down)));
  EXPECT_EQ(dot.edge_attributes[0].at("style"), "dashed");
  EXPECT_EQ(dot.edge_attributes[0].at("label"), "1 left out");
}

TEST(Dot, TopKCountsEveryLeftOutNodeOnThePath) {
  Graph g;
  const Expr w = g.parameter("w", 1.0);                 // its gradient: 1
  const Expr u1 = scale(w, 1e3);                        // 1e-3
  const Expr u2 = scale(u1, 1.0);                       // 1e-3
  const Expr d = g.set_name(scale(u2, 1e-6), "d");      // 1e3
  const Expr loss = g.set_name(scale(d, 1e3), "loss");  // 1 (the seed)
  const Snapshot snapshot = trace_gradients(loss);
  DotOptions options;
  options.snapshot = &snapshot;
  options.top_k = 2;  // d, then w (tied with the loss, and first by id)
  const ParsedDot dot = parse_checked(to_dot(g, options), 2, 1);
  ASSERT_EQ(dot.edge_list.size(), 1u);
  EXPECT_EQ(dot.edge_list[0], std::make_pair(node_name(w), node_name(d)));
  EXPECT_EQ(dot.edge_attributes[0].at("label"), "2 left out");
}

TEST(Dot, GradientGraphIsDrawnAsAMirrorBesideTheForwardGraph) {
  Graph g;
  const auto n = testing::build_seed_neuron(g);
  g.backward(n.a);
  DotOptions options;
  options.include_gradient_nodes = true;
  int slots = 0;
  for (NodeId id = 0; id < g.size(); ++id) slots += static_cast<int>(g.inputs_of(id).size());
  const ParsedDot dot = parse_checked(to_dot(g, options), static_cast<int>(g.size()), slots);
  int backward = 0, references = 0;
  for (std::size_t e = 0; e < dot.edge_list.size(); ++e) {
    const auto id_of = [](const std::string& name) { return std::stoul(name.substr(1)); };
    const NodeId tail = static_cast<NodeId>(id_of(dot.edge_list[e].first));
    const NodeId head = static_cast<NodeId>(id_of(dot.edge_list[e].second));
    const bool tail_gradient = has_flag(g.node(tail).flags, NodeFlags::gradient);
    const bool head_gradient = has_flag(g.node(head).flags, NodeFlags::gradient);
    const auto& attributes = dot.edge_attributes[e];
    if (tail_gradient && head_gradient) {
      // Drawn from the consumer back to its producer, the arrow at the tail.
      ++backward;
      EXPECT_GT(tail, head);
      EXPECT_EQ(attributes.at("dir"), "back");
    } else if (head_gradient) {
      ++references;
      EXPECT_EQ(attributes.at("style"), "dotted");
      EXPECT_EQ(attributes.at("minlen"), "0");
    }
  }
  EXPECT_GT(backward, 0);
  EXPECT_GT(references, 0);
  EXPECT_NE(dot.graph_attributes.at("label").find("gradient node"), std::string::npos);
}

TEST(Dot, RankDirectionFollowsTheGraphsShape) {
  {
    Graph g;
    const auto m = testing::build_mlp(g);
    const Snapshot snapshot = trace_gradients(m.loss, m.feeds());
    DotOptions options;
    options.snapshot = &snapshot;
    // Few ranks of wide labels: top to bottom.
    EXPECT_EQ(parse_dot(to_dot(g, options)).graph_attributes.at("rankdir"), "TB");
    options.rankdir = "LR";
    EXPECT_EQ(parse_dot(to_dot(g, options)).graph_attributes.at("rankdir"), "LR");
  }
  {
    // Twenty-four leaves feeding one sum: one wide rank, left to right.
    Graph g;
    Expr sum = g.parameter("p0", 1.0) * g.parameter("q0", 1.0);
    for (int i = 1; i < 12; ++i) {
      sum = sum +
            g.parameter("p" + std::to_string(i), 1.0) * g.parameter("q" + std::to_string(i), 1.0);
    }
    EXPECT_EQ(parse_dot(to_dot(g)).graph_attributes.at("rankdir"), "LR");
  }
}

TEST(Dot, UnknownRankDirectionNamesTheValidOnes) {
  Graph g;
  (void)g.parameter("w", 1.0);
  DotOptions options;
  options.rankdir = "sideways";
  EXPECT_EQ(testing::error_message([&] { (void)to_dot(g, options); }),
            "DotOptions::rankdir is 'sideways'; use auto, LR (left to right), RL, TB (top to "
            "bottom) or BT");
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

// Width and height in pixels, from the PNG header (IHDR comes first, big-endian).
std::pair<std::uint32_t, std::uint32_t> png_size(const std::string& header) {
  const auto word = [&](std::size_t at) {
    std::uint32_t value = 0;
    for (std::size_t i = 0; i < 4; ++i)
      value = value << 8 | static_cast<unsigned char>(header.at(at + i));
    return value;
  };
  return {word(16), word(20)};
}

TEST_F(RenderTest, MlpPictureFitsAPageAndShowsItsLabels) {
  Graph g;
  const auto m = testing::build_mlp(g);
  const Snapshot snapshot = trace_gradients(m.loss, m.feeds());
  DotOptions options;
  options.snapshot = &snapshot;
  options.title = "MLP 4-8-8-3";
  render(g, (directory_ / "mlp.png").string(), options);
  render(g, (directory_ / "mlp.svg").string(), options);
  const auto [width, height] = png_size(head_of(directory_ / "mlp.png", 24));
  const double aspect = static_cast<double>(width) / height;
  // Was 4.2 (5024 x 1186 for the demo's smaller MLP) when every picture ran left to right.
  EXPECT_GT(aspect, 0.5) << width << "x" << height;
  EXPECT_LT(aspect, 2.5) << width << "x" << height;
  EXPECT_LT(std::max(width, height), 2600u) << width << "x" << height;
  std::string svg = head_of(directory_ / "mlp.svg", 1 << 20);
  for (std::size_t at = svg.find("&#45;"); at != std::string::npos; at = svg.find("&#45;", at))
    svg.replace(at, 5, "-");
  for (const char* text : {"MLP 4-8-8-3", "layer1", "W : parameter", "cross_entropy",
                           "grad 1 (the seed)", "gradient RMS (log):", "logits", "labels"}) {
    EXPECT_NE(svg.find(text), std::string::npos) << text;
  }
}

TEST_F(RenderTest, SeedNeuronAndItsBackwardGraphFitAPage) {
  Graph g;
  const auto n = testing::build_seed_neuron(g);
  g.backward(n.a);
  DotOptions options;
  options.include_gradient_nodes = true;
  render(g, (directory_ / "backward.png").string(), options);
  render(g, (directory_ / "backward.svg").string(), options);
  const auto [width, height] = png_size(head_of(directory_ / "backward.png", 24));
  const double aspect = static_cast<double>(width) / height;
  EXPECT_GT(aspect, 0.4) << width << "x" << height;
  EXPECT_LT(aspect, 3.0) << width << "x" << height;
  const std::string svg = head_of(directory_ / "backward.svg", 1 << 20);
  for (const char* text : {"relu_grad", "w1 : parameter", "gradient node"})
    EXPECT_NE(svg.find(text), std::string::npos) << text;
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
