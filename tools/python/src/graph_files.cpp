// Graph files from Python: save a graph (with its values and gradients if asked) and load one back
// as a new Graph (versioned JSON with exact tensor bits, docs/file-format.md).
#include <memory>
#include <string>
#include <utility>

#include <dagprop/graph_io.hpp>

#include "common.hpp"

namespace dagprop::python {
namespace {

SaveOptions save_options(bool values, bool gradients) {
  SaveOptions o;
  o.values = values;
  o.gradients = gradients;
  return o;
}

}  // namespace

void bind_graph_files(py::module_& m, py::class_<PyGraph, GraphPtr>& graph) {
  graph
      .def(
          "save",
          [](const GraphPtr& self, const std::string& path, bool values, bool gradients) {
            save_graph(self->get(), path, save_options(values, gradients));
          },
          py::arg("path"), py::arg("values") = false, py::arg("gradients") = false,
          "Writes the graph to a file (JSON; parameters and constants with their exact bits). "
          "values / gradients: also the latest value / gradient of every node that has one.")
      .def(
          "to_json",
          [](const GraphPtr& self, bool values, bool gradients) {
            return write_graph(self->get(), save_options(values, gradients));
          },
          py::arg("values") = false, py::arg("gradients") = false, "The graph file's text.");

  m.def(
      "load",
      [](const std::string& path) { return std::make_shared<PyGraph>(load_graph(path).graph); },
      py::arg("path"),
      "Reads a graph file into a new Graph; find its nodes by name with graph.find(). A malformed "
      "file is a dagprop.Error saying where.");
  m.def(
      "read_json",
      [](const std::string& text) { return std::make_shared<PyGraph>(read_graph(text).graph); },
      py::arg("text"), "Reads a graph file's text into a new Graph.");
}

}  // namespace dagprop::python
