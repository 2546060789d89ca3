// Choosing and labelling what a picture shows: filters (focus, gradient nodes, top-k), collapsed
// scopes, clusters, labels with values and gradients, and unit health. One pass over node ids:
// ids are already a topological order, so nothing here recurses over the graph.
#include "dot_picture.hpp"

#include <algorithm>
#include <array>
#include <cmath>
#include <cstdio>
#include <limits>
#include <map>
#include <unordered_map>
#include <unordered_set>

#include <dagprop/error.hpp>
#include <dagprop/op_def.hpp>
#include <dagprop/ops.hpp>
#include "../plan.hpp"

#include "heatmap.hpp"
#include "tensor_summary.hpp"

namespace dagprop::picture {
namespace {

constexpr std::string_view kReplacement = "\xEF\xBF\xBD";  // U+FFFD

// Length of the valid UTF-8 sequence starting at text[i], or 0 if it is not one.
std::size_t utf8_sequence_length(std::string_view text, std::size_t i) {
  const auto byte = [&](std::size_t k) { return static_cast<unsigned char>(text[k]); };
  const unsigned char lead = byte(i);
  std::size_t length = 0;
  std::uint32_t min_code = 0;
  if (lead >= 0xC2 && lead <= 0xDF) {
    length = 2, min_code = 0x80;
  } else if (lead >= 0xE0 && lead <= 0xEF) {
    length = 3, min_code = 0x800;
  } else if (lead >= 0xF0 && lead <= 0xF4) {
    length = 4, min_code = 0x10000;
  } else {
    return 0;
  }
  if (i + length > text.size()) return 0;
  std::uint32_t code = lead & (0x7F >> length);
  for (std::size_t k = 1; k < length; ++k) {
    if ((byte(i + k) & 0xC0) != 0x80) return 0;
    code = code << 6 | (byte(i + k) & 0x3F);
  }
  const bool surrogate = code >= 0xD800 && code <= 0xDFFF;
  return code < min_code || code > 0x10FFFF || surrogate ? 0 : length;
}

// A label never ends in a backslash: Graphviz's writer would emit it before the closing quote,
// where its reader takes it for an escaped quote.
void end_label(std::string& label) {
  if (!label.empty() && label.back() == '\\') label += ' ';
}

std::string wrap(std::string_view text, std::size_t width) {
  std::string out;
  std::size_t column = 0;
  while (!text.empty()) {
    const std::size_t space = text.find(' ');
    const std::string_view word = text.substr(0, space);
    if (column > 0 && column + 1 + word.size() > width) {
      out += '\n';
      column = 0;
    } else if (column > 0) {
      out += ' ';
      ++column;
    }
    out += word;
    column += word.size();
    text = space == std::string_view::npos ? std::string_view{} : text.substr(space + 1);
  }
  return out;
}

BoxKind kind_of(const Graph& graph, NodeId id) {
  if (graph.is_parameter(id)) return BoxKind::parameter;
  if (graph.is_input(id)) return BoxKind::input;
  if (graph.is_constant(id)) return BoxKind::constant;
  return BoxKind::op;
}

double gradient_magnitude(const Graph& graph, const Snapshot* snapshot, NodeId id) {
  const std::optional<TensorView> gradient = latest_gradient(graph, snapshot, id);
  return gradient ? summarize(*gradient).rms : -1.0;
}

// Ranks NaN above everything: a non-finite gradient is what a reader most needs to find.
double rank_key(double magnitude) {
  return std::isnan(magnitude) ? INFINITY : magnitude;
}

// ---------------------------------------------------------------- the builder

class Builder {
 public:
  Builder(const Graph& graph, const DotOptions& options) : graph_(graph), options_(options) {
    for (const LocalGradientFailure& failure : options.local_gradient_failures) {
      if (failure.node >= graph.size()) {
        throw Error("DotOptions::local_gradient_failures names node #" +
                    std::to_string(failure.node) + ", but the graph has " +
                    std::to_string(graph.size()) + " nodes; pass failures of this graph");
      }
      failures_[failure.node].push_back(failure.reason);
    }
    for (const std::string& scope : options.collapse) {
      if (scope.empty()) throw Error("DotOptions::collapse holds an empty scope name");
      collapse_.insert(scope);
    }
  }

