// The op reference, written from the op table.
#include <dagprop/op_docs.hpp>

#include <limits>

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

// "integer >= 1", "integers [2]", "integers": the kind, how many, and a lower bound if any.
std::string kind_text(const AttrSpec& spec) {
  std::string text(attr_kind_name(spec.kind));
  if (spec.kind == AttrKind::integers && spec.slot.count > 0)
    text += " [" + std::to_string(spec.slot.count) + "]";
  if ((spec.kind == AttrKind::integer || spec.kind == AttrKind::integers) &&
      spec.min != std::numeric_limits<std::int64_t>::min())
    text += " >= " + std::to_string(spec.min);
  return text;
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
  text +=
      "\n## Attributes\n\n"
      "Each op's parameters, declared in its unit (`OpDef::attributes`). Graph files store them "
      "by these\n"
      "names (those that differ from the default), `Graph::apply(op_name, inputs, {{name, "
      "value}, ...})`\n"
      "takes them, and `Graph::attribute(node, name)` reads one. Kinds: *number* (a double), "
      "*integer*,\n"
      "*boolean*, *shape* (a list of dimensions), *integers* (a list; `[2]`: of two).\n\n"
      "| op | attribute | kind | default | meaning |\n"
      "|---|---|---|---|---|\n";
  for (OpId id = 0; id < static_cast<OpId>(OpCode::builtin_count); ++id) {
    const OpDef& def = registry[id];
    for (const AttrSpec& spec : def.attributes) {
      text += "| `" + std::string(def.name) + "` | `" + std::string(spec.name) + "` | " +
              kind_text(spec) + " | `" + default_text(spec) + "` | " + cell(spec.doc) + " |\n";
    }
  }
  return text;
}

}  // namespace dagprop
