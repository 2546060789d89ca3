// The picture before Graphviz sees it: which boxes are drawn, in which clusters, with which
// labels, and the edges between them. Private to engine/; dot.cpp turns it into a cgraph graph.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include <dagprop/dot.hpp>

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
  std::string label;           // DOT label text, already escaped
};

struct Cluster {
  std::uint32_t parent = 0;
  std::string label;  // escaped; empty for the top level
};

struct Edge {
  std::uint32_t from = 0, to = 0;  // Picture::boxes indices; data flows from -> to
  bool into_gradient = false;      // the consumer is a gradient node
};

struct Picture {
  std::vector<Cluster> clusters{Cluster{}};  // parents come before their children
  std::vector<Box> boxes;
  std::vector<Edge> edges;
  // log10 of the smallest and largest finite, non-zero gradient magnitude among the boxes.
  bool has_scale = false;
  double log_min = 0, log_max = 0;
};

Picture build(const Graph& graph, const DotOptions& options);

// Text for a DOT label: backslashes doubled, newlines as line breaks, '&' as an entity, control
// characters and invalid UTF-8 as U+FFFD. Quotes are left to cgraph's writer.
std::string escape_label(std::string_view text);

// Viridis (colour-blind safe, perceptually uniform) at t in [0, 1], as "#rrggbb".
std::string viridis(double t);
bool is_dark(double t);  // whether text on viridis(t) should be white

}  // namespace dagprop::picture
