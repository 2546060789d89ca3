// Cutting a plan into tasks. Two passes over the plan order, both linear:
//  1. runs: consecutive steps stay together while each consumes the one before it (a chain); a step
//     that does not (the start of another branch), or that follows a fork (a result used twice),
//     starts a new run, so independent branches and the sides of a fork become separate runs;
//  2. tasks: consecutive runs cheaper than kTaskWork are merged until the merged task is worth
//     scheduling; a run worth kTaskWork or more stays a task of its own.
// Tasks are contiguous ranges of the plan order, so every dependency points from an earlier task to
// a later one: the task graph is acyclic by construction, and running a task's steps in plan order
// satisfies its internal dependencies.
#include <dagprop/task_partition.hpp>

#include <algorithm>
#include <array>
#include <limits>

#include <dagprop/graph.hpp>
#include <dagprop/op_def.hpp>
#include <dagprop/parallelism.hpp>
#include <dagprop/plan.hpp>

#include "step_producers.hpp"

namespace dagprop {
namespace {

constexpr std::uint32_t kNone = std::numeric_limits<std::uint32_t>::max();
// How many other runs the run being grown may wait for. A bound keeps the membership checks
// constant-time; a step that would need more starts a run of its own.
constexpr std::size_t kMaxRunPredecessors = 8;

// A small set of run ids, bounded by kMaxRunPredecessors.
class RunSet {
 public:
  bool contains(std::uint32_t run) const {
    return std::find(runs_.begin(), runs_.begin() + size_, run) != runs_.begin() + size_;
  }
  bool full() const { return size_ == runs_.size(); }
  std::size_t size() const { return size_; }
  void insert(std::uint32_t run) { runs_[size_++] = run; }
  void clear() { size_ = 0; }
  std::span<const std::uint32_t> items() const { return {runs_.data(), size_}; }

