// The built-in ops, registered after the core's leaves in DAGPROP_BUILTIN_OPS order (so that each
// gets its OpCode id), and the op autodiff sums gradient contributions with. The core declares
// both (engine/src/builtin_ops.hpp) and never includes ops/.
#include "builtin_ops.hpp"

#include <iterator>
#include <string>
#include <string_view>

#include <dagprop/error.hpp>
#include <dagprop/ops.hpp>

#include "op_helpers.hpp"

namespace dagprop::builtin {

void register_ops(const std::function<void(const OpDef&)>& add) {
  const std::string_view names[] = {
#define DAGPROP_OP_NAME(name) #name,
      DAGPROP_BUILTIN_OPS(DAGPROP_OP_NAME)
#undef DAGPROP_OP_NAME
  };
  const OpDef* const defs[] = {
#define DAGPROP_OP_DEF(name) &ops::op_def_##name(),
      DAGPROP_BUILTIN_OPS(DAGPROP_OP_DEF)
#undef DAGPROP_OP_DEF
  };
  static_assert(std::size(names) + op_id(OpCode::add) ==
                static_cast<std::size_t>(OpCode::builtin_count));
  static_assert(op_id(OpCode::add) == op_id(LeafOp::constant) + 1,
                "the built-in ops follow the leaves");
  for (std::size_t i = 0; i < std::size(defs); ++i) {
    if (defs[i]->name != names[i]) {
      throw Error("built-in op table out of order: entry " + std::to_string(i) + " is '" +
                  std::string(defs[i]->name) + "', expected '" + std::string(names[i]) + "'");
    }
    add(*defs[i]);
  }
}

Expr sum_gradients(Expr existing, Expr contribution) {
  return dagprop::add(existing, contribution);
}

}  // namespace dagprop::builtin
