// dagprop: build, run, draw and train computation graphs from the command line.
#include <cstdio>
#include <exception>

#include <dagprop/error.hpp>

#include "commands.hpp"
#include "experiment.hpp"

int main(int argc, char** argv) {
  CLI::App app{
      "dagprop: a computation-graph autodiff engine. Commands draw, inspect and train graphs."};
  app.require_subcommand(1);
  dagprop::cli::add_demo_command(app);
  dagprop::cli::add_ops_command(app);
  dagprop::cli::add_train_command(app);
  dagprop::cli::add_study_command(app);
  dagprop::cli::remember_command_line(argc, argv);
  dagprop::cli::add_dot_command(app);
  dagprop::cli::add_info_command(app);
  try {
    app.parse(argc, argv);
  } catch (const CLI::ParseError& e) {
    return app.exit(e);
  } catch (const dagprop::Error& e) {
    std::fprintf(stderr, "dagprop: %s\n", e.what());
    return 1;
  } catch (const std::exception& e) {
    std::fprintf(stderr, "dagprop: unexpected error: %s\n", e.what());
    return 1;
  }
  return 0;
}