  Picture build() {
    select();
    mark_after_anomaly();
    boxes_of_node_.assign(graph_.size(), kNone);
    for (NodeId id = 0; id < graph_.size(); ++id) {
      if (selected_[id]) place(id);
    }
    for (std::size_t b = 0; b < picture_.boxes.size(); ++b) {
      if (picture_.boxes[b].kind == BoxKind::scope) finish_scope_box(b);
    }
    connect();
    scale();
    return std::move(picture_);
  }

 private:
  static constexpr std::uint32_t kNone = 0xFFFFFFFF;
  static constexpr int kMaxClusterDepth = 32;

  struct ScopeBox {  // what a collapsed scope box sums up
    std::string name;
    std::map<OpId, std::int64_t> ops;
    std::int64_t nodes = 0, parameters = 0, parameter_elements = 0;
    UnitHealth health;
    std::vector<std::string> problems;
  };

  // Focus, gradient nodes, then top-k.
  void select() {
    const std::size_t n = graph_.size();
    selected_.assign(n, 1);
    bool include_gradient_nodes = options_.include_gradient_nodes;
    if (options_.focus != kNoNode) {
      if (options_.focus >= n) {
        throw Error("DotOptions::focus is node #" + std::to_string(options_.focus) +
                    ", but the graph has " + std::to_string(n) + " nodes");
      }
      selected_.assign(n, 0);
      for (const NodeId id : topological_order(graph_, {options_.focus})) selected_[id] = 1;
      include_gradient_nodes = include_gradient_nodes ||
                               has_flag(graph_.node(options_.focus).flags, NodeFlags::gradient);
    }
    magnitude_.assign(n, -1.0);
    std::vector<NodeId> ranked;
    for (NodeId id = 0; id < n; ++id) {
      if (!include_gradient_nodes && has_flag(graph_.node(id).flags, NodeFlags::gradient))
        selected_[id] = 0;
      if (!selected_[id]) continue;
      magnitude_[id] = gradient_magnitude(graph_, options_.snapshot, id);
      if (magnitude_[id] != -1.0) ranked.push_back(id);
    }
    consumed_by_forward_.assign(n, 0);
    for (NodeId id = 0; id < n; ++id) {
      if (has_flag(graph_.node(id).flags, NodeFlags::gradient)) continue;
      for (const NodeId input : graph_.inputs_of(id)) consumed_by_forward_[input] = 1;
    }
    if (options_.top_k == 0) return;
    candidates_ = selected_;
    const std::size_t k = std::min(options_.top_k, ranked.size());
    std::partial_sort(ranked.begin(), ranked.begin() + static_cast<std::ptrdiff_t>(k), ranked.end(),
                      [&](NodeId a, NodeId b) {
                        const double ka = rank_key(magnitude_[a]), kb = rank_key(magnitude_[b]);
                        return ka != kb ? ka > kb : a < b;
                      });
    selected_.assign(n, 0);
    for (std::size_t i = 0; i < k; ++i) selected_[ranked[i]] = 1;
  }

  // The nodes that depend on the anomaly node did not run in the failed run: their values are
  // stale, so labels leave them out. Ids are a topological order, so one forward scan finds them.
  void mark_after_anomaly() {
    after_anomaly_.assign(graph_.size(), 0);
    const NodeId anomaly = graph_.anomaly_node();
    if (anomaly >= graph_.size()) return;
    for (NodeId id = anomaly + 1; id < graph_.size(); ++id) {
      for (const NodeId input : graph_.inputs_of(id)) {
        if (input == anomaly || after_anomaly_[input]) after_anomaly_[id] = 1;
      }
    }
  }

