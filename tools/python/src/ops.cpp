// The op table from Python: its entries (dagprop/__init__.py makes one function per op from them,
// so an op registered in C++ appears in Python without binding code) and applying an op by name.
#include <optional>
#include <span>
#include <string>
#include <vector>

#include <boost/container/small_vector.hpp>

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

// A keyword argument as the attribute its op declares (OpDef::attributes): converted by the
// declared kind, so the engine checks range and length and names the op and attribute if wrong.
AttrValue attr_value_from_python(const std::string& op, const AttrSpec& spec, py::handle value) {
  try {
    switch (spec.kind) {
      case AttrKind::number:
        return value.cast<double>();
      case AttrKind::integer:
        if (py::isinstance<py::float_>(value)) break;  // 2.5 for an integer: refused below
        return value.cast<std::int64_t>();
      case AttrKind::boolean:
        if (!py::isinstance<py::bool_>(value)) break;
        return value.cast<bool>();
      case AttrKind::shape:
        return shape_from_python(value);
      case AttrKind::integers:
        if (py::isinstance<py::int_>(value)) break;
        return value.cast<std::vector<std::int64_t>>();
    }
  } catch (const py::cast_error&) {
  }
  throw Error("dagprop." + op + ": attribute '" + std::string(spec.name) + "' is " +
              std::string(attr_kind_name(spec.kind)) + ", got a " +
              py::str(py::type::of(value).attr("__name__")).cast<std::string>() + " (" +
              py::repr(value).cast<std::string>() + ")");
}

std::vector<NamedAttr> attrs_from_python(const std::string& op, const OpDef& def,
                                         const py::dict& kwargs, std::vector<std::string>& names) {
  std::vector<NamedAttr> named;
  names.reserve(kwargs.size());  // NamedAttr holds a view of its name: no reallocation
  bool all_axes_given = false, axis_given = false;
  for (auto [key, value] : kwargs) {
    names.push_back(key.cast<std::string>());
    const std::string& k = names.back();
    const AttrSpec* spec = find_attribute(def.attributes, k);
    if (spec == nullptr) {
      throw Error("dagprop." + op + ": unknown keyword '" + k + "'; its attributes are " +
                  attribute_names(def.attributes) + " (and name=)");
    }
    named.push_back({k, attr_value_from_python(op, *spec, value)});
    axis_given = axis_given || k == "axis";
    all_axes_given = all_axes_given || k == "all_axes";
  }
  // As in numpy and PyTorch, sum(x, axis=0) reduces that axis: an op that reduces every axis by
  // default (all_axes) reduces only the one given.
  if (axis_given && !all_axes_given && find_attribute(def.attributes, "all_axes") != nullptr)
    named.push_back({"all_axes", false});
  return named;
}

PyExpr apply_by_name(const std::string& op, const py::sequence& inputs, const py::dict& attrs,
                     py::handle name) {
  const OpId id = OpRegistry::global().id_of(op);  // throws listing the ops if unknown
  const OpDef& def = OpRegistry::global()[id];
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
  std::vector<std::string> names;
  const std::vector<NamedAttr> named = attrs_from_python(op, def, attrs, names);
  return wrap(first->owner, g.apply(def.name, exprs, std::span<const NamedAttr>(named), n));
}

// Each op's attributes at their defaults, made once per op: what a call without keywords builds.
// (Module code runs under the GIL, so the cache needs no lock.)
const OpAttrs& default_attributes(OpId id) {
  static std::vector<std::optional<OpAttrs>> cache;
  if (cache.size() <= id) cache.resize(id + 1);
  if (!cache[id]) cache[id] = make_attributes(OpRegistry::global()[id], {});
  return *cache[id];
}

// dagprop.<op>(*exprs) without keywords or name, every input an expression: the W4 chain's path,
// which skips the name lookups and the keyword conversion. nullopt where that does not apply.
std::optional<PyExpr> apply_plain(OpId id, const py::tuple& inputs) {
  boost::container::small_vector<Expr, 4> exprs;
  const PyExpr* first = nullptr;
  for (py::handle h : inputs) {
    if (!py::isinstance<PyExpr>(h)) return std::nullopt;
    const auto& e = h.cast<const PyExpr&>();
    if (first == nullptr) first = &e;
    exprs.push_back(e.expr);
  }
  if (first == nullptr) return std::nullopt;
  Graph& g = first->owner->get();
  return wrap(first->owner, g.apply(id, std::span<const Expr>(exprs.data(), exprs.size()),
                                    default_attributes(id)));
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
          d["id"] = id;
          d["arity"] = def.arity;
          d["grad_kind"] = std::string(grad_kind_name(def.grad_kind));
          d["forward_doc"] = std::string(def.forward_doc);
          d["gradient_doc"] = std::string(def.gradient_doc);
          d["notes_doc"] = std::string(def.notes_doc);
          d["operand_names"] = std::string(def.operand_names);
          d["nondifferentiable_inputs"] = def.nondifferentiable_inputs;
          d["commutative"] = def.commutative;
          py::list attributes;
          for (const AttrSpec& spec : def.attributes) {
            py::dict a;
            a["name"] = std::string(spec.name);
            a["kind"] = std::string(attr_kind_name(spec.kind));
            a["default"] = default_text(spec);
            a["doc"] = std::string(spec.doc);
            attributes.append(a);
          }
          d["attributes"] = attributes;
          ops.append(d);
        }
        return ops;
      },
      "Every op of the registry (built-in and registered at run time) with its documentation.");

  m.def(
      "_apply_id",
      [](OpId id, const py::tuple& inputs, const py::dict& attrs, py::handle name) -> py::object {
        if (attrs.empty() && name.is_none()) {
          if (std::optional<PyExpr> built = apply_plain(id, inputs)) return py::cast(*built);
        }
        return py::cast(
            apply_by_name(std::string(OpRegistry::global()[id].name), inputs, attrs, name));
      },
      py::arg("id"), py::arg("inputs"), py::arg("attrs"), py::arg("name") = py::none());
  m.def("_apply", &apply_by_name, py::arg("op"), py::arg("inputs"), py::arg("attrs"),
        py::arg("name") = py::none());

  m.def("op_table_markdown", &op_table_markdown, "The op reference (docs/ops.md) in Markdown.");
  m.def("blas_kernels", &blas_kernels, "The BLAS behind matmul and the kernels it runs here.");
}

}  // namespace dagprop::python