 private:
  std::array<std::uint32_t, kMaxRunPredecessors> runs_{};
  std::size_t size_ = 0;
};

struct Runs {
  std::vector<std::uint32_t> first_step;  // per run
  std::vector<double> work;               // per run
  std::vector<std::uint32_t> run_of;      // per step
};

Runs cut_into_runs(const Producers& producers, std::span<const double> step_work) {
  const std::size_t n = step_work.size();
  // consumers[s]: how many input slots of later steps read step s, saturated at 2 (a fork).
  std::vector<std::uint8_t> consumers(n, 0);
  for (std::uint32_t s = 0; s < n; ++s) {
    for (const std::uint32_t p : producers.of(s)) {
      if (consumers[p] < 2) ++consumers[p];
    }
  }

  Runs runs;
  runs.run_of.assign(n, kNone);
  RunSet waits_for;  // the runs that the current run depends on
  RunSet new_waits;  // what the current step would add to them
  for (std::uint32_t s = 0; s < n; ++s) {
    const std::uint32_t current =
        runs.work.empty() ? kNone : static_cast<std::uint32_t>(runs.work.size() - 1);
    bool consumes_previous = false;
    bool too_many = false;
    new_waits.clear();
    for (const std::uint32_t p : producers.of(s)) {
      consumes_previous = consumes_previous || p + 1 == s;
      const std::uint32_t run = runs.run_of[p];
      if (run == current || waits_for.contains(run) || new_waits.contains(run)) continue;
      if (new_waits.full()) {
        too_many = true;
      } else {
        new_waits.insert(run);
      }
    }
    // Joining the current run makes all of it wait for what this step waits for: free when it
    // waits for nothing new, harmless while the run is still cheap.
    const bool follows_fork = s > 0 && consumers[s - 1] >= 2;
    const bool joins =
        current != kNone && consumes_previous && !follows_fork && !too_many &&
        (new_waits.size() == 0 || (runs.work[current] < kTaskWork &&
                                   waits_for.size() + new_waits.size() <= kMaxRunPredecessors));
    if (joins) {
      for (const std::uint32_t run : new_waits.items()) waits_for.insert(run);
    } else {
      runs.first_step.push_back(s);
      runs.work.push_back(0.0);
      waits_for.clear();
      for (const std::uint32_t p : producers.of(s)) {
        if (waits_for.contains(runs.run_of[p])) continue;
        // A run waiting for more than the bound is never joined by a step with new waits.
        if (waits_for.full()) break;
        waits_for.insert(runs.run_of[p]);
      }
    }
    runs.run_of[s] = static_cast<std::uint32_t>(runs.work.size() - 1);
    runs.work.back() += step_work[s];
  }
  return runs;
}

}  // namespace

TaskPartition::TaskPartition(const Graph& graph, std::span<const PlanStep> steps,
                             std::span<const KernelArg> args) {
  const std::size_t n = steps.size();
  if (n == 0) return;
  const Producers producers(graph, steps);
  const OpRegistry& registry = OpRegistry::global();
  std::vector<double> step_work(n);
  for (std::size_t s = 0; s < n; ++s) {
    const PlanStep& step = steps[s];
    step_work[s] =
        estimated_work(registry[step.op], args.subspan(step.first_arg, step.num_inputs + 1)) +
        kStepOverheadWork;
  }

  Runs runs = cut_into_runs(producers, step_work);

  // Merge consecutive cheap runs; a run worth a task stays alone.
  std::vector<std::uint32_t> task_of_run(runs.work.size());
  bool merging = false;
  for (std::size_t r = 0; r < runs.work.size(); ++r) {
    const bool expensive = runs.work[r] >= kTaskWork;
    if (expensive || !merging) {
      if (!work_.empty()) first_step_.push_back(runs.first_step[r]);  // the first task starts at 0
      work_.push_back(0.0);
    }
    task_of_run[r] = static_cast<std::uint32_t>(work_.size() - 1);
    work_.back() += runs.work[r];
    merging = !expensive && work_.back() < kTaskWork;
  }
  first_step_.push_back(static_cast<std::uint32_t>(n));

  // The task of each step, reusing the run array.
  std::vector<std::uint32_t>& task_of = runs.run_of;
  for (std::uint32_t& t : task_of) t = task_of_run[t];

  // Dependencies, each once: the marker remembers the last task that recorded an edge from u.
  const std::uint32_t num = num_tasks();
  std::vector<std::uint32_t> marked(num, kNone);
  std::vector<std::pair<std::uint32_t, std::uint32_t>> edges;  // (predecessor, successor)
  num_predecessors_.assign(num, 0);
  for (std::uint32_t t = 0; t < num; ++t) {
    for (std::uint32_t s = first_step_[t]; s < first_step_[t + 1]; ++s) {
      for (const std::uint32_t p : producers.of(s)) {
        const std::uint32_t u = task_of[p];
        if (u == t || marked[u] == t) continue;
        marked[u] = t;
        edges.emplace_back(u, t);
        ++num_predecessors_[t];
      }
    }
  }
  first_successor_.assign(num + 1, 0);
  for (const auto& [u, t] : edges) ++first_successor_[u + 1];
  for (std::uint32_t t = 0; t < num; ++t) first_successor_[t + 1] += first_successor_[t];
  successors_.resize(edges.size());
  std::vector<std::uint32_t> fill(first_successor_.begin(), first_successor_.end() - 1);
  for (const auto& [u, t] : edges) successors_[fill[u]++] = t;
  for (std::uint32_t t = 0; t < num; ++t) {
    if (num_predecessors_[t] == 0) initial_tasks_.push_back(t);
  }

  // The heaviest path: edges point to later tasks, so one sweep in task order relaxes them all.
  std::vector<double> earliest_start(num, 0.0);
  double total = 0, span = 0;
  for (std::uint32_t t = 0; t < num; ++t) {
    const double finish = earliest_start[t] + work_[t];
    total += work_[t];
    span = std::max(span, finish);
    for (const std::uint32_t successor : successors_of(t))
      earliest_start[successor] = std::max(earliest_start[successor], finish);
  }
  parallelism_ = total / span;
}

}  // namespace dagprop