  // The cluster for a scope path, creating it and its parents from the outermost down (a loop:
  // scopes read from a file can nest arbitrarily deep). Graphviz recurses over nested clusters, so
  // scopes deeper than kMaxClusterDepth share the cluster at that depth.
  std::uint32_t cluster_of(std::string_view scope) {
    if (scope.empty() || !options_.cluster_scopes) return 0;
    if (const auto it = clusters_.find(scope); it != clusters_.end()) return it->second;
    std::uint32_t cluster = 0;
    std::size_t start = 0;
    for (int depth = 0; depth < kMaxClusterDepth && start != std::string_view::npos; ++depth) {
      const std::size_t end = scope.find('/', start);
      const std::string_view prefix = scope.substr(0, end);
      auto it = clusters_.find(prefix);
      if (it == clusters_.end()) {
        std::string label = escape_label(prefix.substr(start));
        end_label(label);
        picture_.clusters.push_back({cluster, std::move(label)});
        it = clusters_
                 .emplace(std::string(prefix),
                          static_cast<std::uint32_t>(picture_.clusters.size() - 1))
                 .first;
      }
      cluster = it->second;
      start = end == std::string_view::npos ? end : end + 1;
    }
    return cluster;
  }

  // Where a node of this scope goes: the outermost collapsed scope containing it (a path prefix),
  // else the scope's cluster. Cached per interned scope, so a node costs one lookup.
  struct Placement {
    std::string_view collapsed;
    std::uint32_t cluster = 0;
  };
  const Placement& placement_of(NodeId id) {
    const std::uint32_t scope_id = graph_.node(id).scope_id;
    if (const auto it = placements_.find(scope_id); it != placements_.end()) return it->second;
    const std::string_view scope = graph_.scope_of(id);
    Placement placement;
    placement.collapsed = collapsed_prefix(scope);
    if (placement.collapsed.empty()) placement.cluster = cluster_of(scope);
    return placements_.emplace(scope_id, placement).first->second;
  }

  std::string_view collapsed_prefix(std::string_view scope) const {
    if (collapse_.empty() || scope.empty()) return {};
    if (collapse_.contains("*")) return scope.substr(0, scope.find('/'));
    for (std::size_t end = 0;; ++end) {
      end = scope.find('/', end);
      const std::string_view prefix = scope.substr(0, end);
      if (collapse_.contains(std::string(prefix))) return prefix;
      if (end == std::string_view::npos) return {};
    }
  }

  void place(NodeId id) {
    const Placement& placement = placement_of(id);
    if (!placement.collapsed.empty()) {
      boxes_of_node_[id] = scope_box(placement.collapsed);
      add_to_scope_box(boxes_of_node_[id], id);
      return;
    }
    Box box;
    box.node = id;
    box.cluster = placement.cluster;
    box.kind = kind_of(graph_, id);
    box.gradient_node = has_flag(graph_.node(id).flags, NodeFlags::gradient);
    box.magnitude = magnitude_[id];
    box.seed = is_seed(id);
    box.scale_magnitude = on_scale(id) ? box.magnitude : -1.0;
    label_node(id, box);
    boxes_of_node_[id] = static_cast<std::uint32_t>(picture_.boxes.size());
    picture_.boxes.push_back(std::move(box));
  }

  // An output (no forward node consumes it) whose gradient is known: d output / d output, the
  // seed the backward pass starts from (1 for a scalar loss).
  bool is_seed(NodeId id) const {
    return magnitude_[id] != -1.0 && !consumed_by_forward_[id] &&
           !has_flag(graph_.node(id).flags, NodeFlags::gradient);
  }
  // The colour scale spans parameters and activations: inputs and constants are data, whose
  // gradients say nothing about learning, and the seed is 1 by definition.
  bool on_scale(NodeId id) const {
    const BoxKind kind = kind_of(graph_, id);
    return (kind == BoxKind::parameter || kind == BoxKind::op) && !is_seed(id);
  }

  std::uint32_t scope_box(std::string_view scope) {
    if (const auto it = scope_boxes_.find(scope); it != scope_boxes_.end()) return it->second;
    Box box;
    box.kind = BoxKind::scope;
    const std::size_t slash = scope.rfind('/');
    box.cluster = slash == std::string_view::npos ? 0 : cluster_of(scope.substr(0, slash));
    const auto index = static_cast<std::uint32_t>(picture_.boxes.size());
    picture_.boxes.push_back(std::move(box));
    scope_boxes_.emplace(std::string(scope), index);
    scope_info_[index].name = std::string(scope);
    return index;
  }

