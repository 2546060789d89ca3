// Training progress on stdout: on a terminal, a bar redrawn in place (step, loss, examples/s,
// ETA); otherwise plain lines, at most one per quarter of an epoch and only for epochs long enough
// to wait on, so logs stay readable.
#pragma once

#include <chrono>
#include <string>

#include <dagprop/nn/trainer.hpp>

namespace dagprop::cli {

class Progress {
 public:
  // `label` starts every line ("relu seed 2"); may be empty.
  explicit Progress(std::string label);

  void on_step(const nn::StepReport& report);
  void on_epoch(const nn::EpochRecord& record, int epochs);

 private:
  using Clock = std::chrono::steady_clock;
  std::string label_;
  bool terminal_;
  Clock::time_point epoch_start_;
  Clock::time_point last_draw_;  // terminal: last redraw; otherwise: last line (or epoch start)
  std::int64_t examples_ = 0;
  bool started_ = false;  // a resumed run's first step is not step 1
};

}  // namespace dagprop::cli
