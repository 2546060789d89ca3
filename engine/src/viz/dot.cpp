// The picture as a Graphviz graph: cgraph builds it (agopen, agsubg, agnode, agedge, agxset),
// agwrite turns it into DOT text, and gvc lays it out and renders it in-process.
#include <dagprop/dot.hpp>

#include <cctype>
#include <cmath>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <memory>
#include <mutex>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

#include <graphviz/cgraph.h>
#include <graphviz/gvc.h>

#include <dagprop/error.hpp>

#include "dot_picture.hpp"
#include "tensor_summary.hpp"

namespace dagprop {
namespace {

using picture::Box;
using picture::BoxKind;
using picture::Picture;

// Graphviz keeps global state (error handlers, the string pool of the default discipline): one
// caller at a time.
std::mutex& graphviz_mutex() {
  static std::mutex mutex;
  return mutex;
}

// One layout and rendering context for the whole process, made on first use (with the mutex
// held) and never freed: Graphviz 2.42's pango plugin keeps a pointer to a font name owned by the
// context, so freeing one context and making another reads freed memory (AddressSanitizer
// reports it in the second render of a process).
GVC_t* graphviz_context() {
  static GVC_t* const context = gvContext();
  if (context == nullptr) throw Error("Graphviz could not start (gvContext failed)");
  return context;
}

// Graphviz reports problems through a global callback; this collects them for our messages.
std::string& graphviz_messages() {
  static std::string messages;
  return messages;
}
int collect_message(char* message) {
  graphviz_messages() += message;
  return 0;
}
class CollectGraphvizMessages {
 public:
  CollectGraphvizMessages() : previous_(agseterrf(collect_message)) { graphviz_messages().clear(); }
  ~CollectGraphvizMessages() { agseterrf(previous_); }
  CollectGraphvizMessages(const CollectGraphvizMessages&) = delete;
  CollectGraphvizMessages& operator=(const CollectGraphvizMessages&) = delete;
  // ": <what Graphviz said>", or "" when it said nothing.
  std::string text() const {
    std::string said = graphviz_messages();
    while (!said.empty() && std::isspace(static_cast<unsigned char>(said.back()))) said.pop_back();
    return said.empty() ? "" : ": " + said;
  }

