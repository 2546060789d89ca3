// The op registry: the leaves, the built-in ops (registered by ops/), then user ops.
#include <dagprop/op_def.hpp>

#include <dagprop/error.hpp>

#include "builtin_ops.hpp"
#include "leaves.hpp"

namespace dagprop {
namespace {

void check_complete(const OpDef& def) {
  const std::string name(def.name);
  if (def.name.empty()) throw Error("an op definition needs a name");
  check_attribute_table(def.name, def.attributes);
  if (def.grad_kind == GradKind::leaf) return;
  if (def.shape == nullptr) throw Error("op '" + name + "' has no shape rule");
  if (def.forward_f32 == nullptr && def.forward_f64 == nullptr)
    throw Error("op '" + name + "' has no forward kernel");
  if (def.vjp == nullptr && def.grad_kind != GradKind::zero) {
    throw Error("op '" + name +
                "' has no gradient rule; give it one, or declare grad_kind = GradKind::zero " +
                "if its derivative is zero by definition");
  }
  if (def.forward_doc.empty() || def.gradient_doc.empty()) {
    throw Error(
        "op '" + name +
        "' must document its forward formula and its derivative (forward_doc, gradient_doc)");
  }
  if (!def.operand_names.empty()) {
    std::size_t names = 1;
    for (std::size_t at = def.operand_names.find(", "); at != std::string_view::npos;
         at = def.operand_names.find(", ", at + 2))
      ++names;
    if (def.commutative || (def.arity >= 0 && names != static_cast<std::size_t>(def.arity))) {
      throw Error("op '" + name + "' names " + std::to_string(names) + " operands ('" +
                  std::string(def.operand_names) + "') for " + std::to_string(def.arity) +
                  " inputs" + (def.commutative ? " and is declared commutative" : "") +
                  "; give one name per input, separated by ', ', or declare it commutative "
                  "without names");
    }
  }
}

}  // namespace

OpAttrs make_attributes(const OpDef& def, std::span<const NamedAttr> named) {
  OpAttrs attrs = default_attributes(def.attributes);
  for (std::size_t i = 0; i < named.size(); ++i) {
    const std::string_view name = named[i].name;
    const AttrSpec* spec = find_attribute(def.attributes, name);
    if (spec == nullptr) {
      throw Error("op '" + std::string(def.name) + "' has no attribute '" + std::string(name) +
                  "'; its attributes: " + attribute_names(def.attributes));
    }
    for (std::size_t j = 0; j < i; ++j) {
      if (named[j].name == name)
        throw Error("op '" + std::string(def.name) + "': attribute '" + std::string(name) +
                    "' is given twice");
    }
    try {
      write_attribute(attrs, *spec, named[i].value);
    } catch (const Error& e) {
      throw Error("op '" + std::string(def.name) + "': " + e.what());
    }
  }
  return attrs;
}

OpRegistry::OpRegistry() {
  // The leaves take the first ids (LeafOp), then ops/ appends the built-in ops.
  for (const OpDef* leaf : {&leaf_def_input(), &leaf_def_parameter(), &leaf_def_constant()}) {
    check_complete(*leaf);
    defs_.push_back(*leaf);
  }
  builtin::register_ops([this](const OpDef& def) {
    check_complete(def);
    defs_.push_back(def);
  });
}

OpRegistry& OpRegistry::global() {
  static OpRegistry registry;
  return registry;
}

OpId OpRegistry::add(const OpDef& def) {
  check_complete(def);
  if (def.grad_kind == GradKind::leaf)
    throw Error("user ops cannot be leaves; use input(), parameter() or constant()");
  if (find(def.name))
    throw Error("an op named '" + std::string(def.name) + "' is already registered");
  if (defs_.size() >= 0xFFFF) throw Error("the op table is full");
  defs_.push_back(def);
  return static_cast<OpId>(defs_.size() - 1);
}

std::optional<OpId> OpRegistry::find(std::string_view name) const {
  for (std::size_t i = 0; i < defs_.size(); ++i) {
    if (defs_[i].name == name) return static_cast<OpId>(i);
  }
  return std::nullopt;
}

OpId OpRegistry::id_of(std::string_view name) const {
  if (auto id = find(name)) return *id;
  std::string known;
  for (const OpDef& def : defs_) known += (known.empty() ? "" : ", ") + std::string(def.name);
  throw Error("unknown op '" + std::string(name) + "'; known ops: " + known);
}

}  // namespace dagprop
