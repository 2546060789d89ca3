// docs/ops.md is generated from the op table, so the documentation cannot drift from the code.
#pragma once

#include <string>

namespace dagprop {

// The op reference in Markdown: every registered op with its arity, forward formula, derivative,
// gradient kind and notes.
std::string op_table_markdown();

}  // namespace dagprop
