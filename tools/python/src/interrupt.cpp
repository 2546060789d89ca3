// SigintWatch: SIGINT as a flag while C++ work runs without the GIL (interrupt.hpp).
#include "interrupt.hpp"

#include <csignal>

namespace dagprop::python {
namespace {

std::atomic<bool> g_received{false};
unsigned long g_main_thread = 0;       // PyThread_get_thread_ident() of Python's main thread
struct sigaction g_python_handler {};  // what SIGINT did before the outermost watch
int g_depth = 0;                       // watches alive (main thread only, so no lock)

extern "C" void on_sigint(int /*signal*/) {
  g_received.store(true, std::memory_order_relaxed);  // lock-free: async-signal-safe
}

}  // namespace

const std::atomic<bool>& SigintWatch::flag() {
  return g_received;
}

void SigintWatch::initialize() {
  g_main_thread =
      py::module_::import("threading").attr("main_thread")().attr("ident").cast<unsigned long>();
}

SigintWatch::SigintWatch() {
  if (PyThread_get_thread_ident() != g_main_thread) return;
  if (g_depth > 0) {  // a run inside a run (a Python op's kernel): the outer watch covers it
    ++g_depth;
    watching_ = true;
    return;
  }
  struct sigaction ours {};
  ours.sa_handler = on_sigint;
  sigemptyset(&ours.sa_mask);
  struct sigaction previous {};
  if (sigaction(SIGINT, &ours, &previous) != 0) return;
  if (previous.sa_handler == SIG_DFL || previous.sa_handler == SIG_IGN) {
    // Python does not handle SIGINT here (signal.signal(SIGINT, SIG_IGN), or an embedding program
    // that did not install handlers): leave it as it was.
    sigaction(SIGINT, &previous, nullptr);
    return;
  }
  g_python_handler = previous;
  g_received.store(false, std::memory_order_relaxed);
  g_depth = 1;
  watching_ = true;
}

void SigintWatch::restore() {
  if (!watching_) return;
  watching_ = false;
  if (--g_depth == 0) sigaction(SIGINT, &g_python_handler, nullptr);
}

SigintWatch::~SigintWatch() {
  restore();
}

void SigintWatch::finish() {
  if (!watching_) return;
  const bool outermost = g_depth == 1;
  restore();
  if (!outermost || !g_received.exchange(false)) return;
  // Python's handler is back: let it see the signal, then run its Python-level handler here.
  std::raise(SIGINT);
  if (PyErr_CheckSignals() != 0) throw py::error_already_set();
}

}  // namespace dagprop::python