  void add_to_scope_box(std::uint32_t index, NodeId id) {
    Box& box = picture_.boxes[index];
    ScopeBox& info = scope_info_[index];
    ++info.nodes;
    ++info.ops[graph_.node(id).op];
    if (graph_.is_parameter(id)) {
      ++info.parameters;
      info.parameter_elements += graph_.shape_of(id).numel();
    }
    // The largest gradient inside (-1, "unknown", loses to any); a NaN one sticks.
    const double m = magnitude_[id];
    if (std::isnan(m)) {
      box.magnitude = m;
    } else if (!std::isnan(box.magnitude)) {
      box.magnitude = std::max(box.magnitude, m);
    }
    if (on_scale(id) && !std::isnan(box.scale_magnitude)) {
      box.scale_magnitude = std::isnan(m) ? m : std::max(box.scale_magnitude, m);
    }
    const UnitHealth health = health_of(id);
    info.health.units += health.units;
    info.health.dead += health.dead;
    info.health.saturated += health.saturated;
    for (const std::string& problem : problems_of(id)) {
      info.problems.push_back(display_name(id, false) + ": " + problem);
    }
  }

  void finish_scope_box(std::size_t index) {
    Box& box = picture_.boxes[index];
    const ScopeBox& info = scope_info_.at(static_cast<std::uint32_t>(index));
    std::string text = info.name + " (scope, " + std::to_string(info.nodes) + " nodes)";
    std::string ops;
    for (const auto& [op, count] : info.ops) {
      ops += (ops.empty() ? "" : ", ") + std::string(OpRegistry::global()[op].name) + " " +
             std::to_string(count);
    }
    text += "\n" + wrap(ops, 48);
    if (info.parameters > 0) {
      text += "\nparameters " + std::to_string(info.parameters) + " (" +
              std::to_string(info.parameter_elements) + " elements)";
    }
    if (options_.show_gradients && box.magnitude >= 0)
      text += "\nlargest grad RMS " + format_number(box.magnitude);
    if (options_.show_gradients && std::isnan(box.magnitude)) text += "\na gradient holds NaN/Inf";
    text += health_text(info.health);
    for (const std::string& problem : info.problems) text += "\n" + wrap(problem, 60);
    box.dead = info.health.dead > 0;
    box.saturated = info.health.saturated > 0;
    box.problem = !info.problems.empty();
    box.label = escape_label(text);
    end_label(box.label);
  }

  std::string display_name(NodeId id, bool in_cluster) const {
    if (in_cluster && options_.cluster_scopes) {
      const std::string_view local = graph_.local_name_of(id);
      if (!local.empty()) return std::string(local);
    } else if (std::string full = graph_.full_name_of(id); !full.empty()) {
      return full;
    }
    return "#" + std::to_string(id);
  }

  UnitHealth health_of(NodeId id) const {
    const UnitKind kind = OpRegistry::global()[graph_.node(id).op].units;
    if (kind == UnitKind::none || after_anomaly_[id]) return {};
    const std::optional<TensorView> value = latest_value(graph_, options_.snapshot, id);
    return value ? unit_health(kind, *value, options_.saturation_threshold) : UnitHealth{};
  }

  static std::string health_text(const UnitHealth& health) {
    std::string text;
    if (health.dead > 0) {
      text += "\ndead " + std::to_string(health.dead) + " of " + std::to_string(health.units) +
              " units (zero on every row)";
    }
    if (health.saturated > 0) {
      text += "\nsaturated " + std::to_string(health.saturated) + " of " +
              std::to_string(health.units) + " units";
    }
    return text;
  }

  std::vector<std::string> problems_of(NodeId id) const {
    std::vector<std::string> problems;
    if (id == graph_.anomaly_node())
      problems.emplace_back("ANOMALY: the run's first NaN/Inf was produced here");
    if (const auto it = failures_.find(id); it != failures_.end()) {
      for (const std::string& reason : it->second)
        problems.push_back("LOCAL GRADIENT CHECK FAILED: " + reason);
    }
    return problems;
  }

