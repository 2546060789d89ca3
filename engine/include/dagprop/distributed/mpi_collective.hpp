// dagprop::distributed: data-parallel training over MPI. MpiSession starts MPI for a program that
// mpirun launched and gives its ranks as an nn::Collective, which nn::Trainer takes
// (docs/distributed.md). Only this library links MPI; the engine and nn never do.
#pragma once

#include <memory>

#include <dagprop/export.hpp>
#include <dagprop/nn/collective.hpp>

DAGPROP_API_BEGIN
namespace dagprop::distributed {

// True where this process was started by mpirun (Open MPI's or PMIx's variables are set): a
// program run by hand then stays a single process and never starts MPI.
bool launched_by_mpirun();

// MPI from construction (MPI_Init_thread, funneled: only the thread that made it calls MPI) to
// destruction (MPI_Finalize). One per process.
class MpiSession {
 public:
  MpiSession(int& argc, char**& argv);
  ~MpiSession();
  MpiSession(const MpiSession&) = delete;
  MpiSession& operator=(const MpiSession&) = delete;

  // Every process of the job (a duplicate of MPI_COMM_WORLD), as a Collective.
  nn::Collective& world();
  // Ends every rank of the job now (MPI_Abort): for an error that only this rank raised, which
  // would leave the others waiting in a collective.
  [[noreturn]] void abort(int status);

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

}  // namespace dagprop::distributed
DAGPROP_API_END
