// The op table from Python: its entries (dagprop/__init__.py makes one function per op from them,
// so an op registered in C++ appears in Python without binding code) and applying an op by name.
#include <string>

#include <dagprop/op_docs.hpp>

#include "common.hpp"

namespace dagprop::python {
namespace {

std::string_view grad_kind_name(GradKind kind) {
  switch (kind) {
    case GradKind::smooth:
      return "derivative";
    case GradKind::zero:
      return "zero";
    case GradKind::straight_through:
      return "straight_through";
    case GradKind::leaf:
      return "leaf";
  }
  return "?";
}

// The attribute keywords: OpAttrs' own fields. Ops give them meanings (notes_doc says which they
// read) but declare no names of their own, so the fields are the keywords, as in graph files.
constexpr const char* kAttrKeywords = "scalar, axis, axis2, keepdim, all_axes, shape, ints";

OpAttrs attrs_from_python(std::string_view op, const py::dict& kwargs) {
  OpAttrs attrs;
  bool all_axes_given = false, axis_given = false;
  for (auto [key, value] : kwargs) {
    const std::string k = key.cast<std::string>();
    try {
      if (k == "scalar") {
        attrs.scalar = value.cast<double>();
      } else if (k == "axis") {
        attrs.axis = value.cast<int>();
        axis_given = true;
      } else if (k == "axis2") {
        attrs.axis2 = value.cast<int>();
      } else if (k == "keepdim") {
        attrs.keepdim = value.cast<bool>();
      } else if (k == "all_axes") {
        attrs.all_axes = value.cast<bool>();
        all_axes_given = true;
      } else if (k == "shape") {
        attrs.shape = shape_from_python(value);
      } else if (k == "ints") {
        attrs.ints = value.cast<std::vector<std::int64_t>>();
      } else {
        throw Error("dagprop." + std::string(op) + ": unknown keyword '" + k +
                    "'; the attributes are OpAttrs' fields: " + kAttrKeywords + " (and name=)");
      }
    } catch (const py::cast_error&) {
      throw Error("dagprop." + std::string(op) + ": keyword '" + k + "' got a " +
                  py::str(py::type::of(value).attr("__name__")).cast<std::string>() +
                  ", which is not the field's type");
    }
  }
  // An axis names the axis to reduce: reductions then reduce that one axis, not every axis
  // (all_axes is OpAttrs' default; ops that do not reduce ignore it).
  if (axis_given && !all_axes_given) attrs.all_axes = false;
  return attrs;
}

}  // namespace

void bind_ops(py::module_& m) {
  m.def(
      "_op_table",
      [] {
        const OpRegistry& registry = OpRegistry::global();
        py::list ops;
        for (OpId id = 0; id < registry.size(); ++id) {
          const OpDef& def = registry[id];
          py::dict d;
          d["name"] = std::string(def.name);
          d["arity"] = def.arity;
          d["grad_kind"] = std::string(grad_kind_name(def.grad_kind));
          d["forward_doc"] = std::string(def.forward_doc);
          d["gradient_doc"] = std::string(def.gradient_doc);
          d["notes_doc"] = std::string(def.notes_doc);
          d["operand_names"] = std::string(def.operand_names);
          d["nondifferentiable_inputs"] = def.nondifferentiable_inputs;
          d["commutative"] = def.commutative;
          ops.append(d);
        }
        return ops;
      },
      "Every op of the registry (built-in and registered at run time) with its documentation.");

  m.def(
      "_apply",
      [](const std::string& op, py::sequence inputs, py::dict attrs, py::handle name) {
        const OpId id = OpRegistry::global().id_of(op);  // throws listing the ops if unknown
        // The graph comes from the first expression; numbers and arrays become its constants.
        std::optional<PyExpr> first;
        for (py::handle h : inputs) {
          if (py::isinstance<PyExpr>(h)) {
            first = h.cast<PyExpr>();
            break;
          }
        }
        if (!first) {
          throw Error("dagprop." + op +
                      ": none of the inputs is a dagprop.Expr, so there is no graph to build in; "
                      "make one of them with graph.constant(...) or graph.input(...)");
        }
        Graph& g = first->owner->get();
        std::vector<Expr> exprs;
        for (py::handle h : inputs) {
          std::optional<PyExpr> e = as_expr(*first, h);
          if (!e) {
            throw py::type_error("dagprop." + op + ": an input is a " +
                                 py::str(py::type::of(h).attr("__name__")).cast<std::string>() +
                                 "; pass expressions, numbers or numpy arrays");
          }
          exprs.push_back(e->expr);
        }
        const std::string n = name.is_none() ? std::string{} : name.cast<std::string>();
        return wrap(first->owner, g.apply(id, exprs, attrs_from_python(op, attrs), n));
      },
      py::arg("op"), py::arg("inputs"), py::arg("attrs"), py::arg("name") = py::none());

  m.def("op_table_markdown", &op_table_markdown, "The op reference (docs/ops.md) in Markdown.");
  m.def("blas_kernels", &blas_kernels, "The BLAS behind matmul and the kernels it runs here.");
}

}  // namespace dagprop::python
