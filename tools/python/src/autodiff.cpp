// Gradients as expressions (grad, second order), gradcheck and the node-local gradient checks.
#include <string>
#include <utility>

#include "common.hpp"
#include "interrupt.hpp"

namespace dagprop::python {
namespace {

// The graph of y, after checking that every expression of `others` belongs to it.
const GraphPtr& graph_of(const PyExpr& y, const std::vector<PyExpr>& others, const char* what) {
  for (const PyExpr& e : others) {
    if (e.owner != y.owner) {
      throw Error(std::string(what) + ": " + e.owner->graph.describe(e.expr.id()) +
                  " belongs to another Graph than " + y.owner->graph.describe(y.expr.id()));
    }
  }
  y.owner->get();
  return y.owner;
}

GradcheckOptions gradcheck_options(double eps, double atol, double rtol, std::uint64_t seed) {
  GradcheckOptions o;
  o.eps = eps;
  o.atol = atol;
  o.rtol = rtol;
  o.seed = seed;
  return o;
}

struct PyLocalGradientFailure {
  PyExpr node;
  std::string reason;
};

}  // namespace

void bind_autodiff(py::module_& m) {
  m.def(
      "grad",
      [](const PyExpr& y, py::handle wrt, py::handle seed) -> py::object {
        const bool single = py::isinstance<PyExpr>(wrt);
        const std::vector<PyExpr> xs =
            single ? std::vector<PyExpr>{wrt.cast<PyExpr>()} : wrt.cast<std::vector<PyExpr>>();
        const GraphPtr& owner = graph_of(y, xs, "grad");
        Expr seed_expr;
        if (!seed.is_none()) {
          std::optional<PyExpr> s = as_expr(y, seed);
          if (!s) throw py::type_error("grad: seed must be an Expr or an array");
          graph_of(y, {*s}, "grad (seed)");
          seed_expr = s->expr;
        }
        const std::vector<Expr> grads = dagprop::grad(y.expr, unwrap(xs), seed_expr);
        if (single) return py::cast(wrap(owner, grads[0]));
        py::list out;
        for (const Expr& g : grads) out.append(wrap(owner, g));
        return out;
      },
      py::arg("y"), py::arg("wrt"), py::arg("seed") = py::none(),
      "Gradients of y with respect to wrt (an Expr, or a list of them) as expressions of the same "
      "graph: run them, draw them, differentiate them again (second order). A non-scalar y needs "
      "a seed of its shape (the result is then seed^T dy/dwrt).");

  py::class_<GradcheckResult>(m, "GradcheckResult")
      .def_readonly("ok", &GradcheckResult::ok)
      .def_readonly("max_abs_error", &GradcheckResult::max_abs_error)
      .def_readonly("worst_node", &GradcheckResult::worst_node)
      .def_readonly("worst_index", &GradcheckResult::worst_index)
      .def_readonly("analytic", &GradcheckResult::analytic)
      .def_readonly("numeric", &GradcheckResult::numeric)
      .def_readonly("elements_checked", &GradcheckResult::elements_checked)
      .def("report", &GradcheckResult::report)
      .def("__bool__", [](const GradcheckResult& r) { return r.ok; })
      .def("__repr__", [](const GradcheckResult& r) { return r.report(); });

  m.def(
      "gradcheck",
      [](const PyExpr& y, std::vector<PyExpr> wrt, py::handle feeds_obj, double eps, double atol,
         double rtol, std::uint64_t seed) {
        const GraphPtr& owner = graph_of(y, wrt, "gradcheck");
        Feeds feeds = feeds_from_python(*owner, feeds_obj);
        BusyGraph busy(*owner);
        GradcheckResult result;
        run_interruptibly([&] {
          result = dagprop::gradcheck(y.expr, unwrap(wrt), feeds.feeds,
                                      gradcheck_options(eps, atol, rtol, seed));
        });
        return result;
      },
      py::arg("y"), py::arg("wrt"), py::arg("feeds") = py::none(), py::arg("eps") = 1e-6,
      py::arg("atol") = 1e-5, py::arg("rtol") = 1e-3, py::arg("seed") = 0,
      "grad(y, wrt) against central finite differences of y (float64; wrt are parameters or "
      "inputs, perturbed in place and restored). A non-scalar y is projected on a fixed random "
      "vector. Returns a GradcheckResult (truthy when ok; report() says where it failed).");

  py::class_<PyLocalGradientFailure>(m, "LocalGradientFailure")
      .def_readonly("node", &PyLocalGradientFailure::node)
      .def_readonly("reason", &PyLocalGradientFailure::reason)
      .def("__repr__", [](const PyLocalGradientFailure& f) {
        return "<LocalGradientFailure " + f.node.owner->graph.describe(f.node.expr.id()) + ": " +
               f.reason + ">";
      });

  m.def(
      "check_local_gradients",
      [](const PyExpr& y, py::handle feeds_obj, double eps, double atol, double rtol) {
        const GraphPtr& owner = graph_of(y, {}, "check_local_gradients");
        Feeds feeds = feeds_from_python(*owner, feeds_obj);
        std::vector<LocalGradientFailure> failures;
        {
          BusyGraph busy(*owner);
          run_interruptibly([&] {
            failures = dagprop::check_local_gradients(y.expr, feeds.feeds,
                                                      gradcheck_options(eps, atol, rtol, 0));
          });
        }
        std::vector<PyLocalGradientFailure> out;
        for (const LocalGradientFailure& f : failures) {
          out.push_back({wrap(owner, owner->graph.expr(f.node)), f.reason});
        }
        return out;
      },
      py::arg("y"), py::arg("feeds") = py::none(), py::arg("eps") = 1e-6, py::arg("atol") = 1e-5,
      py::arg("rtol") = 1e-3,
      "Runs the graph, then checks each op node y depends on in isolation: its gradient rule at "
      "its actual inputs against finite differences of its own kernel. Returns the failures "
      "(empty when every rule is right); pass them to to_dot/render to mark them.");
}

}  // namespace dagprop::python
