// Pictures: to_dot and render with DotOptions as keywords (Graphviz, in-process).
#include <string>

#include "common.hpp"

namespace dagprop::python {
namespace {

constexpr const char* kDotKeywords =
    "show_shapes, show_values, show_gradients, heatmaps, heatmap_side, focus, "
    "include_gradient_nodes, top_k, cluster_scopes, collapse, local_gradient_failures, "
    "saturation_threshold, rankdir, legend, title";

DotOptions dot_options(const GraphPtr& owner, const py::kwargs& kwargs) {
  DotOptions o;
  for (auto [key, value] : kwargs) {
    const std::string k = key.cast<std::string>();
    if (k == "show_shapes") {
      o.show_shapes = value.cast<bool>();
    } else if (k == "show_values") {
      o.show_values = value.cast<bool>();
    } else if (k == "show_gradients") {
      o.show_gradients = value.cast<bool>();
    } else if (k == "heatmaps") {
      o.heatmaps = value.cast<std::size_t>();
    } else if (k == "heatmap_side") {
      o.heatmap_side = value.cast<std::size_t>();
    } else if (k == "focus") {
      if (value.is_none()) continue;
      const PyExpr& e = value.cast<const PyExpr&>();
      if (e.owner != owner) throw Error("to_dot: the focus node belongs to another Graph");
      o.focus = e.expr.id();
    } else if (k == "include_gradient_nodes") {
      o.include_gradient_nodes = value.cast<bool>();
    } else if (k == "top_k") {
      o.top_k = value.cast<std::size_t>();
    } else if (k == "cluster_scopes") {
      o.cluster_scopes = value.cast<bool>();
    } else if (k == "collapse") {
      o.collapse = value.cast<std::vector<std::string>>();
    } else if (k == "local_gradient_failures") {
      for (py::handle f : py::iter(value)) {
        const PyExpr node = f.attr("node").cast<PyExpr>();
        if (node.owner != owner) throw Error("to_dot: a local gradient failure of another Graph");
        o.local_gradient_failures.push_back({node.expr.id(), f.attr("reason").cast<std::string>()});
      }
    } else if (k == "saturation_threshold") {
      o.saturation_threshold = value.cast<double>();
    } else if (k == "rankdir") {
      o.rankdir = value.cast<std::string>();
    } else if (k == "legend") {
      o.legend = value.cast<bool>();
    } else if (k == "title") {
      o.title = value.cast<std::string>();
    } else {
      throw Error("to_dot/render: unknown option '" + k + "'; the options are " + kDotKeywords);
    }
  }
  return o;
}

}  // namespace

void bind_pictures(py::module_&, py::class_<PyGraph, GraphPtr>& graph) {
  graph
      .def(
          "to_dot",
          [](const GraphPtr& self, const py::kwargs& kwargs) {
            self->get();
            const DotOptions options = dot_options(self, kwargs);
            BusyGraph busy(*self);
            py::gil_scoped_release release;
            return to_dot(self->graph, options);
          },
          "The picture as DOT text: each node's op, shape, value and gradient, coloured by "
          "gradient magnitude. Keywords are DotOptions' fields (docs/visualization.md).")
      .def(
          "render",
          [](const GraphPtr& self, const std::string& path, const py::kwargs& kwargs) {
            self->get();
            const DotOptions options = dot_options(self, kwargs);
            BusyGraph busy(*self);
            py::gil_scoped_release release;
            render(self->graph, path, options);
          },
          py::arg("path"),
          "Draws the picture into path; the extension picks the format: .svg, .png, .pdf or "
          ".dot. Keywords as for to_dot.");
}

}  // namespace dagprop::python