  // The label of a node's own box, and the flags its health and problems set.
  void label_node(NodeId id, Box& box) const {
    std::string text =
        display_name(id, box.cluster != 0) + " : " + std::string(graph_.op_name_of(id));
    const Shape& shape = graph_.shape_of(id);
    const std::string_view dtype = dtype_name(graph_.node(id).dtype);
    if (options_.show_shapes) {
      text += "\n" + (shape.is_scalar() ? std::string("scalar") : shape.to_string()) + " " +
              std::string(dtype);
    }
    if (options_.show_values && !after_anomaly_[id]) {
      if (const auto value = latest_value(graph_, options_.snapshot, id))
        text += "\nvalue " + format_summary(summarize(*value));
    }
    if (options_.show_gradients) {
      if (const auto gradient = latest_gradient(graph_, options_.snapshot, id)) {
        text += "\ngrad " + format_summary(summarize(*gradient));
        if (box.seed) text += " (the seed)";
      }
    }
    const UnitHealth health = health_of(id);
    box.dead = health.dead > 0;
    box.saturated = health.saturated > 0;
    text += health_text(health);
    const std::vector<std::string> problems = problems_of(id);
    box.problem = !problems.empty();
    for (const std::string& problem : problems) text += "\n" + wrap(problem, 60);
    box.label = escape_label(text);
    end_label(box.label);
    if (options_.heatmaps > 0 && !after_anomaly_[id] && has_maps(shape)) {
      if (const auto value = latest_value(graph_, options_.snapshot, id)) {
        const auto gradient = options_.show_gradients
                                  ? latest_gradient(graph_, options_.snapshot, id)
                                  : std::optional<TensorView>{};
        const MapLayout layout =
            box.kind == BoxKind::parameter ? MapLayout::kernel : MapLayout::activation;
        const HeatmapSettings settings{.maps = static_cast<std::int64_t>(options_.heatmaps),
                                       .side = static_cast<std::int64_t>(options_.heatmap_side)};
        box.html_label =
            heatmap_label(escape_html(text), heatmap_table(*value, gradient, layout, settings));
      }
    }
  }

  // One edge per input slot; edges touching a collapsed scope are merged. With top_k, drawn
  // nodes connected through left-out ones get one dashed edge per pair (connect_through_elided).
  void connect() {
    std::unordered_set<std::uint64_t> merged;
    std::vector<std::string> operands;
    for (NodeId id = 0; id < graph_.size(); ++id) {
      const std::uint32_t to = boxes_of_node_[id];
      if (to == kNone) continue;
      const auto inputs = graph_.inputs_of(id);
      const bool into_scope = picture_.boxes[to].kind == BoxKind::scope;
      operands = into_scope
                     ? std::vector<std::string>{}
                     : operand_names(OpRegistry::global()[graph_.node(id).op], inputs.size());
      for (std::size_t slot = 0; slot < inputs.size(); ++slot) {
        const std::uint32_t from = boxes_of_node_[inputs[slot]];
        if (from == kNone || from == to) continue;
        const bool collapsed = picture_.boxes[from].kind == BoxKind::scope || into_scope;
        if (collapsed && !merged.insert(std::uint64_t{from} << 32 | to).second) continue;
        Edge edge = edge_between(from, to);
        if (slot < operands.size()) edge.operand = operands[slot];
        picture_.has_operands = picture_.has_operands || !edge.operand.empty();
        picture_.edges.push_back(std::move(edge));
      }
    }
    if (options_.top_k > 0) connect_through_elided();
  }

  Edge edge_between(std::uint32_t from, std::uint32_t to) const {
    Edge edge{from, to};
    edge.into_gradient = picture_.boxes[to].gradient_node;
    edge.backward = edge.into_gradient && picture_.boxes[from].gradient_node;
    edge.reference = edge.into_gradient && !edge.backward;
    return edge;
  }

