// Compiled functions from Python: graph.compile(outputs) returns a Function to run many times with
// new feeds; its values are read from it, whatever else runs in between (function.hpp).
#include "common.hpp"
#include "interrupt.hpp"

namespace dagprop::python {
namespace {

// A Function and the graph it runs, kept alive by it (and by the arrays that view its values).
struct PyFunction {
  GraphPtr owner;
  Function function;
};
using FunctionPtr = std::shared_ptr<PyFunction>;

void run_function(PyFunction& f, py::handle feeds_obj) {
  f.owner->get();  // refuses while another thread runs the graph
  Feeds feeds = feeds_from_python(*f.owner, feeds_obj);
  BusyGraph busy(*f.owner);
  run_interruptibly([&] { f.function.run(feeds.feeds); });
}

const PyExpr& check_node(const PyFunction& f, const PyExpr& node) {
  if (node.owner != f.owner) {
    throw Error("Function: " + node.owner->graph.describe(node.expr.id()) +
                " belongs to another Graph");
  }
  return node;
}

}  // namespace

void bind_functions(py::module_& m, py::class_<PyGraph, GraphPtr>& graph) {
  py::class_<PyFunction, FunctionPtr>(m, "Function",
                                      "Outputs of a graph compiled once, run many times.")
      .def(
          "run", [](PyFunction& f, py::handle feeds) { run_function(f, feeds); },
          py::arg("feeds") = py::none(),
          "Runs with feeds {input: array}; read the results with value(). The GIL is released "
          "while it runs.")
      .def(
          "__call__",
          [](PyFunction& f, py::handle feeds) -> py::object {
            run_function(f, feeds);
            py::list values;
            for (const Expr& e : f.function.outputs())
              values.append(tensor_as_array(Tensor(f.function.value(e))));
            if (values.size() == 1) return values[0];
            return values;
          },
          py::arg("feeds") = py::none(),
          "Runs and returns copies of the outputs' values (an array, or a list for several).")
      .def(
          "value",
          [](const FunctionPtr& f, const PyExpr& node) {
            check_node(*f, node);
            const TensorView value = f->function.value(node.expr);
            // An input's value is the array it was fed, which the plan holds only until its next
            // run: a copy, so that the array returned cannot outlive that memory.
            if (f->function.graph().is_input(node.expr.id())) return tensor_as_array(Tensor(value));
            return view_kept_by(value, py::cast(f));
          },
          py::arg("node"),
          "The node's value from this Function's last run, as a view of its workspace (no copy; "
          "the next run overwrites it: np.array(view) keeps one). An output, a kept node or a "
          "leaf; for an input, a copy of what it was fed (a run reads fed arrays in place).")
      .def(
          "retains",
          [](const PyFunction& f, const PyExpr& node) {
            return f.function.retains(check_node(f, node).expr);
          },
          py::arg("node"))
      .def_property_readonly("has_run", [](const PyFunction& f) { return f.function.has_run(); })
      .def_property_readonly("outputs",
                             [](const PyFunction& f) {
                               std::vector<PyExpr> outputs;
                               for (const Expr& e : f.function.outputs())
                                 outputs.push_back(wrap(f.owner, e));
                               return outputs;
                             })
      .def_property_readonly("num_steps",
                             [](const PyFunction& f) { return f.function.num_steps(); })
      .def_property_readonly("workspace_bytes",
                             [](const PyFunction& f) { return f.function.workspace_bytes(); })
      .def_property_readonly(
          "unshared_workspace_bytes",
          [](const PyFunction& f) { return f.function.unshared_workspace_bytes(); })
      .def_property_readonly("num_tasks",
                             [](const PyFunction& f) { return f.function.num_tasks(); })
      .def_property_readonly("parallelism",
                             [](const PyFunction& f) { return f.function.parallelism(); });

  graph.def(
      "compile",
      [](const GraphPtr& self, py::handle outputs, std::vector<PyExpr> keep, bool keep_all_values) {
        std::vector<PyExpr> wanted;
        if (py::isinstance<PyExpr>(outputs)) {
          wanted.push_back(outputs.cast<PyExpr>());
        } else {
          wanted = outputs.cast<std::vector<PyExpr>>();
        }
        for (const PyExpr& e : wanted) {
          if (e.owner != self) {
            throw Error("compile: " + e.owner->graph.describe(e.expr.id()) +
                        " belongs to another Graph");
          }
        }
        CompileOptions options;
        options.keep = unwrap(keep);
        options.keep_all_values = keep_all_values;
        auto f = std::make_shared<PyFunction>();
        f->owner = self;
        f->function = self->get().compile(unwrap(wanted), options);
        return f;
      },
      py::arg("outputs"), py::arg("keep") = std::vector<PyExpr>{},
      py::arg("keep_all_values") = false,
      "Compiles outputs (an Expr or a list) into a Function: run it with feeds, read its values "
      "with function.value(node). keep: nodes whose values stay readable too.");
}

}  // namespace dagprop::python
