// The op reference, written from the op table.
#include <dagprop/op_docs.hpp>

#include <dagprop/op_def.hpp>
#include <dagprop/ops.hpp>

namespace dagprop {
namespace {

std::string_view gradient_kind_name(GradKind kind) {
  switch (kind) {
    case GradKind::smooth:
      return "derivative";
    case GradKind::zero:
      return "zero by definition";
    case GradKind::straight_through:
      return "straight-through";
    case GradKind::leaf:
      return "leaf";
  }
  return "?";
}

// Markdown table cells cannot hold a bare '|'.
std::string cell(std::string_view text) {
  std::string escaped;
  for (char c : text) {
    if (c == '|') escaped += '\\';
    escaped += c;
  }
  return escaped;
}

}  // namespace

std::string op_table_markdown() {
  std::string text =
      "# Ops\n\n"
      "Generated from the op table (`ops/`) by `dagprop ops --markdown`; a test fails when this "
      "file and the\n"
      "table disagree. `g` is the gradient arriving at the op's output, `u` the gradient arriving "
      "at a\n"
      "gradient op's output (second order). Every op has float32 and float64 kernels, and every "
      "gradient\n"
      "rule is written as graph nodes, so gradients can be differentiated again.\n\n"
      "Conventions at kinks follow PyTorch: relu'(0) = 0, abs'(0) = 0, step'(x) = 0 everywhere.\n"
      "Gradient kinds: *derivative* (the rule is the derivative), *zero by definition* (step, "
      "sign,\n"
      "stop_gradient: no gradient flows, stated rather than silent), *straight-through* (step_ste: "
      "the\n"
      "forward is a step, the backward passes the gradient unchanged).\n\n"
      "| op | inputs | forward | gradient | kind | notes |\n"
      "|---|---|---|---|---|---|\n";
  const OpRegistry& registry = OpRegistry::global();
  for (OpId id = 0; id < static_cast<OpId>(OpCode::builtin_count); ++id) {
    const OpDef& def = registry[id];
    text += "| `" + std::string(def.name) + "` | " +
            (def.arity < 0 ? "any" : std::to_string(def.arity)) + " | " + cell(def.forward_doc) +
            " | " + cell(def.gradient_doc) + " | " +
            std::string(gradient_kind_name(def.grad_kind)) + " | " + cell(def.notes_doc) + " |\n";
  }
  return text;
}

}  // namespace dagprop
