// The picture before Graphviz sees it: which boxes are drawn, in which clusters, with which
// labels, and the edges between them. Private to engine/; dot.cpp turns it into a cgraph graph.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include <dagprop/dot.hpp>
#include <dagprop/op_def.hpp>

namespace dagprop::picture {

enum class BoxKind : std::uint8_t { op, parameter, input, constant, scope };

struct Box {
  NodeId node = kNoNode;      // kNoNode for a collapsed scope
  std::uint32_t cluster = 0;  // Picture::clusters index; 0 is the top level
  BoxKind kind = BoxKind::op;
  bool gradient_node = false;  // built by grad()
  bool problem = false;        // anomaly origin or failing local gradient check
  bool dead = false;           // has dead units
  bool saturated = false;      // has saturated units
  double magnitude = -1;       // gradient RMS; -1 when unknown, NaN when not finite
  // What sets the colour: the magnitude of a parameter or an activation (an op inside the graph);
  // -1 for inputs, constants and outputs. An output's gradient is the seed (d loss / d loss = 1),
  // which would otherwise stretch the scale so that everything else shares its darkest colour.
  double scale_magnitude = -1;
  bool seed = false;  // an output whose gradient is known: the seed of the backward pass
  std::string label;  // DOT label text, already escaped
  // With heatmaps: the whole label as an HTML-like table (text over maps); drawn instead of label.
  std::string html_label;
};

struct Cluster {
  std::uint32_t parent = 0;
  std::string label;  // escaped; empty for the top level
};

struct Edge {
  std::uint32_t from = 0, to = 0;  // Picture::boxes indices; data flows from -> to
  bool into_gradient = false;      // the consumer is a gradient node
  // Both ends are gradient nodes: gradients flow from the loss back to the parameters, so the
  // layout draws these against the forward direction, mirroring the forward graph beside it.
  bool backward = false;
  // A forward value read by a gradient node (tanh_grad reads tanh's output): the layout keeps
  // the gradient node beside it.
  bool reference = false;
  // Which operand of a non-commutative op (sub: "+" and "-", div: numerator and denominator);
  // empty for commutative ops and single inputs.
  std::string operand;
  // top_k: nodes left out on the shortest path between two drawn ones (0: a direct edge).
  std::int64_t elided = 0;
};

struct Picture {
  std::vector<Cluster> clusters{Cluster{}};  // parents come before their children
  std::vector<Box> boxes;
  std::vector<Edge> edges;
  // log10 of the smallest and largest finite, non-zero scale_magnitude among the boxes, widened to
  // at least kMinScaleDecades so that a lone value still gets a legend with distinct stops.
  bool has_scale = false;
  double log_min = 0, log_max = 0;
  bool has_seed = false, has_gradient_nodes = false, has_problems = false, has_dead = false,
       has_saturated = false, has_elided = false, has_operands = false;
};
inline constexpr double kMinScaleDecades = 1.0;

Picture build(const Graph& graph, const DotOptions& options);

// The operand names an op's edges carry, as the op declares them (OpDef::operand_names:
// "numerator", "denominator"), or an empty list for commutative ops (add, mul) and ops of one
// input. Inputs the op does not name are labelled "input 1", ...
std::vector<std::string> operand_names(const OpDef& def, std::size_t inputs);

// Where a box falls on the colour scale, in [0, 1] (values beyond the scale are clamped).
double scale_position(const Picture& picture, double magnitude);

// The picture's layout, estimated from its boxes' label sizes and their ranks (longest path): the
// rank direction whose bounding box is nearest a page's proportions.
struct LayoutEstimate {
  double width = 0, height = 0;  // points
  double aspect() const { return width > 0 && height > 0 ? width / height : 1.0; }
};
LayoutEstimate estimate_layout(const Picture& picture, const std::string& rankdir);
std::string choose_rankdir(const Picture& picture);

// Text for a DOT label: backslashes doubled, newlines as line breaks, '&' as an entity, control
// characters and invalid UTF-8 as U+FFFD. Quotes are left to cgraph's writer.
std::string escape_label(std::string_view text);
// The same text for an HTML-like label: &, <, > and " as entities, line breaks as <br/>.
std::string escape_html(std::string_view text);

// Viridis (colour-blind safe, perceptually uniform) at t in [0, 1], as "#rrggbb".
std::string viridis(double t);
bool is_dark(double t);  // whether text on viridis(t) should be white

}  // namespace dagprop::picture
