// The TBB executor: a tbb::task_group inside a tbb::task_arena, with a dependency count per task.
//
// A finished task decrements the counts of its successors; it goes on with the first one that
// becomes ready on the same thread (no hand-off for chains) and gives the others to the group,
// where idle threads steal them. Kernels inside a task may split large loops (KernelParallelism),
// and the threads waiting in the arena take those chunks too.
//
// Why a task_group and not a flow graph: a prototype with one tbb::flow::continue_node per task
// (built once per plan, make_edge along the dependencies, try_put and wait_for_all per run) was
// measured against this version on W3 and W4 in the same quiet windows of the 2-core machine. At 2
// threads W3 ran 0.95-0.98x the serial speed with the flow graph, 1.62-1.87x with this version;
// at 1 thread the flow graph cost 1-10 % over serial, this version 2-3 %; W4 (one chain) was the
// same within noise. We did not find why the flow graph did not overlap the heads; this version
// also needs no node cache per plan (keyed by a plan's address, which a later plan may reuse).
//
// Results do not depend on the thread count: every step is computed by one kernel call from the
// same inputs, and kernels cut their loops at fixed sizes (kernel_loops.hpp).
//
// Failures: a task that throws stops the run (no new task starts), and the plan is then replayed
// serially, which throws the error of the first failing step in plan order: exactly the error of
// the serial executor, not whichever failure won the race between threads.
#include "tbb_executor.hpp"

#include <exception>
#include <mutex>

#include <oneapi/tbb/task_arena.h>
#include <oneapi/tbb/task_group.h>

#include <dagprop/graph.hpp>
#include <dagprop/kernel_loops.hpp>
#include <dagprop/run_interruption.hpp>

#include "graph_internals.hpp"
#include "happens_before.hpp"

namespace dagprop {
namespace {

constexpr std::uint32_t kNoTask = ~std::uint32_t{0};

// Whether kernels running in the current arena may split their loops: with one thread in the arena
// a split kernel is only overhead (about 5 % of W3).
bool kernels_may_split() {
  return tbb::this_task_arena::max_concurrency() > 1;
}

class TaskRun {
 public:
  TaskRun(const Plan& plan, Graph& graph, std::atomic<std::uint32_t>* pending,
          const std::atomic<bool>* stop)
      : plan_(plan), graph_(graph), tasks_(plan.tasks()), pending_(pending), stop_(stop) {}

  // Offers all initial tasks but the first to the group, and runs the first on this thread: a
  // plan of one chain never leaves the calling thread.
  void start(tbb::task_group& group) {
    group_ = &group;
    const auto initial = tasks_.initial_tasks();
    detail::happens_before(this);  // the fed inputs and this object, for the first tasks
    for (std::size_t i = 1; i < initial.size(); ++i) {
      const std::uint32_t task = initial[i];
      group.run([this, task] { run_from(task); });
    }
    if (!initial.empty()) run_chain(initial.front());
  }

  // Runs every step in plan order on this thread: for plans whose tasks form (nearly) a chain.
  void run_in_order() {
    const KernelParallelism parallel_kernels(kernels_may_split());
    try {
      for (const PlanStep& step : plan_.steps()) {
        check_run_stop(stop_, graph_, step);
        run_step(plan_, step, graph_);
      }
    } catch (...) {
      record_failure(std::current_exception());
    }
  }

  // Runs `task`, then successors that it makes ready, one after the other on this thread.
  void run_from(std::uint32_t task) {
    detail::happens_after(this);
    run_chain(task);
    detail::happens_before(this);  // everything this thread wrote, for the spawned tasks and the
                                   // caller, which takes it up after the group's wait
  }

  bool failed() const { return failed_.load(std::memory_order_acquire); }
  std::exception_ptr first_failure() const { return first_failure_; }

 private:
  void run_chain(std::uint32_t task) {
    const KernelParallelism parallel_kernels(kernels_may_split());
    while (task != kNoTask && !failed_.load(std::memory_order_relaxed)) {
      try {
        for (const std::uint32_t s : tasks_.steps_of(task)) {
          check_run_stop(stop_, graph_, plan_.steps()[s]);
          run_step(plan_, plan_.steps()[s], graph_);
        }
      } catch (...) {
        record_failure(std::current_exception());
        return;
      }
      std::uint32_t next = kNoTask;
      for (const std::uint32_t successor : tasks_.successors_of(task)) {
        // acq_rel: the last finisher sees every predecessor's outputs before running the successor.
        if (pending_[successor].fetch_sub(1, std::memory_order_acq_rel) != 1) continue;
        if (next == kNoTask) {
          next = successor;
        } else {
          detail::happens_before(this);
          group_->run([this, successor] { run_from(successor); });
        }
      }
      task = next;
    }
  }

  void record_failure(std::exception_ptr failure) {
    const std::lock_guard<std::mutex> lock(failure_mutex_);
    if (!first_failure_) first_failure_ = std::move(failure);
    failed_.store(true, std::memory_order_release);
  }

  const Plan& plan_;
  Graph& graph_;
  const TaskPartition& tasks_;
  std::atomic<std::uint32_t>* pending_;
  // The calling thread's stop flag: the tasks run on other threads, which have none of their own.
  const std::atomic<bool>* stop_;
  tbb::task_group* group_ = nullptr;
  std::atomic<bool> failed_{false};
  std::mutex failure_mutex_;
  std::exception_ptr first_failure_;
};

int default_worker_limit() {
  return static_cast<int>(
      tbb::global_control::active_value(tbb::global_control::max_allowed_parallelism));
}

}  // namespace

TbbExecutor::TbbExecutor(int num_threads) : arena_(num_threads) {
  if (num_threads > default_worker_limit()) {
    worker_limit_ = std::make_unique<tbb::global_control>(
        tbb::global_control::max_allowed_parallelism, static_cast<std::size_t>(num_threads));
  }
}

TbbExecutor::~TbbExecutor() = default;

void TbbExecutor::run_kernels(const std::function<void()>& work) {
  arena_.execute([&] {
    const KernelParallelism parallel_kernels(kernels_may_split());
    work();
  });
}

void TbbExecutor::run(Plan& plan, Graph& graph) {
  const TaskPartition& tasks = plan.tasks();
  const std::uint32_t num_tasks = tasks.num_tasks();
  if (num_tasks == 0) return;
  if (num_tasks > pending_capacity_) {
    pending_ = std::make_unique<std::atomic<std::uint32_t>[]>(num_tasks);
    pending_capacity_ = num_tasks;
  }
  for (std::uint32_t t = 0; t < num_tasks; ++t)
    pending_[t].store(tasks.num_predecessors(t), std::memory_order_relaxed);

  const std::atomic<bool>* stop = run_stop_flag();
  TaskRun task_run(plan, graph, pending_.get(), stop);
  arena_.execute([&] {
    // No task would overlap enough with another to repay the hand-offs (W4's chain, W1's soup).
    if (tasks.runs_in_order()) {
      task_run.run_in_order();
      return;
    }
    tbb::task_group group;
    task_run.start(group);
    group.wait();
    detail::happens_after(&task_run);
  });
  if (!task_run.failed()) return;

  // Replay serially, kernels included, to throw the serial executor's error.
  GraphInternals::set_anomaly_node(graph, kNoNode);
  const KernelParallelism serial_kernels(false);
  for (const PlanStep& step : plan.steps()) {
    check_run_stop(stop, graph, step);
    run_step(plan, step, graph);
  }
  // The failure did not repeat (it was not caused by the plan's data, e.g. out of memory).
  std::rethrow_exception(task_run.first_failure());
}

}  // namespace dagprop