  // For each left-out candidate node, the drawn boxes it is reached from and the number of
  // left-out nodes on the shortest path (itself included); one forward scan over the ids, each
  // list freed once its last consumer has read it, and at most top_k entries long.
  void connect_through_elided() {
    const std::size_t n = graph_.size();
    std::vector<std::uint32_t> uses(n, 0);
    for (NodeId id = 0; id < n; ++id) {
      if (!candidates_[id]) continue;
      for (const NodeId input : graph_.inputs_of(id)) ++uses[input];
    }
    using Reach = std::vector<std::pair<std::uint32_t, std::int64_t>>;
    std::vector<Reach> reach(n);
    const auto merge = [](Reach& into, std::uint32_t box, std::int64_t elided) {
      for (auto& [b, e] : into) {
        if (b == box) {
          e = std::min(e, elided);
          return;
        }
      }
      into.emplace_back(box, elided);
    };
    std::unordered_set<std::uint64_t> direct;
    for (const Edge& edge : picture_.edges) direct.insert(std::uint64_t{edge.from} << 32 | edge.to);
    Reach incoming;
    for (NodeId id = 0; id < n; ++id) {
      if (!candidates_[id]) continue;
      const std::uint32_t to = boxes_of_node_[id];
      incoming.clear();
      for (const NodeId input : graph_.inputs_of(id)) {
        if (!candidates_[input]) continue;
        if (boxes_of_node_[input] != kNone) {
          if (to == kNone) merge(incoming, boxes_of_node_[input], 1);
          continue;
        }
        for (const auto& [box, elided] : reach[input])
          merge(incoming, box, elided + (to == kNone ? 1 : 0));
      }
      if (to == kNone) {
        reach[id] = incoming;
      } else {
        std::sort(incoming.begin(), incoming.end());
        for (const auto& [from, elided] : incoming) {
          if (from == to || !direct.insert(std::uint64_t{from} << 32 | to).second) continue;
          Edge edge = edge_between(from, to);
          edge.elided = elided;
          picture_.edges.push_back(edge);
          picture_.has_elided = true;
        }
      }
      for (const NodeId input : graph_.inputs_of(id)) {
        if (candidates_[input] && --uses[input] == 0) Reach().swap(reach[input]);
      }
    }
  }

  void scale() {
    for (const Box& box : picture_.boxes) {
      picture_.has_seed = picture_.has_seed || box.seed;
      picture_.has_gradient_nodes = picture_.has_gradient_nodes || box.gradient_node;
      picture_.has_problems = picture_.has_problems || box.problem;
      picture_.has_dead = picture_.has_dead || box.dead;
      picture_.has_saturated = picture_.has_saturated || box.saturated;
      if (!(box.scale_magnitude > 0) || !std::isfinite(box.scale_magnitude)) continue;
      const double log = std::log10(box.scale_magnitude);
      picture_.log_min = picture_.has_scale ? std::min(picture_.log_min, log) : log;
      picture_.log_max = picture_.has_scale ? std::max(picture_.log_max, log) : log;
      picture_.has_scale = true;
    }
    const double missing = kMinScaleDecades - (picture_.log_max - picture_.log_min);
    if (picture_.has_scale && missing > 0) {
      picture_.log_min -= missing / 2;
      picture_.log_max += missing / 2;
    }
  }

