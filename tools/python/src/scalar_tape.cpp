// The scalar tape from Python (scalar_tape.hpp): float64 scalars whose operations record onto a
// flat tape as they compute their values; backward() sweeps it once. A Scalar keeps its tape
// alive, so a stale handle cannot arise from Python (clear() makes old handles an Error).
#include <memory>
#include <optional>
#include <vector>

#include <dagprop/scalar_tape.hpp>

#include "common.hpp"

namespace dagprop::python {
namespace {

using TapePtr = std::shared_ptr<ScalarTape>;

struct PyScalar {
  TapePtr tape;
  Scalar scalar;
};

PyScalar on(const TapePtr& tape, Scalar s) {
  return {tape, s};
}

// A Python operand as a Scalar of `like`'s tape: a Scalar of the same tape, or a number as a
// constant entry. nullopt for anything else (operators return NotImplemented).
std::optional<Scalar> operand(const PyScalar& like, py::handle other) {
  if (py::isinstance<PyScalar>(other)) {
    const auto& o = other.cast<const PyScalar&>();
    if (o.tape != like.tape) {
      throw Error("scalar tape: an operation mixes entries of two tapes (entry " +
                  std::to_string(o.scalar.index()) + " of another tape); record on one tape");
    }
    return o.scalar;
  }
  if (py::isinstance<py::float_>(other) || py::isinstance<py::int_>(other)) {
    return like.tape->constant(other.cast<double>());
  }
  return std::nullopt;
}

py::object binary(const PyScalar& self, py::handle other, TapeOp op, bool reflected) {
  const std::optional<Scalar> o = operand(self, other);
  if (!o) return py::reinterpret_borrow<py::object>(Py_NotImplemented);
  const Scalar r =
      reflected ? self.tape->binary(op, *o, self.scalar) : self.tape->binary(op, self.scalar, *o);
  return py::cast(on(self.tape, r));
}

PyScalar unary(const PyScalar& x, TapeOp op) {
  return on(x.tape, x.tape->unary(op, x.scalar));
}

}  // namespace

void bind_scalar_tape(py::module_& m) {
  py::class_<ScalarTape, TapePtr>(m, "ScalarTape",
                                  "A flat tape of float64 scalar operations: values at once, "
                                  "adjoints from one reverse sweep (backward).")
      .def(py::init<>())
      .def(
          "variable", [](const TapePtr& t, double v) { return on(t, t->variable(v)); },
          py::arg("value"), "An independent variable (its adjoint is read after backward).")
      .def(
          "constant", [](const TapePtr& t, double v) { return on(t, t->constant(v)); },
          py::arg("value"))
      .def(
          "weighted_sum",
          [](const TapePtr& t, const std::vector<PyScalar>& x, const std::vector<PyScalar>& w,
             const PyScalar& b) {
            std::vector<Scalar> xs, ws;
            for (const PyScalar& s : x) xs.push_back(s.scalar);
            for (const PyScalar& s : w) ws.push_back(s.scalar);
            return on(t, t->weighted_sum(xs, ws, b.scalar));
          },
          py::arg("x"), py::arg("w"), py::arg("b"),
          "x[0] w[0] + ... + x[n-1] w[n-1] + b as one entry (the neuron's weighted sum).")
      .def(
          "backward", [](ScalarTape& t, const PyScalar& loss) { t.backward(loss.scalar); },
          py::arg("loss"), "Sweeps the whole tape in reverse from d loss / d loss = 1.")
      .def(
          "adjoint", [](const ScalarTape& t, const PyScalar& x) { return t.adjoint(x.scalar); },
          py::arg("x"), "d loss / d x from the last backward().")
      .def(
          "to_graph",
          [](const TapePtr& t, const GraphPtr& graph, const PyScalar& output) {
            const TapeGraph built = t->to_graph(graph->get(), output.scalar);
            return wrap(graph, built.output);
          },
          py::arg("graph"), py::arg("output"),
          "Rebuilds what output depends on as nodes of graph (variables become parameters "
          "v<entry>): for pictures and gradients of gradients. Returns the output's node.")
      .def("clear", &ScalarTape::clear, "Forgets every entry; their Scalars become stale.")
      .def("__len__", &ScalarTape::size)
      .def_property_readonly("memory_bytes", &ScalarTape::memory_bytes);

  py::class_<PyScalar>(m, "Scalar", "One entry of a ScalarTape; operators record new entries.")
      .def_property_readonly("value", [](const PyScalar& s) { return s.tape->value(s.scalar); })
      .def_property_readonly("adjoint", [](const PyScalar& s) { return s.tape->adjoint(s.scalar); })
      .def_property_readonly("index", [](const PyScalar& s) { return s.scalar.index(); })
      .def_property_readonly("tape", [](const PyScalar& s) { return s.tape; })
      .def("__float__", [](const PyScalar& s) { return s.tape->value(s.scalar); })
      .def("__repr__",
           [](const PyScalar& s) {
             return "Scalar(" + std::to_string(s.tape->value(s.scalar)) + ", entry " +
                    std::to_string(s.scalar.index()) + ")";
           })
      .def("__add__",
           [](const PyScalar& a, py::handle b) { return binary(a, b, TapeOp::add, false); })
      .def("__radd__",
           [](const PyScalar& a, py::handle b) { return binary(a, b, TapeOp::add, true); })
      .def("__sub__",
           [](const PyScalar& a, py::handle b) { return binary(a, b, TapeOp::sub, false); })
      .def("__rsub__",
           [](const PyScalar& a, py::handle b) { return binary(a, b, TapeOp::sub, true); })
      .def("__mul__",
           [](const PyScalar& a, py::handle b) { return binary(a, b, TapeOp::mul, false); })
      .def("__rmul__",
           [](const PyScalar& a, py::handle b) { return binary(a, b, TapeOp::mul, true); })
      .def("__truediv__",
           [](const PyScalar& a, py::handle b) { return binary(a, b, TapeOp::div, false); })
      .def("__rtruediv__",
           [](const PyScalar& a, py::handle b) { return binary(a, b, TapeOp::div, true); })
      .def("__neg__", [](const PyScalar& x) { return unary(x, TapeOp::neg); })
      .def("exp", [](const PyScalar& x) { return unary(x, TapeOp::exp); })
      .def("log", [](const PyScalar& x) { return unary(x, TapeOp::log); })
      .def("sigmoid", [](const PyScalar& x) { return unary(x, TapeOp::sigmoid); })
      .def("tanh", [](const PyScalar& x) { return unary(x, TapeOp::tanh); })
      .def("relu", [](const PyScalar& x) { return unary(x, TapeOp::relu); })
      .def("softplus", [](const PyScalar& x) { return unary(x, TapeOp::softplus); });
}

}  // namespace dagprop::python
