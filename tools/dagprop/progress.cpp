// The progress bar and its plain-line fallback.
#include "progress.hpp"

#include <unistd.h>

#include <cstdio>

namespace dagprop::cli {
namespace {

constexpr int kBarWidth = 24;

std::string minutes_seconds(double seconds) {
  const auto total = static_cast<long>(seconds + 0.5);
  char buffer[32];
  std::snprintf(buffer, sizeof buffer, "%ld:%02ld", total / 60, total % 60);
  return buffer;
}

}  // namespace

Progress::Progress(std::string label)
    : label_(label.empty() ? std::string() : label + "  "),
      terminal_(::isatty(::fileno(stdout)) == 1) {}

void Progress::on_step(const nn::StepReport& r) {
  const auto now = Clock::now();
  if (r.step == 1 || !started_) {
    started_ = true;
    epoch_start_ = now;
    last_draw_ = terminal_ ? now - std::chrono::seconds(1) : now;
  }
  examples_ = r.step * r.batch_size;
  const double elapsed = std::chrono::duration<double>(now - epoch_start_).count();
  const double rate = elapsed > 0 ? static_cast<double>(examples_) / elapsed : 0.0;
  const double eta = r.step > 0 ? elapsed / static_cast<double>(r.step) *
                                      static_cast<double>(r.steps_per_epoch - r.step)
                                : 0.0;
  if (terminal_) {
    // Redrawing costs a write per call; ten times a second is smooth enough.
    if (now - last_draw_ < std::chrono::milliseconds(100) && r.step != r.steps_per_epoch) return;
    last_draw_ = now;
    const auto filled = static_cast<int>(kBarWidth * r.step / r.steps_per_epoch);
    std::string bar(static_cast<std::size_t>(filled), '#');
    bar.resize(kBarWidth, '.');
    std::printf("\r%sepoch %d/%d [%s] %lld/%lld  loss %.4f  %.0f ex/s  ETA %s\x1b[K",
                label_.c_str(), r.epoch, r.epochs, bar.c_str(), static_cast<long long>(r.step),
                static_cast<long long>(r.steps_per_epoch), r.mean_loss, rate,
                minutes_seconds(eta).c_str());
    std::fflush(stdout);
    return;
  }
  const std::int64_t quarter = std::max<std::int64_t>(1, r.steps_per_epoch / 4);
  if (r.step % quarter == 0 && r.step != r.steps_per_epoch &&
      now - last_draw_ >= std::chrono::seconds(2)) {
    last_draw_ = now;
    std::printf("%sepoch %d/%d  step %lld/%lld  loss %.4f  %.0f ex/s  ETA %s\n", label_.c_str(),
                r.epoch, r.epochs, static_cast<long long>(r.step),
                static_cast<long long>(r.steps_per_epoch), r.mean_loss, rate,
                minutes_seconds(eta).c_str());
    std::fflush(stdout);
  }
}

void Progress::on_epoch(const nn::EpochRecord& e, int epochs) {
  if (terminal_) std::printf("\r\x1b[K");
  std::printf("%sepoch %d/%d  loss %.4f  acc %.4f", label_.c_str(), e.epoch, epochs, e.train_loss,
              e.train_accuracy);
  if (e.validation) {
    std::printf("  val loss %.4f acc %.4f", e.validation->loss, e.validation->accuracy);
  }
  std::printf("  test loss %.4f acc %.4f  lr %.3g  %.0f ex/s  %.1f s\n", e.test.loss,
              e.test.accuracy, e.learning_rate,
              e.seconds > 0 ? static_cast<double>(examples_) / e.seconds : 0.0, e.seconds);
  std::fflush(stdout);
}

}  // namespace dagprop::cli
