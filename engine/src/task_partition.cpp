// Cutting a plan into tasks, in two linear passes over the plan order:
//  1. clusters: a step joins the cluster of one of its producers, or starts a cluster. Clusters
//     carry ranks, and every dependency between clusters runs from a lower rank to a higher one, so
//     the cluster graph stays acyclic: a step may join the highest-ranked cluster it reads (the
//     others it reads rank lower), or a cluster that nothing waits for yet, which then takes a new
//     highest rank. A join is refused where it would make the step, or the clusters already waiting
//     for that cluster, wait longer than kMaxJoinDelay, or where the cluster would start waiting
//     for another one while it holds more than a hand-off's worth of work (kHandOffWork). So a
//     chain stays one cluster, the first branch of a fork continues its producer's cluster while
//     the others start their own, a running sum over the heads of an ensemble becomes one cluster
//     that waits for them all, and a backward pass through one head stays one cluster (it reads
//     that head's forward values and its own chain), wherever the plan order puts its steps.
//  2. tasks: clusters cheaper than kTaskWork are merged with their neighbours in rank order until
//     the merged task is worth scheduling. Merging consecutive ranks keeps every dependency
//     pointing forward, so task ids are a topological order.
// A task runs its steps in plan order, which satisfies its internal dependencies.
#include "task_partition.hpp"

#include <algorithm>
#include <array>
#include <cassert>
#include <limits>
#include <numeric>

#include <dagprop/graph.hpp>
#include <dagprop/op_def.hpp>
#include <dagprop/parallelism.hpp>
#include "plan.hpp"

#include "compressed_rows.hpp"
#include "step_producers.hpp"

namespace dagprop {
namespace {

constexpr std::uint32_t kNone = std::numeric_limits<std::uint32_t>::max();
constexpr double kNotWaitedFor = std::numeric_limits<double>::infinity();
// How many of the clusters a cluster waits for it remembers, to tell that a step adds no new wait.
// Past the bound a wait is still honoured (the task graph comes from the steps themselves), only
// not recognized again.
constexpr std::size_t kRememberedWaits = 6;
// How many distinct clusters one step is examined for; a step that reads more starts a cluster.
constexpr std::size_t kMaxReadClusters = 8;

// A small set of cluster ids.
template <std::size_t Capacity>
class ClusterSet {
 public:
  bool contains(std::uint32_t cluster) const {
    return std::find(ids_.begin(), ids_.begin() + size_, cluster) != ids_.begin() + size_;
  }
  bool full() const { return size_ == ids_.size(); }
  void insert(std::uint32_t cluster) { ids_[size_++] = cluster; }
  void clear() { size_ = 0; }
  std::span<const std::uint32_t> items() const { return {ids_.data(), size_}; }

 private:
  std::array<std::uint32_t, Capacity> ids_{};
  std::uint8_t size_ = 0;
};
using ReadClusters = ClusterSet<kMaxReadClusters>;
using RememberedWaits = ClusterSet<kRememberedWaits>;

struct Clusters {
  std::vector<double> work;                // per cluster
  std::vector<double> work_when_waited;    // per cluster: its work when another first read it
  std::vector<RememberedWaits> waits_for;  // per cluster: clusters it reads (the first few)
  std::vector<std::uint32_t> rank;         // per cluster
  std::vector<std::uint32_t> of_step;      // per step
};

class Clustering {
 public:
  Clustering(const Producers& producers, std::vector<double>& step_work)
      : producers_(producers), step_work_(step_work) {}

  // `step_work` is overwritten: on return, entry s is the work of its cluster up to and including
  // s.
  Clusters run() && {
    const auto n = static_cast<std::uint32_t>(step_work_.size());
    c_.of_step.assign(n, kNone);
    ReadClusters read;
    for (std::uint32_t s = 0; s < n; ++s) {
      read.clear();
      bool reads_too_many = false;
      std::uint32_t highest = kNone;
      for (const std::uint32_t p : producers_.of(s)) {
        const std::uint32_t c = c_.of_step[p];
        if (highest == kNone || c_.rank[c] > c_.rank[highest]) highest = c;
        if (read.contains(c)) continue;
        if (read.full()) {
          reads_too_many = true;
        } else {
          read.insert(c);
        }
      }
      std::uint32_t joined = kNone;
      if (highest != kNone && !reads_too_many) {
        if (may_join(s, highest, read)) {
          joined = highest;
        } else {
          // A cluster nothing waits for yet can move to the top rank.
          for (const std::uint32_t c : read.items()) {
            if (c == highest || c_.work_when_waited[c] != kNotWaitedFor || !may_join(s, c, read))
              continue;
            if (joined == kNone || c_.rank[c] > c_.rank[joined]) joined = c;
          }
          if (joined != kNone) c_.rank[joined] = next_rank_++;
        }
      }
      if (joined == kNone) {
        joined = static_cast<std::uint32_t>(c_.work.size());
        c_.work.push_back(0.0);
        c_.work_when_waited.push_back(kNotWaitedFor);
        c_.waits_for.emplace_back();
        c_.rank.push_back(next_rank_++);
      }
      for (const std::uint32_t c : read.items()) {
        if (c == joined) continue;
        if (c_.work_when_waited[c] == kNotWaitedFor) c_.work_when_waited[c] = c_.work[c];
        RememberedWaits& waits = c_.waits_for[joined];
        if (!waits.contains(c) && !waits.full()) waits.insert(c);
      }
      c_.of_step[s] = joined;
      c_.work[joined] += step_work_[s];
      step_work_[s] = c_.work[joined];
    }
    return std::move(c_);
  }

