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
Agdisc_t string_discipline{&AgMemDisc, &AgIdDisc, &string_io};

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

double scale_position(const Picture& picture, double magnitude) {
  const double span = picture.log_max - picture.log_min;
  if (!(span > 0)) return 1.0;
  return (std::log10(magnitude) - picture.log_min) / span;
}

void style_box(Agnode_t* node, const Box& box, const Picture& picture, const NodeAttributes& a) {
  agxset(node, a.label, text(box.label));
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
  } else if (box.magnitude > 0 && std::isfinite(box.magnitude)) {
    const double t = scale_position(picture, box.magnitude);
    agxset(node, a.fillcolor, text(picture::viridis(t)));
    if (picture::is_dark(t)) agxset(node, a.fontcolor, text("white"));
  }
  if (box.dead || box.saturated) {
    agxset(node, a.color, text(box.dead ? kDeadColour : kSaturatedColour));
    agxset(node, a.penwidth, text("3"));
  }
}

std::string legend_number(double value) {
  char number[16];
  std::snprintf(number, sizeof number, "%.2g", value);
  return number;
}

// The legend is an HTML-like label: a colour bar over the magnitudes drawn, then the styles.
std::string legend_html(const Picture& picture) {
  std::string html =
      "<table border=\"0\" cellborder=\"1\" cellspacing=\"0\" cellpadding=\"3\">"
      "<tr><td colspan=\"5\"><b>gradient RMS (log scale)</b></td></tr><tr>";
  if (picture.has_scale) {
    for (int k = 0; k < 5; ++k) {
      const double t = k / 4.0;
      const double value =
          std::pow(10.0, picture.log_min + t * (picture.log_max - picture.log_min));
      html += "<td width=\"56\" bgcolor=\"" + picture::viridis(t) + "\"><font color=\"" +
              std::string(picture::is_dark(t) ? "white" : "black") + "\">" + legend_number(value) +
              "</font></td>";
    }
  } else {
    html += "<td colspan=\"5\">no gradients known</td>";
  }
  html +=
      "</tr>"
      "<tr><td colspan=\"5\" align=\"left\">white: gradient exactly 0; grey: none known</td></tr>"
      "<tr><td colspan=\"5\" align=\"left\">rounded box: op; cylinder: parameter; box with cut "
      "corners: input; ellipse: constant; 3-D box: collapsed scope</td></tr>"
      "<tr><td colspan=\"5\" align=\"left\"><font color=\"" +
      std::string(kGradientColour) +
      "\">blue dashed border: gradient node (grad)</font></td></tr>"
      "<tr><td colspan=\"5\" align=\"left\"><font color=\"" +
      std::string(kDeadColour) + "\">orange border: dead units</font>; <font color=\"" +
      std::string(kSaturatedColour) +
      "\">purple border: saturated units</font></td></tr>"
      "<tr><td colspan=\"5\" align=\"left\"><font color=\"" +
      std::string(kProblemFill) +
      "\">red: NaN/Inf origin or failing local gradient check</font></td></tr></table>";
  return html;
}

GraphvizGraph build_graphviz(const Graph& graph, const DotOptions& options) {
  const Picture picture = picture::build(graph, options);
  GraphvizGraph g(agopen(text("dagprop"), Agdirected, &string_discipline));
  if (!g) throw Error("Graphviz could not create a graph (out of memory?)");
  Agraph_t* root = g.get();
  agattr(root, AGRAPH, text("rankdir"), text(options.rankdir));
  agattr(root, AGRAPH, text("fontname"), text("Helvetica"));
  if (!options.title.empty()) {
    std::string title = picture::escape_label(options.title);
    if (title.back() == '\\') title += ' ';
    agattr(root, AGRAPH, text("label"), text(title));
    agattr(root, AGRAPH, text("labelloc"), text("t"));
  }
  const NodeAttributes attributes(root);
  agattr(root, AGEDGE, text("arrowsize"), text("0.7"));
  Agsym_t* edge_style = agattr(root, AGEDGE, text("style"), text("solid"));
  Agsym_t* edge_color = agattr(root, AGEDGE, text("color"), text("#555555"));

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
    Agedge_t* e = agedge(root, nodes[edge.from], nodes[edge.to], nullptr, 1);
    if (edge.into_gradient) {
      agxset(e, edge_style, text("dashed"));
      agxset(e, edge_color, text(kGradientColour));
    }
  }
  if (options.legend) {
    Agnode_t* legend = agnode(root, text("legend"), 1);
    agxset(legend, attributes.shape, text("plaintext"));
    agxset(legend, attributes.style, text(""));
    agsafeset(legend, text("fontsize"), text("9"), text("10"));
    const std::string html = legend_html(picture);
    agxset(legend, attributes.label, agstrdup_html(root, text(html)));
  }
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
