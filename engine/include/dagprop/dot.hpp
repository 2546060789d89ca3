// Pictures of a graph in DOT: each node's op, shape, value and gradient, coloured by gradient
// magnitude, with name scopes as clusters and problems drawn where they are (the node anomaly mode
// stopped at, failing local gradient checks, dead and saturated units). Built with Graphviz's
// cgraph and rendered in-process by its gvc library. Calls into Graphviz are serialized.
#pragma once

#include <cstddef>
#include <string>
#include <vector>

#include <dagprop/export.hpp>
#include <dagprop/gradcheck.hpp>
#include <dagprop/graph.hpp>
#include <dagprop/snapshot.hpp>

DAGPROP_API_BEGIN
namespace dagprop {

struct DotOptions {
  // ---- what a node's label shows (a scalar's value and gradient, a tensor's min, mean, max and
  // L2 norm); nodes with no value or gradient simply leave the line out
  bool show_shapes = true;  // shape and dtype
  bool show_values = true;
  bool show_gradients = true;
  // Feature maps and kernels as heatmaps inside their boxes, for nodes holding a rank-4 tensor:
  // up to this many maps each (an activation [N, C, H, W]: the channels of its first example; a
  // parameter [out, in, kh, kw]: each output kernel's first input channel), the values in one row
  // and their gradients in the row below, on a blue-white-red scale symmetric about 0. 0: none.
  std::size_t heatmaps = 0;
  // Maps more than this many cells wide or tall are averaged over square blocks (28x28 at 16
  // becomes 14x14).
  std::size_t heatmap_side = 16;

  // ---- which nodes are drawn, in this order of filters
  // Only this node and the nodes it depends on (kNoNode: every node).
  NodeId focus = kNoNode;
  // Nodes built by grad() (NodeFlags::gradient), drawn with blue dashed borders. Always drawn
  // when the focus is one of them. The backward graph is laid out as a mirror beside the forward
  // one: gradient edges point from the loss back to the parameters, and each gradient node sits
  // beside the forward values it reads (thin dotted edges), which belong to the node whose
  // gradient it computes.
  bool include_gradient_nodes = false;
  // Only the k nodes with the largest gradients (root mean square; NaN ranks first); 0: no limit.
  // Two drawn nodes connected through left-out ones get a dashed edge saying how many were left
  // out on the shortest such path.
  std::size_t top_k = 0;

  // ---- scopes
  bool cluster_scopes = true;  // name scopes become clusters, nested scopes nested clusters
  // Scopes drawn as one box each (with their inner scopes); "*" collapses every top-level scope.
  std::vector<std::string> collapse;

  // ---- problems and health
  std::vector<LocalGradientFailure> local_gradient_failures;  // check_local_gradients()
  // A sigmoid unit is saturated when every row is below 1 - t or above t, a tanh unit when every
  // |y| is above t. Units are the last axis of a batch (rank >= 2) or the elements of a vector.
  double saturation_threshold = 0.99;

  // ---- data beside the graph: trace_gradients() or a loaded file; consulted before the graph
  const Snapshot* snapshot = nullptr;

  // ---- layout
  // "auto": the direction whose estimated picture is nearest a page's proportions (a deep chain
  // runs left to right, a wide layered network top to bottom); or "LR", "RL", "TB", "BT".
  std::string rankdir = "auto";
  // A compact key under the picture (the graph's label, so it never moves a node): the colour
  // scale, then only the styles the picture uses.
  bool legend = true;
  std::string title;
};

// The picture as DOT text (Graphviz's own writer, so it parses back with any Graphviz tool).
std::string to_dot(const Graph& graph, const DotOptions& options = {});

// Draws the picture into a file whose extension picks the format: .svg, .png or .pdf (laid out by
// dot and rendered in-process; large graphs take long to lay out, so collapse scopes), or .dot.
void render(const Graph& graph, const std::string& path, const DotOptions& options = {});

}  // namespace dagprop
DAGPROP_API_END
