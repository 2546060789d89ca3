// Stopping a long run from outside it: a flag the executors read between the steps of a run, for an
// interactive caller (Python's Ctrl-C) that cannot wait for a run of seconds to end.
#pragma once

#include <atomic>

#include <dagprop/export.hpp>

DAGPROP_API_BEGIN
namespace dagprop {

// While a ScopedRunStopFlag lives on a thread, every run started on that thread (Graph::run,
// Graph::backward, Function::run; the parallel executor's tasks included) reads the flag before
// each step and, once it is set, throws dagprop::Error("run stopped before <node>: ..."). What the
// stopped run computed is not meaningful (nor the gradients a stopped backward() was writing in
// place), but the graph, its plans and its Functions stay usable: the next run computes
// everything from the start. Without one, a run
// pays one null test per step. Scopes nest; the innermost flag counts.
class ScopedRunStopFlag {
 public:
  explicit ScopedRunStopFlag(const std::atomic<bool>& flag);
  ~ScopedRunStopFlag();
  ScopedRunStopFlag(const ScopedRunStopFlag&) = delete;
  ScopedRunStopFlag& operator=(const ScopedRunStopFlag&) = delete;

 private:
  const std::atomic<bool>* previous_;
};

// The flag installed on the calling thread, or null.
const std::atomic<bool>* run_stop_flag();

}  // namespace dagprop
DAGPROP_API_END
