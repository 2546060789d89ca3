// The op registry: the built-in table in DAGPROP_BUILTIN_OPS order, then user ops.
#include <dagprop/op_def.hpp>

#include <dagprop/error.hpp>
#include <dagprop/ops.hpp>

namespace dagprop {
namespace {

void check_complete(const OpDef& def) {
  const std::string name(def.name);
  if (def.name.empty()) throw Error("an op definition needs a name");
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
}

}  // namespace

OpRegistry::OpRegistry() {
  const std::string_view names[] = {
#define DAGPROP_OP_NAME(name) #name,
      DAGPROP_BUILTIN_OPS(DAGPROP_OP_NAME)
#undef DAGPROP_OP_NAME
  };
#define DAGPROP_OP_REGISTER(name) defs_.push_back(ops::op_def_##name());
  DAGPROP_BUILTIN_OPS(DAGPROP_OP_REGISTER)
#undef DAGPROP_OP_REGISTER
  static_assert(std::size(names) == static_cast<std::size_t>(OpCode::builtin_count));
  for (std::size_t i = 0; i < defs_.size(); ++i) {
    if (defs_[i].name != names[i]) {
      throw Error("built-in op table out of order: slot " + std::to_string(i) + " is '" +
                  std::string(defs_[i].name) + "', expected '" + std::string(names[i]) + "'");
    }
    check_complete(defs_[i]);
  }
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
