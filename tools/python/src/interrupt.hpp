// Ctrl-C during work done without the GIL. Python's own SIGINT handler only marks the signal; the
// KeyboardInterrupt is raised when the main thread next runs Python code, which a run of seconds
// in C++ would delay to its end. So while such work runs on the main thread, SIGINT goes to a
// handler of ours that sets a flag: graph runs read it between steps (ScopedRunStopFlag), the
// trainer between training steps. When the work is over, the handler is put back and a caught
// SIGINT is raised again for Python's handler, which raises KeyboardInterrupt (or does what the
// program set signal.signal(SIGINT, ...) to do).
#pragma once

#include <atomic>
#include <exception>
#include <optional>
#include <utility>

#include <dagprop/run_interruption.hpp>

#include "common.hpp"

namespace dagprop::python {

class SigintWatch {
 public:
  // With the GIL held. Watches only on Python's main thread (the only one Python delivers signals
  // to) and only while Python handles SIGINT itself (not under SIG_IGN or SIG_DFL); else inert.
  SigintWatch();
  ~SigintWatch();  // puts Python's handler back, if finish() did not
  SigintWatch(const SigintWatch&) = delete;
  SigintWatch& operator=(const SigintWatch&) = delete;

  // Set by SIGINT while watching; readable from any thread.
  static const std::atomic<bool>& flag();
  static bool received() { return flag().load(std::memory_order_relaxed); }
  // With the GIL held, after the work: puts Python's handler back and, if SIGINT arrived, hands it
  // to Python's handler and throws py::error_already_set when that raised (KeyboardInterrupt).
  void finish();
  bool watching() const { return watching_; }

  // Module start-up: remembers which thread is Python's main thread.
  static void initialize();

 private:
  void restore();
  bool watching_ = false;
};

// Runs `work` (which returns nothing) without the GIL, stoppable by Ctrl-C between the steps of
// every graph run it makes: a stopped run's Error gives way to the KeyboardInterrupt. With the GIL
// held on entry and exit.
template <class Work>
void run_interruptibly(Work&& work) {
  SigintWatch watch;
  std::exception_ptr failure;
  {
    py::gil_scoped_release release;
    std::optional<ScopedRunStopFlag> stop;  // only while watching: other threads' runs go on
    if (watch.watching()) stop.emplace(SigintWatch::flag());
    try {
      std::forward<Work>(work)();
    } catch (...) {
      failure = std::current_exception();
    }
  }
  watch.finish();  // throws KeyboardInterrupt after a SIGINT
  if (failure) std::rethrow_exception(failure);
}

}  // namespace dagprop::python
