// The calling thread's run stop flag (run_interruption.hpp); the executors read it between steps.
#include <dagprop/run_interruption.hpp>

namespace dagprop {
namespace {
thread_local const std::atomic<bool>* current_stop_flag = nullptr;
}  // namespace

ScopedRunStopFlag::ScopedRunStopFlag(const std::atomic<bool>& flag) : previous_(current_stop_flag) {
  current_stop_flag = &flag;
}

ScopedRunStopFlag::~ScopedRunStopFlag() {
  current_stop_flag = previous_;
}

const std::atomic<bool>* run_stop_flag() {
  return current_stop_flag;
}

}  // namespace dagprop