  const Graph& graph_;
  const DotOptions& options_;
  Picture picture_;
  std::vector<char> selected_;
  std::vector<char> candidates_;           // top_k: the nodes selected before it chose
  std::vector<char> consumed_by_forward_;  // read by some forward node
  std::vector<char> after_anomaly_;
  std::vector<double> magnitude_;
  std::vector<std::uint32_t> boxes_of_node_;
  std::unordered_map<NodeId, std::vector<std::string>> failures_;
  std::unordered_set<std::string> collapse_;
  std::map<std::string, std::uint32_t, std::less<>> clusters_;
  std::unordered_map<std::uint32_t, Placement> placements_;
  std::map<std::string, std::uint32_t, std::less<>> scope_boxes_;
  std::unordered_map<std::uint32_t, ScopeBox> scope_info_;
};

}  // namespace

Picture build(const Graph& graph, const DotOptions& options) {
  return Builder(graph, options).build();
}

std::vector<std::string> operand_names(const OpDef& def, std::size_t inputs) {
  if (inputs < 2 || def.commutative) return {};
  std::vector<std::string> names;
  for (std::string_view rest = def.operand_names; !rest.empty() && names.size() < inputs;) {
    const std::size_t comma = rest.find(", ");
    names.emplace_back(rest.substr(0, comma));
    rest = comma == std::string_view::npos ? std::string_view{} : rest.substr(comma + 2);
  }
  while (names.size() < inputs) names.push_back("input " + std::to_string(names.size() + 1));
  return names;
}

double scale_position(const Picture& picture, double magnitude) {
  const double span = picture.log_max - picture.log_min;
  if (!(span > 0) || !(magnitude > 0)) return 1.0;
  return std::clamp((std::log10(magnitude) - picture.log_min) / span, 0.0, 1.0);
}

namespace {

// A box's size in points as dot will draw it at fontsize 10: Helvetica averages about 5.6 points
// a character, a line 12; margins as dot's defaults (0.11 inch by 0.055), cylinders taller.
std::pair<double, double> box_size(const Box& box) {
  double widest = 0, lines = 1, column = 0;
  for (std::size_t i = 0; i < box.label.size(); ++i) {
    if (box.label[i] == '\\' && i + 1 < box.label.size() && box.label[i + 1] == 'n') {
      widest = std::max(widest, column);
      column = 0;
      ++lines;
      ++i;
    } else if ((static_cast<unsigned char>(box.label[i]) & 0xC0) != 0x80) {
      ++column;  // one per UTF-8 character, not per byte
    }
  }
  widest = std::max(widest, column);
  const double width = std::max(54.0, widest * 5.6 + 16);
  const double height = std::max(36.0, lines * 12 + 8) + (box.kind == BoxKind::parameter ? 12 : 0);
  return {width, height};
}

}  // namespace

LayoutEstimate estimate_layout(const Picture& picture, const std::string& rankdir) {
  // Ranks: the longest path from a source over forward edges (listed by consumer id, so one
  // pass), then over backward edges, drawn reversed, one pass from the end.
  const std::size_t n = picture.boxes.size();
  std::vector<std::size_t> rank(n, 0);
  for (const Edge& e : picture.edges) {
    if (!e.into_gradient) rank[e.to] = std::max(rank[e.to], rank[e.from] + 1);
  }
  // dot pulls a source (a parameter, an input) down to just before its first consumer.
  std::vector<std::size_t> first_use(n, std::numeric_limits<std::size_t>::max());
  std::vector<char> has_input(n, 0);
  for (const Edge& e : picture.edges) {
    if (e.into_gradient) continue;
    has_input[e.to] = 1;
    first_use[e.from] = std::min(first_use[e.from], rank[e.to]);
  }
  for (std::size_t b = 0; b < n; ++b) {
    if (!has_input[b] && first_use[b] != std::numeric_limits<std::size_t>::max())
      rank[b] = first_use[b] - 1;
  }
  // A gradient node sits no earlier than the forward values it reads (dot.cpp's references), and
  // before the gradient nodes it is computed from.
  for (const Edge& e : picture.edges) {
    if (e.reference) rank[e.to] = std::max(rank[e.to], rank[e.from]);
  }
  for (auto it = picture.edges.rbegin(); it != picture.edges.rend(); ++it) {
    if (it->backward) rank[it->from] = std::max(rank[it->from], rank[it->to] + 1);
  }
  const bool left_right = rankdir == "LR" || rankdir == "RL";
  constexpr double kRankSeparation = 36, kNodeSeparation = 18;
  std::vector<double> along, across;  // per rank: the largest extent along, the sum across
  for (std::size_t b = 0; b < n; ++b) {
    const auto [width, height] = box_size(picture.boxes[b]);
    if (rank[b] >= along.size()) along.resize(rank[b] + 1, 0), across.resize(rank[b] + 1, 0);
    along[rank[b]] = std::max(along[rank[b]], left_right ? width : height);
    across[rank[b]] += (left_right ? height : width) + kNodeSeparation;
  }
  double total_along = 0, widest_across = 0;
  for (std::size_t r = 0; r < along.size(); ++r) {
    total_along += along[r] + (r > 0 ? kRankSeparation : 0);
    widest_across = std::max(widest_across, across[r]);
  }
  return left_right ? LayoutEstimate{total_along, widest_across}
                    : LayoutEstimate{widest_across, total_along};
}

std::string choose_rankdir(const Picture& picture) {
  // A screen or a landscape page is about 1.4 wide for 1 high; the direction whose estimate is
  // nearer that, in ratio, wins (ties to left-to-right, the way equations read).
  constexpr double kPage = 1.4;
  const auto distance = [&](const std::string& rankdir) {
    return std::abs(std::log(estimate_layout(picture, rankdir).aspect() / kPage));
  };
  return distance("TB") < distance("LR") ? "TB" : "LR";
}

namespace {

// Copies text with invalid UTF-8 and control characters replaced by U+FFFD, passing every other
// ASCII character to `ascii(out, c)`, which writes it in the label language's own escaping.
template <class AsciiWriter>
std::string repair_text(std::string_view text, AsciiWriter ascii) {
  std::string out;
  out.reserve(text.size() + 8);
  for (std::size_t i = 0; i < text.size();) {
    const unsigned char c = static_cast<unsigned char>(text[i]);
    if (c >= 0x80) {
      const std::size_t length = utf8_sequence_length(text, i);
      if (length == 0) {
        out += kReplacement;
        ++i;
      } else {
        out.append(text.substr(i, length));
        i += length;
      }
      continue;
    }
    if (c == '\t') {
      out += ' ';
    } else if (c != '\n' && (c < 0x20 || c == 0x7F)) {
      out += kReplacement;
    } else {
      ascii(out, static_cast<char>(c));
    }
    ++i;
  }
  return out;
}

}  // namespace

std::string escape_label(std::string_view text) {
  return repair_text(text, [](std::string& out, char c) {
    if (c == '\\') {
      out += "\\\\";
    } else if (c == '\n') {
      out += "\\n";
    } else if (c == '&') {
      out += "&amp;";
    } else {
      out += c;
    }
  });
}

std::string escape_html(std::string_view text) {
  return repair_text(text, [](std::string& out, char c) {
    if (c == '&') {
      out += "&amp;";
    } else if (c == '<') {
      out += "&lt;";
    } else if (c == '>') {
      out += "&gt;";
    } else if (c == '"') {
      out += "&quot;";
    } else if (c == '\n') {
      out += "<br/>";
    } else {
      out += c;
    }
  });
}

std::string viridis(double t) {
  // R's viridis(10), the matplotlib map sampled at ten even steps; interpolated linearly.
  static constexpr std::array<std::uint32_t, 10> kStops = {0x440154, 0x482878, 0x3E4A89, 0x31688E,
                                                           0x26828E, 0x1F9E89, 0x35B779, 0x6DCD59,
                                                           0xB4DE2C, 0xFDE725};
  t = std::clamp(std::isnan(t) ? 0.0 : t, 0.0, 1.0);
  const double position = t * (kStops.size() - 1);
  const std::size_t i = std::min(static_cast<std::size_t>(position), kStops.size() - 2);
  const double f = position - static_cast<double>(i);
  char text[8];
  unsigned channels[3];
  for (int c = 0; c < 3; ++c) {
    const int shift = 16 - 8 * c;
    const double a = (kStops[i] >> shift) & 0xFF, b = (kStops[i + 1] >> shift) & 0xFF;
    channels[c] = static_cast<unsigned>(std::lround(a + (b - a) * f));
  }
  std::snprintf(text, sizeof text, "#%02x%02x%02x", channels[0], channels[1], channels[2]);
  return text;
}

bool is_dark(double t) {
  return t < 0.45;
}

}  // namespace dagprop::picture
