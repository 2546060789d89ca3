// docs/ops.md is generated from the op table, so the documentation cannot drift from the code.
#pragma once

#include <string>

#include <dagprop/export.hpp>

DAGPROP_API_BEGIN
namespace dagprop {

// The op reference in Markdown: every registered op with its arity, forward formula, derivative,
// gradient kind and notes.
std::string op_table_markdown();

}  // namespace dagprop
DAGPROP_API_END
