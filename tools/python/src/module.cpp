// The extension module _dagprop; dagprop/__init__.py re-exports it and adds the ops of the table.
#include "common.hpp"
#include "interrupt.hpp"

PYBIND11_MODULE(_dagprop, m) {
  namespace py = pybind11;
  using namespace dagprop::python;
  m.doc() = "dagprop's C++ engine: graphs, reverse-mode autodiff, the op table, pictures";
  // Python code catches dagprop's errors as ValueError (a bad value or shape) or as dagprop.Error.
  py::register_exception<dagprop::Error>(m, "Error", PyExc_ValueError);

  py::class_<PyGraph, GraphPtr> graph(m, "Graph",
                                      "A computation graph: leaves, ops, runs and gradients.");
  py::class_<PyExpr> expr(m, "Expr", "A node of a Graph; operators add nodes to its graph.");
  bind_tensors(m);
  bind_graph(m, graph, expr);
  bind_autodiff(m);
  bind_ops(m);
  bind_nn(m);
  py::module_ nn_module = m.attr("nn");
  bind_layers(nn_module);
  bind_trainer(nn_module);
  bind_scalar_tape(m);
  SigintWatch::initialize();
  bind_pictures(m, graph);
  bind_graph_files(m, graph);
  bind_user_ops(m);
  bind_data(m);
  bind_functions(m, graph);
}
