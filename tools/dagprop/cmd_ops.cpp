// `dagprop ops`: the op table, as a list or as the Markdown of docs/ops.md.
#include <cstdio>

#include <dagprop/error.hpp>
#include <dagprop/op_def.hpp>
#include <dagprop/op_docs.hpp>
#ifdef DAGPROP_HAVE_ONNX
#include <dagprop/onnx.hpp>
#endif

#include "commands.hpp"

namespace dagprop::cli {

void add_ops_command(CLI::App& app) {
  auto* ops = app.add_subcommand("ops", "List the ops with their forward formulas and derivatives");
  static bool markdown = false;
  ops->add_flag("--markdown", markdown, "Print docs/ops.md");
  static bool onnx = false;
  ops->add_flag("--onnx", onnx,
                "Print the ONNX operators the importer reads (the table of docs/onnx.md)");
  ops->callback([] {
    if (onnx) {
#ifdef DAGPROP_HAVE_ONNX
      std::fputs(onnx_ops_markdown().c_str(), stdout);
      return;
#else
      throw Error("this dagprop was built without ONNX support (dagprop::onnx needs libonnx-dev)");
#endif
    }
    if (markdown) {
      std::fputs(op_table_markdown().c_str(), stdout);
      return;
    }
    const OpRegistry& registry = OpRegistry::global();
    for (OpId id = 0; id < registry.size(); ++id) {
      const OpDef& def = registry[id];
      std::printf("%-34s %.*s\n%-34s d: %.*s\n", std::string(def.name).c_str(),
                  static_cast<int>(def.forward_doc.size()), def.forward_doc.data(), "",
                  static_cast<int>(def.gradient_doc.size()), def.gradient_doc.data());
      for (const AttrSpec& spec : def.attributes) {
        std::printf("%-34s %s: %s = %s\n", "", std::string(spec.name).c_str(),
                    std::string(attr_kind_name(spec.kind)).c_str(), default_text(spec).c_str());
      }
    }
  });
}

}  // namespace dagprop::cli
