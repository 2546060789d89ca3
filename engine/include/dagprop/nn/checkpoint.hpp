// Checkpoint: everything a Trainer needs to continue a run as if it had never stopped (parameters,
// optimizer state, the position in the schedule and in the batch order, the epoch in progress and
// the finished epochs' records), and its file. Files are written atomically (a temporary file,
// fsync, rename), so a crash mid-write leaves the previous checkpoint whole; read back, a file is
// untrusted input: every field is checked, tensor sizes are bounded before anything is allocated,
// and each tensor carries a CRC-32 of its bytes.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include <dagprop/export.hpp>
#include <dagprop/tensor.hpp>

DAGPROP_API_BEGIN
namespace dagprop::nn {

inline constexpr int kCheckpointVersion = 1;

struct NamedTensor {
  std::string name;  // a parameter's full name; optimizer state: "<parameter>/<buffer>"
  Tensor tensor;
};

// A finished epoch's record (nn::EpochRecord, flattened).
struct CheckpointEpoch {
  int epoch = 0;
  double learning_rate = 0.0, train_loss = 0.0, train_accuracy = 0.0;
  bool has_validation = false;
  double validation_loss = 0.0, validation_accuracy = 0.0;
  double test_loss = 0.0, test_accuracy = 0.0;
  double seconds = 0.0;
};

struct Checkpoint {
  // The caller's description of the run (for `dagprop train`: its options, as JSON text), kept
  // verbatim so that a resumed run can rebuild the same model and data.
  std::string run_settings;
  int epochs = 0;                  // the run's length
  int epoch = 0;                   // the epoch in progress, 0-based (== epochs: training is done)
  std::int64_t step = 0;           // steps done within it
  std::int64_t global_step = 0;    // steps done in all
  double epoch_loss_sum = 0.0;     // the epoch's batch losses so far (its train_loss in the making)
  std::int64_t epoch_correct = 0;  // and its correct predictions
  // The generator state. Batch order is the only draw during training: epoch k's permutation is
  // derived from this seed and k alone, so (seed, epoch, step) is the whole state.
  std::uint64_t batch_seed = 0;
  double learning_rate = 0.0;  // the schedule's rate for `epoch`, checked on resume
  std::string optimizer;       // "adam"
  std::int64_t optimizer_steps = 0;
  std::vector<NamedTensor> parameters;
  std::vector<NamedTensor> optimizer_state;
  std::vector<CheckpointEpoch> finished_epochs;
};

// The file's text (JSON, tensors in base64 with their CRC-32), and back. read_checkpoint throws
// dagprop::Error naming `source`, the field and what was expected.
std::string write_checkpoint(const Checkpoint& checkpoint);
Checkpoint read_checkpoint(std::string_view text, const std::string& source);

// Atomic: writes path + ".tmp", flushes it to the disk, renames it over path, syncs the folder.
void save_checkpoint(const Checkpoint& checkpoint, const std::string& path);
// Refuses files over max_bytes before reading them.
Checkpoint load_checkpoint(const std::string& path, std::size_t max_bytes = std::size_t{1} << 32);

}  // namespace dagprop::nn
DAGPROP_API_END
