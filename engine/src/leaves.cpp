// Leaves: inputs (fed per run), parameters (trainable, hold a value) and constants. They are the
// core's own ops, the first three of the table (LeafOp).
#include "leaves.hpp"

namespace dagprop {

const OpDef& leaf_def_input() {
  static const OpDef def{
      .name = "input",
      .arity = 0,
      .grad_kind = GradKind::leaf,
      .forward_doc = "the value fed to run() for this node",
      .gradient_doc = "stored by backward() when marked with set_requires_grad()"};
  return def;
}

const OpDef& leaf_def_parameter() {
  static const OpDef def{
      .name = "parameter",
      .arity = 0,
      .grad_kind = GradKind::leaf,
      .forward_doc = "the value held by the graph (updated in place by optimizers)",
      .gradient_doc = "stored by backward()"};
  return def;
}

const OpDef& leaf_def_constant() {
  static const OpDef def{.name = "constant",
                         .arity = 0,
                         .grad_kind = GradKind::leaf,
                         .forward_doc = "the value held by the graph",
                         .gradient_doc = "none (constant)"};
  return def;
}

}  // namespace dagprop
