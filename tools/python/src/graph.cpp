// Graph and Expr: building nodes, Python operators, running and backward with numpy feeds.
#include <memory>
#include <optional>
#include <string>
#include <utility>

#include "common.hpp"
#include "interrupt.hpp"

namespace dagprop::python {
namespace {

py::object not_implemented() {
  return py::reinterpret_borrow<py::object>(Py_NotImplemented);
}

// a (op) b with a Python operand on either side; `reflected`: the Expr is the right operand.
py::object binary(const PyExpr& self, py::handle other, Expr (*op)(Expr, Expr), bool reflected) {
  std::optional<PyExpr> o = as_expr(self, other);
  if (!o) return not_implemented();
  self.owner->get();  // refuses while another thread runs the graph
  const Expr r = reflected ? op(o->expr, self.expr) : op(self.expr, o->expr);
  return py::cast(wrap(self.owner, r));
}

std::optional<std::string> optional_name(const std::string& name) {
  if (name.empty()) return std::nullopt;
  return name;
}

// Name scopes as a context manager: `with g.scope("layer1"): ...`.
struct PyScope {
  GraphPtr owner;
  std::string name;
  std::optional<Graph::Scope> scope;
};

py::object run_outputs(const GraphPtr& self, py::handle outputs, py::handle feeds_obj) {
  const bool single = py::isinstance<PyExpr>(outputs);
  std::vector<PyExpr> wanted;
  if (single) {
    wanted.push_back(outputs.cast<PyExpr>());
  } else {
    wanted = outputs.cast<std::vector<PyExpr>>();
  }
  for (const PyExpr& e : wanted) {
    if (e.owner != self) {
      throw Error("run: " + e.owner->graph.describe(e.expr.id()) + " belongs to another Graph");
    }
  }
  self->get();
  Feeds feeds = feeds_from_python(*self, feeds_obj);
  std::vector<Tensor> values;
  {
    BusyGraph busy(*self);
    run_interruptibly([&] { values = self->graph.run(unwrap(wanted), feeds.feeds); });
  }
  if (single) return tensor_as_array(std::move(values[0]));
  py::list out;
  for (Tensor& t : values) out.append(tensor_as_array(std::move(t)));
  return out;
}

}  // namespace

void bind_graph(py::module_& m, py::class_<PyGraph, GraphPtr>& graph, py::class_<PyExpr>& expr) {
  graph.def(py::init<>())
      .def(
          "input",
          [](const GraphPtr& self, py::handle shape, py::handle dtype,
             std::optional<std::string> name, bool requires_grad) {
            Graph& g = self->get();
            const Shape s = shape_from_python(shape);
            const DType d = dtype.is_none() ? DType::f64 : dtype_from_python(dtype);
            const Expr e = name ? g.input(*name, s, d) : g.input(s, d);
            if (requires_grad) g.set_requires_grad(e);
            return wrap(self, e);
          },
          py::arg("shape"), py::arg("dtype") = py::none(), py::arg("name") = py::none(),
          py::arg("requires_grad") = false,
          "An input node, fed per run: graph.run(y, {x: array}). requires_grad: backward() "
          "stores its gradient too.")
      .def(
          "parameter",
          [](const GraphPtr& self, py::handle value, std::optional<std::string> name,
             py::handle dtype) {
            Graph& g = self->get();
            const std::optional<DType> d =
                dtype.is_none() ? std::nullopt : std::optional(dtype_from_python(dtype));
            if (py::isinstance<py::float_>(value) || py::isinstance<py::int_>(value)) {
              const double v = value.cast<double>();
              const DType dd = d.value_or(DType::f64);
              return wrap(self, name ? g.parameter(*name, v, dd) : g.parameter(v, dd));
            }
            const BorrowedTensor t = borrow_tensor(value, d);
            return wrap(self, name ? g.parameter(*name, t.view) : g.parameter(t.view));
          },
          py::arg("value"), py::arg("name") = py::none(), py::arg("dtype") = py::none(),
          "A trainable leaf holding a value (a number or an array, copied into the graph; "
          "float32 arrays stay float32, numbers and other arrays become float64 unless dtype "
          "says otherwise). backward() stores its gradient.")
      .def(
          "constant",
          [](const GraphPtr& self, py::handle value, std::optional<std::string> name,
             py::handle dtype) {
            Graph& g = self->get();
            const std::optional<DType> d =
                dtype.is_none() ? std::nullopt : std::optional(dtype_from_python(dtype));
            const std::string n = name.value_or("");
            if (py::isinstance<py::float_>(value) || py::isinstance<py::int_>(value)) {
              return wrap(self, g.constant(value.cast<double>(), d.value_or(DType::f64), n));
            }
            const BorrowedTensor t = borrow_tensor(value, d);
            return wrap(self, g.constant(t.view, n));
          },
          py::arg("value"), py::arg("name") = py::none(), py::arg("dtype") = py::none(),
          "A constant leaf (copied into the graph).")
      .def(
          "set_requires_grad",
          [](const GraphPtr& self, const PyExpr& input, bool requires_grad) {
            self->get().set_requires_grad(input.expr, requires_grad);
          },
          py::arg("input"), py::arg("requires_grad") = true)
      .def("run", run_outputs, py::arg("outputs"), py::arg("feeds") = py::none(),
           "Computes an output (an Expr: returns an array) or several (a list: returns a list), "
           "with feeds {input: array}. The plan is compiled on the first call for these outputs "
           "and reused. The returned arrays are the caller's own (the graph's workspace is reused "
           "by the next run). The GIL is released while the graph runs.")
      .def(
          "backward",
          [](const GraphPtr& self, const PyExpr& loss, py::handle feeds_obj, py::handle seed,
             bool accumulate, std::vector<PyExpr> keep, std::vector<PyExpr> retain_grad) {
            if (loss.owner != self) {
              throw Error("backward: " + loss.owner->graph.describe(loss.expr.id()) +
                          " belongs to another Graph");
            }
            self->get();
            Feeds feeds = feeds_from_python(*self, feeds_obj);
            BackwardOptions options;
            options.accumulate = accumulate;
            options.keep = unwrap(keep);
            options.retain_grad = unwrap(retain_grad);
            std::optional<BorrowedTensor> seed_tensor;
            if (!seed.is_none()) seed_tensor = borrow_tensor(seed, loss.expr.dtype());
            BusyGraph busy(*self);
            run_interruptibly([&] {
              if (seed_tensor) {
                self->graph.backward(loss.expr, seed_tensor->view, feeds.feeds, options);
              } else {
                self->graph.backward(loss.expr, feeds.feeds, options);
              }
            });
          },
          py::arg("loss"), py::arg("feeds") = py::none(), py::arg("seed") = py::none(),
          py::arg("accumulate") = false, py::arg("keep") = std::vector<PyExpr>{},
          py::arg("retain_grad") = std::vector<PyExpr>{},
          "Computes loss and stores the gradient of every parameter (and input with "
          "requires_grad) it depends on: read them as expr.grad. A non-scalar loss needs a seed "
          "of its shape. keep: nodes whose values stay readable afterwards. retain_grad: inner "
          "nodes whose gradients are stored too (expr.grad), until the next backward. The GIL is "
          "released while the graph runs.")
      .def(
          "labels",
          [](const GraphPtr& self, std::int64_t batch, std::int64_t num_classes,
             std::optional<std::string> name, py::handle dtype) {
            const DType d = dtype.is_none() ? DType::f32 : dtype_from_python(dtype);
            return wrap(self, self->get().labels(name.value_or(""), batch, num_classes, d));
          },
          py::arg("batch"), py::arg("num_classes"), py::arg("name") = py::none(),
          py::arg("dtype") = py::none(),
          "An input of class labels for cross_entropy and one_hot: fed an integer array (or whole "
          "numbers), every value checked to be a class index in [0, num_classes) as it is fed. "
          "Stored as float32 unless dtype says otherwise.")
      .def("zero_grad", [](const GraphPtr& self) { self->get().zero_grad(); })
      .def("parameters",
           [](const GraphPtr& self) {
             std::vector<PyExpr> out;
             for (const Expr& e : self->get().parameters()) out.push_back(wrap(self, e));
             return out;
           })
      .def(
          "find",
          [](const GraphPtr& self, const std::string& full_name) {
            return wrap(self, self->get().find(full_name));
          },
          py::arg("full_name"))
      .def("node",
           [](const GraphPtr& self, NodeId id) {
             Graph& g = self->get();
             if (id >= g.size()) {
               throw Error("node #" + std::to_string(id) + " is not in this graph of " +
                           std::to_string(g.size()) + " nodes");
             }
             return wrap(self, g.expr(id));
           })
      .def("__len__", [](const GraphPtr& self) { return self->get().size(); })
      .def(
          "scope",
          [](const GraphPtr& self, const std::string& name) {
            // Held by unique_ptr: a Graph::Scope cannot move.
            auto scope = std::make_unique<PyScope>();
            scope->owner = self;
            scope->name = name;
            return scope;
          },
          py::arg("name"), "with graph.scope('layer1'): nodes built inside are named layer1/...")
      .def(
          "set_num_threads", [](const GraphPtr& self, int n) { self->get().set_num_threads(n); },
          py::arg("n"),
          "0: serial; n >= 1: the TBB executor with n threads (bitwise the same results).")
      .def_property(
          "num_threads", [](const GraphPtr& self) { return self->get().num_threads(); },
          [](const GraphPtr& self, int n) { self->get().set_num_threads(n); })
      .def(
          "set_keep_values",
          [](const GraphPtr& self, bool keep) { self->get().set_keep_values(keep); },
          py::arg("keep") = true,
          "Keep every value a run computes readable (for pictures); applies to plans compiled "
          "afterwards.")
      .def_property(
          "keep_values", [](const GraphPtr& self) { return self->get().keep_values(); },
          [](const GraphPtr& self, bool keep) { self->get().set_keep_values(keep); })
      .def(
          "set_anomaly_mode",
          [](const GraphPtr& self, bool on) { self->get().set_anomaly_mode(on); },
          py::arg("enabled") = true,
          "Anomaly mode: every run stops with dagprop.Error at the first node that makes a NaN "
          "or an Inf (graph.anomaly_node names it).")
      .def_property(
          "anomaly_mode", [](const GraphPtr& self) { return self->get().anomaly_mode(); },
          [](const GraphPtr& self, bool on) { self->get().set_anomaly_mode(on); })
      .def(
          "analyze_parallelism",
          [](const GraphPtr& self, const std::vector<PyExpr>& outputs) {
            const ParallelismReport r = analyze_parallelism(self->get(), unwrap(outputs));
            py::dict d;
            d["num_nodes"] = r.num_nodes;
            d["work"] = r.work;
            d["span"] = r.span;
            d["parallelism"] = r.parallelism;
            py::list path;
            for (NodeId id : r.critical_path) path.append(wrap(self, self->graph.expr(id)));
            d["critical_path"] = path;
            d["report"] = r.to_string(self->graph);
            return d;
          },
          py::arg("outputs"),
          "Work, span (estimated nanoseconds), their ratio and the critical path of the plan "
          "for these outputs, as a dict (report: the same in a few lines).")
      .def_property_readonly("anomaly_node", [](const GraphPtr& self) -> py::object {
        const NodeId id = self->get().anomaly_node();
        if (id == kNoNode) return py::none();
        return py::cast(wrap(self, self->graph.expr(id)));
      });

  py::class_<PyScope>(m, "Scope")
      .def(
          "__enter__",
          [](PyScope& s) -> PyScope& {
            if (s.scope) throw Error("scope '" + s.name + "' is already entered");
            s.scope.emplace(s.owner->get(), s.name);
            return s;
          },
          py::return_value_policy::reference_internal)
      .def("__exit__", [](PyScope& s, py::args) {
        s.scope.reset();
        return false;
      });

  // numpy would otherwise take `array * expr` element by element, making an object array; with
  // __array_ufunc__ = None it hands the operation to Expr's reflected operators.
  expr.attr("__array_ufunc__") = py::none();
  expr.def_property_readonly("shape",
                             [](const PyExpr& e) {
                               e.owner->get();
                               return shape_to_python(e.expr.shape());
                             })
      .def_property_readonly("dtype",
                             [](const PyExpr& e) {
                               e.owner->get();
                               return dtype_to_python(e.expr.dtype());
                             })
      .def_property_readonly("ndim", [](const PyExpr& e) { return e.expr.shape().rank(); })
      .def_property_readonly(
          "name",
          [](const PyExpr& e) {
            e.owner->get();
            return optional_name(e.expr.name());
          },
          "The full name with scope; None for an unnamed op node.")
      .def_property_readonly("op",
                             [](const PyExpr& e) {
                               e.owner->get();
                               return std::string(e.expr.op_name());
                             })
      .def_property_readonly("id", [](const PyExpr& e) { return e.expr.id(); })
      .def_property_readonly("graph", [](const PyExpr& e) { return e.owner; })
      .def_property_readonly(
          "value",
          [](const PyExpr& e) {
            const TensorView value = e.owner->get().value(e.expr);
            // An input's value is the array last fed to it (held by the plan until its next
            // run): a copy, as for Function.value.
            if (e.owner->get().is_input(e.expr.id())) return tensor_as_array(Tensor(value));
            return view_as_array(value, e.owner);
          },
          "The latest value as a numpy array over the graph's memory (no copy; the array keeps "
          "the graph alive). A leaf's own value (writable: writing changes the parameter), or what "
          "the last run left for an output (overwritten by the next run: copy it to keep it); "
          "for an input, a copy of the array last fed to it.")
      .def_property_readonly(
          "grad",
          [](const PyExpr& e) { return view_as_array(e.owner->get().grad(e.expr), e.owner); },
          "The gradient the last backward() stored, as a numpy array over the graph's memory (no "
          "copy; the array keeps the graph alive; the next backward() overwrites it).")
      .def_property_readonly("has_grad",
                             [](const PyExpr& e) { return e.owner->get().has_grad(e.expr); })
      .def(
          "item", [](const PyExpr& e) { return e.owner->get().value(e.expr).item(); },
          "The value of a one-element node as a Python float.")
      .def(
          "set_value",
          [](const PyExpr& e, py::handle value) {
            Graph& g = e.owner->get();
            const BorrowedTensor t = borrow_tensor(value, e.expr.dtype());
            g.set_value(e.expr, t.view);
          },
          py::arg("value"), "Replaces a parameter's or constant's value (same shape).")
      .def("__add__",
           [](const PyExpr& a, py::handle b) { return binary(a, b, dagprop::add, false); })
      .def("__radd__",
           [](const PyExpr& a, py::handle b) { return binary(a, b, dagprop::add, true); })
      .def("__sub__",
           [](const PyExpr& a, py::handle b) { return binary(a, b, dagprop::sub, false); })
      .def("__rsub__",
           [](const PyExpr& a, py::handle b) { return binary(a, b, dagprop::sub, true); })
      .def("__mul__",
           [](const PyExpr& a, py::handle b) { return binary(a, b, dagprop::mul, false); })
      .def("__rmul__",
           [](const PyExpr& a, py::handle b) { return binary(a, b, dagprop::mul, true); })
      .def("__truediv__",
           [](const PyExpr& a, py::handle b) { return binary(a, b, dagprop::div, false); })
      .def("__rtruediv__",
           [](const PyExpr& a, py::handle b) { return binary(a, b, dagprop::div, true); })
      .def("__matmul__",
           [](const PyExpr& a, py::handle b) {
             return binary(
                 a, b, [](Expr x, Expr y) { return dagprop::matmul(x, y); }, false);
           })
      .def("__rmatmul__",
           [](const PyExpr& a, py::handle b) {
             return binary(
                 a, b, [](Expr x, Expr y) { return dagprop::matmul(x, y); }, true);
           })
      .def(
          "__pow__",
          [](const PyExpr& a, py::handle exponent, py::handle modulo) -> py::object {
            // Only a number exponent: the table's pow has the exponent as an attribute.
            const bool number =
                py::isinstance<py::float_>(exponent) || py::isinstance<py::int_>(exponent) ||
                py::isinstance(exponent, py::module_::import("numpy").attr("number"));
            if (!number || !modulo.is_none()) return not_implemented();
            a.owner->get();
            return py::cast(wrap(a.owner, dagprop::pow(a.expr, exponent.cast<double>())));
          },
          py::arg("exponent"), py::arg("modulo") = py::none())
      .def("__neg__",
           [](const PyExpr& a) {
             a.owner->get();
             return wrap(a.owner, dagprop::neg(a.expr));
           })
      .def("__pos__", [](const PyExpr& a) { return a; })
      // Expressions are dict keys (feeds): equal when they are the same node of the same graph.
      // Comparisons as ops are dagprop.greater(a, b) and friends.
      .def("__eq__",
           [](const PyExpr& a, py::handle b) {
             if (!py::isinstance<PyExpr>(b)) return false;
             const PyExpr& o = b.cast<const PyExpr&>();
             return a.owner == o.owner && a.expr.id() == o.expr.id();
           })
      .def("__ne__",
           [](const PyExpr& a, py::handle b) {
             if (!py::isinstance<PyExpr>(b)) return true;
             const PyExpr& o = b.cast<const PyExpr&>();
             return !(a.owner == o.owner && a.expr.id() == o.expr.id());
           })
      .def("__hash__",
           [](const PyExpr& a) {
             return py::hash(
                 py::make_tuple(reinterpret_cast<std::uintptr_t>(a.owner.get()), a.expr.id()));
           })
      .def("__repr__", [](const PyExpr& e) {
        return "<dagprop.Expr " + e.owner->get().describe(e.expr.id()) + ">";
      });
}

}  // namespace dagprop::python
