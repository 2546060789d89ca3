// dagprop: build, run, draw and train computation graphs from the command line.
#include <cerrno>
#include <cstdio>
#include <cstring>
#include <exception>
#include <memory>
#include <string>

#include <dagprop/error.hpp>

#include "commands.hpp"
#include "experiment.hpp"
#include "options.hpp"
#include "process_group.hpp"

namespace {

std::string command_names(const CLI::App& app) {
  std::string names;
  for (const CLI::App* command : app.get_subcommands({})) {
    names += (names.empty() ? "" : ", ") + command->get_name();
  }
  return names;
}

// A first argument that is neither an option nor a command: say which commands exist (CLI11 would
// only say that a subcommand is required, or that the argument was not expected).
bool is_unknown_command(const CLI::App& app, const char* argument) {
  if (argument[0] == '-') return false;
  for (const CLI::App* command : app.get_subcommands({})) {
    if (command->get_name() == argument) return false;
  }
  return true;
}

// Output that could not be written (a full disk, /dev/full, a closed pipe) is an error: the user
// would otherwise take a truncated listing for a whole one.
int check_standard_output() {
  errno = 0;
  if (std::fflush(stdout) != 0 || std::ferror(stdout) != 0) {
    std::fprintf(stderr, "dagprop: cannot write the output to standard output: %s\n",
                 errno != 0 ? std::strerror(errno) : "write error");
    return 1;
  }
  return 0;
}

}  // namespace

int main(int argc, char** argv) {
  CLI::App app{
      "dagprop: a computation-graph autodiff engine. Commands draw, inspect, train and evaluate "
      "graphs."};
  app.require_subcommand(1);
  dagprop::cli::add_demo_command(app);
  dagprop::cli::add_ops_command(app);
  dagprop::cli::add_train_command(app);
  dagprop::cli::add_eval_command(app);
  dagprop::cli::add_predict_command(app);
  dagprop::cli::add_study_command(app);
  dagprop::cli::remember_command_line(argc, argv);
  dagprop::cli::add_dot_command(app);
  dagprop::cli::add_info_command(app);
  if (argc < 2 || is_unknown_command(app, argv[1])) {
    std::fprintf(stderr, "dagprop: %s; the commands are %s (dagprop --help explains them)\n",
                 argc < 2 ? "a command is required"
                          : ("unknown command '" + std::string(argv[1]) + "'").c_str(),
                 command_names(app).c_str());
    return 2;
  }
  // Under mpirun: MPI from here to the end of main. An error every rank raised alike
  // (nn::CollectiveError) ends each rank normally, rank 0 saying why; any other error under MPI
  // ends the whole job, so no rank waits for one that is gone.
  std::unique_ptr<dagprop::cli::ProcessGroupScope> group;
  try {
    group = std::make_unique<dagprop::cli::ProcessGroupScope>(argc, argv);
  } catch (const dagprop::Error& e) {
    std::fprintf(stderr, "dagprop: %s\n", e.what());
    return 1;
  }
  const std::string rank = dagprop::cli::rank_prefix();
  try {
    app.parse(argc, argv);
  } catch (const CLI::ValidationError& e) {
    std::fprintf(stderr, "dagprop: %s\n", dagprop::cli::plain_validation_message(e.what()).c_str());
    return e.get_exit_code();
  } catch (const CLI::ParseError& e) {
    const int status = app.exit(e);
    return status != 0 ? status : check_standard_output();
  } catch (const dagprop::cli::ExitRequest& request) {
    std::fflush(stdout);
    return request.status;
  } catch (const dagprop::nn::CollectiveError& e) {
    std::fflush(stdout);
    if (dagprop::cli::process_group().rank() == 0) std::fprintf(stderr, "dagprop: %s\n", e.what());
    return 1;
  } catch (const dagprop::Error& e) {
    std::fflush(stdout);
    std::fprintf(stderr, "dagprop: %s%s\n", rank.c_str(), e.what());
    std::fflush(stderr);
    dagprop::cli::abort_process_group(1);
    return 1;
  } catch (const std::exception& e) {
    std::fflush(stdout);
    std::fprintf(stderr, "dagprop: %sunexpected error: %s\n", rank.c_str(), e.what());
    std::fflush(stderr);
    dagprop::cli::abort_process_group(1);
    return 1;
  }
  return check_standard_output();
}