 private:
  bool may_join(std::uint32_t s, std::uint32_t cluster, const ReadClusters& read) const {
    // The step could start once the last of its inputs in `cluster` is done.
    double ready_at = 0;
    for (const std::uint32_t p : producers_.of(s)) {
      if (c_.of_step[p] == cluster) ready_at = std::max(ready_at, step_work_[p]);
    }
    const double work = c_.work[cluster];
    if (work - ready_at > kMaxJoinDelay) return false;
    if (work + step_work_[s] - c_.work_when_waited[cluster] > kMaxJoinDelay) return false;
    // A new wait holds back everything the cluster holds; free when there is nothing to hold.
    if (work <= kHandOffWork) return true;
    const RememberedWaits& waits = c_.waits_for[cluster];
    return std::all_of(read.items().begin(), read.items().end(),
                       [&](std::uint32_t c) { return c == cluster || waits.contains(c); });
  }

  const Producers& producers_;
  std::vector<double>& step_work_;
  Clusters c_;
  std::uint32_t next_rank_ = 0;
};

}  // namespace

TaskPartition::TaskPartition(const Graph& graph, std::span<const PlanStep> steps,
                             std::span<const KernelArg> args) {
  const auto n = static_cast<std::uint32_t>(steps.size());
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

  Clusters clusters = Clustering(producers, step_work).run();
  step_work = {};

  // Merge cheap clusters of consecutive ranks; a cluster worth a task stays alone.
  std::vector<std::uint32_t> by_rank(clusters.work.size());
  std::iota(by_rank.begin(), by_rank.end(), 0u);
  std::sort(by_rank.begin(), by_rank.end(),
            [&](std::uint32_t a, std::uint32_t b) { return clusters.rank[a] < clusters.rank[b]; });
  std::vector<std::uint32_t> task_of_cluster(clusters.work.size());
  bool merging = false;
  for (const std::uint32_t c : by_rank) {
    const bool expensive = clusters.work[c] >= kTaskWork;
    if (expensive || !merging) work_.push_back(0.0);
    task_of_cluster[c] = static_cast<std::uint32_t>(work_.size() - 1);
    work_.back() += clusters.work[c];
    merging = !expensive && work_.back() < kTaskWork;
  }
  clusters.work = {};
  clusters.work_when_waited = {};
  clusters.waits_for = {};
  clusters.rank = {};

  // The task of each step, reusing the cluster array; then the steps grouped by task, each group in
  // plan order (a counting sort).
  std::vector<std::uint32_t>& task_of = clusters.of_step;
  for (std::uint32_t& t : task_of) t = task_of_cluster[t];
  const std::uint32_t num = num_tasks();
  group_into_rows(
      num,
      [&](auto emit) {
        for (std::uint32_t s = 0; s < n; ++s) emit(task_of[s], s);
      },
      first_step_, steps_);

  // Dependencies, each once: the marker remembers the last task that recorded an edge from u.
  std::vector<std::uint32_t> marked(num, kNone);
  std::vector<std::pair<std::uint32_t, std::uint32_t>> edges;  // (predecessor, successor)
  num_predecessors_.assign(num, 0);
  for (std::uint32_t t = 0; t < num; ++t) {
    for (const std::uint32_t s : steps_of(t)) {
      for (const std::uint32_t p : producers.of(s)) {
        const std::uint32_t u = task_of[p];
        if (u == t || marked[u] == t) continue;
        assert(u < t && "clusters only wait for clusters of lower rank");
        marked[u] = t;
        edges.emplace_back(u, t);
        ++num_predecessors_[t];
      }
    }
  }
  group_into_rows(
      num,
      [&](auto emit) {
        for (const auto& [u, t] : edges) emit(u, t);
      },
      first_successor_, successors_);
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
