// The subcommands of the dagprop tool; each lives in its own cmd_<name>.cpp.
#pragma once

#include <CLI/CLI.hpp>

namespace dagprop::cli {

void add_demo_command(CLI::App& app);
void add_ops_command(CLI::App& app);
void add_train_command(CLI::App& app);
void add_eval_command(CLI::App& app);
void add_predict_command(CLI::App& app);
void add_study_command(CLI::App& app);
void add_dot_command(CLI::App& app);
void add_info_command(CLI::App& app);

}  // namespace dagprop::cli
