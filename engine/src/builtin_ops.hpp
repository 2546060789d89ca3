// What the core needs of the built-in ops, which live in ops/ and depend on the core, never the
// other way: the op table to register after the leaves, and the op that sums the gradient
// contributions of a node's consumers. Declared here, defined in ops/src/builtin_ops.cpp; private
// to dagprop::core.
#pragma once

#include <functional>

#include <dagprop/expr.hpp>
#include <dagprop/op_def.hpp>

namespace dagprop::builtin {

// Calls `add` with each built-in op after the leaves, in the order that fixes their ids
// (OpCode, ops/include/dagprop/ops.hpp).
void register_ops(const std::function<void(const OpDef&)>& add);

// existing + contribution: how autodiff accumulates fan-out gradients (shapes already checked).
Expr sum_gradients(Expr existing, Expr contribution);

}  // namespace dagprop::builtin
