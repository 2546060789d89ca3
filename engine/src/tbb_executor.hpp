// The parallel executor: runs a plan's tasks (task_partition.hpp) on a oneTBB task arena of a fixed
// number of threads. Private to engine/; Graph::set_num_threads picks it.
#pragma once

#include <atomic>
#include <cstdint>
#include <memory>

#include <oneapi/tbb/global_control.h>
#include <oneapi/tbb/task_arena.h>

#include "plan.hpp"

namespace dagprop {

class TbbExecutor final : public Executor {
 public:
  explicit TbbExecutor(int num_threads);
  ~TbbExecutor() override;

  void run(Plan& plan, Graph& graph) override;
  void run_kernels(const std::function<void()>& work) override;

 private:
  // Only when more threads are asked for than TBB starts by default (one per core): it raises the
  // process-wide worker limit for as long as this executor lives.
  std::unique_ptr<tbb::global_control> worker_limit_;
  tbb::task_arena arena_;
  // Per task of the plan being run: predecessors not finished yet. Reused run after run.
  std::unique_ptr<std::atomic<std::uint32_t>[]> pending_;
  std::uint32_t pending_capacity_ = 0;
};

}  // namespace dagprop
