// The process group of a dagprop run: MPI only where mpirun started the program.
#include "process_group.hpp"

#include <cstdlib>
#include <memory>
#include <string>

#include <dagprop/error.hpp>

#ifdef DAGPROP_HAVE_MPI
#include <dagprop/distributed/mpi_collective.hpp>
#endif

namespace dagprop::cli {
namespace {

nn::SingleProcess g_single;
nn::Collective* g_group = &g_single;
#ifdef DAGPROP_HAVE_MPI
std::unique_ptr<distributed::MpiSession> g_session;
#endif

}  // namespace

ProcessGroupScope::ProcessGroupScope(int& argc, char**& argv) {
#ifdef DAGPROP_HAVE_MPI
  if (distributed::launched_by_mpirun()) {
    g_session = std::make_unique<distributed::MpiSession>(argc, argv);
    g_group = &g_session->world();
  }
#else
  (void)argc;
  (void)argv;
  if (std::getenv("OMPI_COMM_WORLD_SIZE") != nullptr &&
      std::string(std::getenv("OMPI_COMM_WORLD_SIZE")) != "1") {
    throw Error(
        "dagprop was started by mpirun, but this build has no MPI support "
        "(dagprop::distributed); install libopenmpi-dev and build again");
  }
#endif
}

ProcessGroupScope::~ProcessGroupScope() {
#ifdef DAGPROP_HAVE_MPI
  g_group = &g_single;
  g_session.reset();
#endif
}

nn::Collective& process_group() {
  return *g_group;
}

std::string rank_prefix() {
  if (g_group->size() == 1) return {};
  return "rank " + std::to_string(g_group->rank()) + " of " + std::to_string(g_group->size()) +
         ": ";
}

void abort_process_group(int status) {
#ifdef DAGPROP_HAVE_MPI
  if (g_session && g_group->size() > 1) g_session->abort(status);
#endif
  (void)status;
}

}  // namespace dagprop::cli