 private:
  agusererrf previous_;
};

// agwrite sends its output through the graph's I/O discipline; ours appends to a std::string.
int append_text(void* channel, const char* text) {
  static_cast<std::string*>(channel)->append(text);
  return 0;
}
int flush_nothing(void*) {
  return 0;
}
Agiodisc_t string_io{AgIoDisc.afread, append_text, flush_nothing};

// Object ids in creation order. Graphviz's own discipline (AgIdDisc) uses the address of the
// interned name as a named object's id, and agwrite lists subgraphs by id: clusters came out in
// an order that depended on the heap (the same picture, drawn by two runs, differed as text).
// Named objects get even ids, anonymous ones odd, as in AgIdDisc.
struct OrderedIds {
  Agraph_t* graph = nullptr;
  // Names as the graph's reference-counted strings, as agwrite expects (it asks whether a name is
  // an HTML string by looking at the string pool's header); a named object's id is 2 (index + 1).
  std::vector<char*> names;
  std::unordered_map<std::string_view, IDTYPE> ids;  // views of `names`
  IDTYPE anonymous = 1;
};
void* ordered_open(Agraph_t* graph, Agdisc_t*) {
  auto* ids = new OrderedIds;
  ids->graph = graph;
  return ids;
}
long ordered_map(void* state, int, char* name, IDTYPE* id, int create) {
  auto& ids = *static_cast<OrderedIds*>(state);
  if (name == nullptr) {
    *id = 2 * ids.anonymous++ + 1;
    return 1;
  }
  if (const auto it = ids.ids.find(name); it != ids.ids.end()) {
    *id = it->second;
    return 1;
  }
  if (!create) return 0;
  char* interned = agstrdup(ids.graph, name);
  ids.names.push_back(interned);
  *id = 2 * ids.names.size();
  ids.ids.emplace(interned, *id);
  return 1;
}
long ordered_alloc(void*, int, IDTYPE) {
  return 0;  // as AgIdDisc: a caller cannot ask for an id of its own
}
// Names stay interned until the graph closes (which frees its whole string pool): pictures are
// built, written and closed, never edited, and a kept name keeps every id's name printable.
void ordered_free(void*, int, IDTYPE) {}
char* ordered_print(void* state, int, IDTYPE id) {
  const auto& ids = *static_cast<OrderedIds*>(state);
  const std::size_t index = id / 2 - 1;
  return id % 2 == 0 && id > 0 && index < ids.names.size() ? ids.names[index] : nullptr;
}
void ordered_close(void* state) {
  delete static_cast<OrderedIds*>(state);
}
void ordered_register(void*, int, void*) {}
Agiddisc_t ordered_ids{ordered_open,  ordered_map,   ordered_alloc,   ordered_free,
                       ordered_print, ordered_close, ordered_register};

Agdisc_t string_discipline{&AgMemDisc, &ordered_ids, &string_io};

struct CloseGraph {
  void operator()(Agraph_t* graph) const { agclose(graph); }
};
using GraphvizGraph = std::unique_ptr<Agraph_t, CloseGraph>;

// cgraph takes char* but copies and never writes through it.
char* text(const std::string& s) {
  return const_cast<char*>(s.c_str());
}
char* text(const char* s) {
  return const_cast<char*>(s);
}

// The attributes a box may set, declared once with their defaults so agxset is a direct store.
struct NodeAttributes {
  explicit NodeAttributes(Agraph_t* g)
      : label(agattr(g, AGNODE, text("label"), text(""))),
        shape(agattr(g, AGNODE, text("shape"), text("box"))),
        style(agattr(g, AGNODE, text("style"), text("rounded,filled"))),
        fillcolor(agattr(g, AGNODE, text("fillcolor"), text("#f2f2f2"))),
        fontcolor(agattr(g, AGNODE, text("fontcolor"), text("black"))),
        color(agattr(g, AGNODE, text("color"), text("#404040"))),
        penwidth(agattr(g, AGNODE, text("penwidth"), text("1"))) {
    agattr(g, AGNODE, text("fontname"), text("Helvetica"));
    agattr(g, AGNODE, text("fontsize"), text("10"));
  }
  Agsym_t *label, *shape, *style, *fillcolor, *fontcolor, *color, *penwidth;
};

// Colour-blind-safe accents (Okabe-Ito) for what the fill colour cannot say.
constexpr const char* kDeadColour = "#E69F00";       // orange border
constexpr const char* kSaturatedColour = "#CC79A7";  // reddish purple border
constexpr const char* kGradientColour = "#0072B2";   // blue dashed border
constexpr const char* kProblemFill = "#D62728";      // red, with white text
constexpr const char* kZeroGradientFill = "#ffffff";

const char* shape_of(BoxKind kind) {
  switch (kind) {
    case BoxKind::parameter:
      return "cylinder";
    case BoxKind::constant:
      return "ellipse";
    case BoxKind::scope:
      return "box3d";
    case BoxKind::op:
    case BoxKind::input:
      break;
  }
  return "box";
}

// The magnitude a box's fill shows: a parameter's or an activation's own; an input's or a
// constant's only where it falls inside the scale (beyond it, clamped to an end, it would claim a
// size it does not have); never the seed's. 0 or below: no colour.
double colour_magnitude(const Box& box, const Picture& picture) {
  if (!std::isfinite(box.magnitude) || !picture.has_scale || box.seed) return -1;
  if (box.scale_magnitude > 0) return box.scale_magnitude;
  if (!(box.magnitude > 0)) return -1;
  const double log = std::log10(box.magnitude);
  return log >= picture.log_min && log <= picture.log_max ? box.magnitude : -1;
}

void style_box(Agnode_t* node, const Box& box, const Picture& picture, const NodeAttributes& a) {
  if (box.html_label.empty()) {
    agxset(node, a.label, text(box.label));
  } else {
    // agxset takes its own reference to the pooled HTML string; ours is let go at once.
    Agraph_t* graph = agraphof(node);
    char* html = agstrdup_html(graph, text(box.html_label));
    agxset(node, a.label, html);
    agstrfree(graph, html);
  }
  if (box.kind != BoxKind::op) agxset(node, a.shape, text(shape_of(box.kind)));
  // Inputs are boxes with cut corners ("diagonals"): a house shape grows too wide with the label.
  if (box.kind == BoxKind::input)
    agxset(node, a.style, text(box.gradient_node ? "filled,diagonals,dashed" : "filled,diagonals"));
  else if (box.kind == BoxKind::constant)
    agxset(node, a.style, text(box.gradient_node ? "filled,dashed" : "filled"));
  else if (box.gradient_node)
    agxset(node, a.style, text("rounded,filled,dashed"));
  if (box.gradient_node) agxset(node, a.color, text(kGradientColour));

  if (box.problem) {
    agxset(node, a.fillcolor, text(kProblemFill));
    agxset(node, a.fontcolor, text("white"));
    agxset(node, a.color, text("#7f0000"));
    agxset(node, a.penwidth, text("3"));
    return;
  }
  if (box.magnitude == 0) {
    agxset(node, a.fillcolor, text(kZeroGradientFill));
  } else if (const double m = colour_magnitude(box, picture); m > 0) {
    const double t = picture::scale_position(picture, m);
    agxset(node, a.fillcolor, text(picture::viridis(t)));
    if (picture::is_dark(t)) agxset(node, a.fontcolor, text("white"));
  }
  if (box.dead || box.saturated) {
    agxset(node, a.color, text(box.dead ? kDeadColour : kSaturatedColour));
    agxset(node, a.penwidth, text("3"));
  }
}

// The scale's stops as numbers, with as many significant digits as it takes to tell them apart
// (a scale one decade wide needs two; a tenth of a decade three).
std::vector<std::string> legend_stops(const Picture& picture, int count) {
  std::vector<std::string> stops;
  for (int digits = 2; digits <= 8; ++digits) {
    stops.clear();
    for (int k = 0; k < count; ++k) {
      const double t = static_cast<double>(k) / (count - 1);
      const double value =
          std::pow(10.0, picture.log_min + t * (picture.log_max - picture.log_min));
      char number[32];
      std::snprintf(number, sizeof number, "%.*g", digits, value);
      stops.emplace_back(number);
    }
    bool distinct = true;
    for (int k = 1; k < count; ++k) distinct = distinct && stops[k] != stops[k - 1];
    if (distinct) break;
  }
  return stops;
}

// The key is an HTML-like table: the title, a colour bar over the magnitudes drawn, then one line
// of shapes and only the styles this picture uses.
std::string legend_html(const Picture& picture, const std::string& title) {
  constexpr int kStops = 5;
  const std::string row = "<tr><td colspan=\"" + std::to_string(kStops + 1) + "\" align=\"left\">";
  std::string html = "<table border=\"0\" cellborder=\"0\" cellspacing=\"1\" cellpadding=\"1\">";
  if (!title.empty()) {
    html += "<tr><td colspan=\"" + std::to_string(kStops + 1) + "\"><font point-size=\"14\">" +
            picture::escape_html(title) + "</font></td></tr>";
  }
  html += "<tr><td align=\"right\"><font point-size=\"8\">gradient RMS (log):</font></td>";
  if (picture.has_scale) {
    const std::vector<std::string> stops = legend_stops(picture, kStops);
    for (int k = 0; k < kStops; ++k) {
      const double t = static_cast<double>(k) / (kStops - 1);
      html += "<td width=\"44\" bgcolor=\"" + picture::viridis(t) +
              "\"><font point-size=\"8\" color=\"" +
              std::string(picture::is_dark(t) ? "white" : "black") + "\">" +
              stops[static_cast<std::size_t>(k)] + "</font></td>";
    }
  } else {
    html += "<td colspan=\"" + std::to_string(kStops) +
            "\" align=\"left\"><font point-size=\"8\">no gradients known</font></td>";
  }
  html += "</tr>";
  std::string key = "white: gradient 0; grey: none known";
  if (picture.has_seed) key += "; the seed (an output's own gradient) is off the scale";
  html += row + "<font point-size=\"8\">" + key + "</font></td></tr>";
  html += row +
          "<font point-size=\"8\">rounded: op; cylinder: parameter; cut corners: input; "
          "ellipse: constant; 3-D: collapsed scope</font></td></tr>";
  const auto line = [&](const char* colour, const std::string& text) {
    html += row + "<font point-size=\"8\" color=\"" + colour + "\">" + text + "</font></td></tr>";
  };
  if (picture.has_gradient_nodes) {
    line(kGradientColour,
         "blue dashed: gradient node, beside the forward node it belongs to; gradients flow from "
         "the loss back (dotted: a forward value it reads)");
  }
  if (picture.has_elided) line("#555555", "grey dashed edge: a path through left-out nodes");
  if (picture.has_dead) line(kDeadColour, "orange border: dead units");
  if (picture.has_saturated) line(kSaturatedColour, "purple border: saturated units");
  if (picture.has_problems)
    line(kProblemFill, "red: NaN/Inf origin or failing local gradient check");
  return html + "</table>";
}

bool valid_rankdir(const std::string& rankdir) {
  return rankdir == "auto" || rankdir == "LR" || rankdir == "RL" || rankdir == "TB" ||
         rankdir == "BT";
}

// Layers drawn as clusters stack instead of stepping sideways: a layer's parameters would share a
// rank with the previous layer's output (both feed its first op), and clusters sharing a rank must
// sit side by side. An invisible edge from that output to each such parameter ranks it one later.
void stack_clusters(Agraph_t* root, const Picture& picture, const std::vector<Agnode_t*>& nodes) {
  std::vector<std::vector<std::uint32_t>> parameters(picture.boxes.size()),
      from_outside(picture.boxes.size());
  for (const picture::Edge& edge : picture.edges) {
    if (edge.into_gradient) continue;
    const Box& from = picture.boxes[edge.from];
    const Box& to = picture.boxes[edge.to];
    if (from.cluster == 0 || to.cluster == 0) continue;
    if (from.cluster == to.cluster && from.kind == BoxKind::parameter)
      parameters[edge.to].push_back(edge.from);
    if (from.cluster != to.cluster) from_outside[edge.to].push_back(edge.from);
  }
  Agsym_t* style = agattr(root, AGEDGE, text("style"), nullptr);
  for (std::size_t b = 0; b < picture.boxes.size(); ++b) {
    for (const std::uint32_t outside : from_outside[b]) {
      for (const std::uint32_t parameter : parameters[b]) {
        Agedge_t* e = agedge(root, nodes[outside], nodes[parameter], nullptr, 1);
        agxset(e, style, text("invis"));
      }
    }
  }
}

GraphvizGraph build_graphviz(const Graph& graph, const DotOptions& options) {
  if (!valid_rankdir(options.rankdir)) {
    throw Error("DotOptions::rankdir is '" + options.rankdir +
                "'; use auto, LR (left to right), RL, TB (top to bottom) or BT");
  }
  if (options.heatmaps > 0 && options.heatmap_side == 0)
    throw Error("DotOptions::heatmap_side is 0; use at least 1 (cells a map side, 16 by default)");
  const Picture picture = picture::build(graph, options);
  GraphvizGraph g(agopen(text("dagprop"), Agdirected, &string_discipline));
  if (!g) throw Error("Graphviz could not create a graph (out of memory?)");
  Agraph_t* root = g.get();
  const std::string rankdir =
      options.rankdir == "auto" ? picture::choose_rankdir(picture) : options.rankdir;
  agattr(root, AGRAPH, text("rankdir"), text(rankdir));
  agattr(root, AGRAPH, text("fontname"), text("Helvetica"));
  agattr(root, AGRAPH, text("ranksep"), text("0.3"));
  agattr(root, AGRAPH, text("nodesep"), text("0.2"));
  if (options.legend) {
    // The key is the graph's label, not a node: it never moves a box, and stays small.
    const std::string html = legend_html(picture, options.title);
    agattr(root, AGRAPH, text("label"), agstrdup_html(root, text(html)));
    agattr(root, AGRAPH, text("labelloc"), text("t"));
    agattr(root, AGRAPH, text("labeljust"), text("l"));
  } else if (!options.title.empty()) {
    std::string title = picture::escape_label(options.title);
    if (title.back() == '\\') title += ' ';
    agattr(root, AGRAPH, text("label"), text(title));
    agattr(root, AGRAPH, text("labelloc"), text("t"));
  }
  const NodeAttributes attributes(root);
  agattr(root, AGEDGE, text("arrowsize"), text("0.7"));
  Agsym_t* edge_style = agattr(root, AGEDGE, text("style"), text("solid"));
  Agsym_t* edge_color = agattr(root, AGEDGE, text("color"), text("#555555"));
  // The other edge attributes are declared when a picture first needs one: every declared
  // attribute costs each edge a slot and the writer a look, and most pictures use none of them.
  Agsym_t *edge_label = nullptr, *edge_headlabel = nullptr, *edge_dir = nullptr,
          *edge_minlen = nullptr, *edge_weight = nullptr, *edge_fontcolor = nullptr;
  const auto declare = [&](Agsym_t*& symbol, const char* name, const char* fallback) {
    if (symbol == nullptr) symbol = agattr(root, AGEDGE, text(name), text(fallback));
    return symbol;
  };
  const auto set = [&](Agedge_t* e, Agsym_t*& symbol, const char* name, const char* fallback,
                       const std::string& value) {
    if (symbol == nullptr &&
        (name == std::string_view("label") || name == std::string_view("headlabel"))) {
      agattr(root, AGEDGE, text("fontname"), text("Helvetica"));
      agattr(root, AGEDGE, text("fontsize"), text("8"));
    }
    agxset(e, declare(symbol, name, fallback), text(value));
  };

  std::vector<Agraph_t*> clusters(picture.clusters.size(), root);
  for (std::size_t c = 1; c < picture.clusters.size(); ++c) {
    const std::string name = "cluster_" + std::to_string(c);
    clusters[c] = agsubg(clusters[picture.clusters[c].parent], text(name), 1);
    agsafeset(clusters[c], text("label"), text(picture.clusters[c].label), text(""));
    agsafeset(clusters[c], text("style"), text("rounded"), text(""));
    agsafeset(clusters[c], text("color"), text("#999999"), text(""));
  }

  std::vector<Agnode_t*> nodes(picture.boxes.size());
  std::string name;
  for (std::size_t b = 0; b < picture.boxes.size(); ++b) {
    const Box& box = picture.boxes[b];
    name = box.node == kNoNode ? "scope" + std::to_string(b) : "n" + std::to_string(box.node);
    nodes[b] = agnode(clusters[box.cluster], text(name), 1);
    style_box(nodes[b], box, picture, attributes);
  }
  for (const picture::Edge& edge : picture.edges) {
    // A backward edge is drawn from its consumer to its producer with the arrow at the tail: the
    // layout then ranks the gradient graph in the forward direction, beside the forward graph, and
    // the arrow still points where the gradient flows.
    Agedge_t* e = edge.backward ? agedge(root, nodes[edge.to], nodes[edge.from], nullptr, 1)
                                : agedge(root, nodes[edge.from], nodes[edge.to], nullptr, 1);
    if (edge.backward) set(e, edge_dir, "dir", "forward", "back");
    if (edge.into_gradient) {
      agxset(e, edge_style, text(edge.reference ? "dotted" : "dashed"));
      agxset(e, edge_color, text(edge.reference ? "#9ecae1" : kGradientColour));
    }
    // A gradient node reads forward values of the node whose gradient it computes (tanh_grad
    // reads tanh's output, d W = x^T g reads x): ranking it no earlier than them, and pulling it
    // there hard, puts each gradient beside the forward node it belongs to.
    if (edge.reference) {
      set(e, edge_minlen, "minlen", "1", "0");
      set(e, edge_weight, "weight", "1", "4");
    }
    std::string label = edge.operand;
    if (edge.elided > 0) {
      if (!edge.into_gradient) agxset(e, edge_style, text("dashed"));
      label += (label.empty() ? "" : ", ") + std::to_string(edge.elided) + " left out";
      set(e, edge_fontcolor, "fontcolor", "black", "#555555");
    }
    // A reference may end up within one rank, and dot 2.42 corrupts memory laying out labels on
    // such flat edges (gvFreeLayout crashes): its operand goes at the head, outside the layout.
    if (!label.empty() && edge.reference) {
      set(e, edge_headlabel, "headlabel", "", picture::escape_label(label));
    } else if (!label.empty()) {
      set(e, edge_label, "label", "", picture::escape_label(label));
    }
  }
  stack_clusters(root, picture, nodes);
  return g;
}

std::string extension_of(const std::string& path) {
  std::string extension = std::filesystem::path(path).extension().string();
  for (char& c : extension) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return extension;
}

}  // namespace

std::string to_dot(const Graph& graph, const DotOptions& options) {
  const std::lock_guard lock(graphviz_mutex());
  const CollectGraphvizMessages messages;
  const GraphvizGraph g = build_graphviz(graph, options);
  std::string dot;
  if (agwrite(g.get(), &dot) != 0) throw Error("Graphviz could not write DOT" + messages.text());
  return dot;
}

void render(const Graph& graph, const std::string& path, const DotOptions& options) {
  const std::string extension = extension_of(path);
  if (extension == ".dot" || extension == ".gv") {
    const std::string dot = to_dot(graph, options);
    std::ofstream out(path, std::ios::binary);
    out << dot;
    if (!out.flush()) throw Error("cannot write '" + path + "': check the directory exists");
    return;
  }
  if (extension != ".svg" && extension != ".png" && extension != ".pdf") {
    throw Error("render('" + path + "'): the extension '" + extension +
                "' names no format; use .svg, .png, .pdf or .dot");
  }
  const std::string format = extension.substr(1);
  const std::lock_guard lock(graphviz_mutex());
  const CollectGraphvizMessages messages;
  const GraphvizGraph g = build_graphviz(graph, options);
  GVC_t* context = graphviz_context();
  if (gvLayout(context, g.get(), "dot") != 0) {
    throw Error("Graphviz could not lay out the picture for '" + path + "'" + messages.text());
  }
  const int rendered = gvRenderFilename(context, g.get(), format.c_str(), path.c_str());
  gvFreeLayout(context, g.get());
  // gvRenderFilename reports a file it could not open only through its error callback.
  if (rendered != 0 || !std::filesystem::exists(path)) {
    const bool unknown_format = messages.text().find("not recognized") != std::string::npos;
    throw Error("Graphviz could not render '" + path + "' as " + format + messages.text() +
                (unknown_format ? " (PNG and PDF need Graphviz's cairo plugin, "
                                  "libgvplugin_pango, from the Debian package libgvc6)"
                                : ""));
  }
}

}  // namespace dagprop
