// The definitions of the three leaf ops, which the registry puts first (LeafOp). Private to the
// core.
#pragma once

#include <dagprop/op_def.hpp>

namespace dagprop {

const OpDef& leaf_def_input();
const OpDef& leaf_def_parameter();
const OpDef& leaf_def_constant();

}  // namespace dagprop
