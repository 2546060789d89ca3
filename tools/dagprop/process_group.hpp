// The ranks this run of dagprop belongs to: a group of one, or, started by mpirun in a build with
// dagprop::distributed, every process of the job (docs/distributed.md).
#pragma once

#include <dagprop/nn/collective.hpp>

namespace dagprop::cli {

// Called by main before the commands run, and ended by its destructor after them.
class ProcessGroupScope {
 public:
  ProcessGroupScope(int& argc, char**& argv);
  ~ProcessGroupScope();
  ProcessGroupScope(const ProcessGroupScope&) = delete;
  ProcessGroupScope& operator=(const ProcessGroupScope&) = delete;
};

nn::Collective& process_group();
// "rank 1 of 4: " in a job of several ranks, "" alone.
std::string rank_prefix();
// Ends every rank of the job (an error only this rank raised); returns in a group of one.
void abort_process_group(int status);

}  // namespace dagprop::cli
