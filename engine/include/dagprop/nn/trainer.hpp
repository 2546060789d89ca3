// Trainer: mini-batch training of an Mlp classifier with cross-entropy, an optimizer and a
// learning-rate schedule, evaluated after every epoch. One graph holds the model applied to the
// training batch and to the evaluation batches (and whatever a caller adds, such as the activation
// study's probe batch), all sharing the same parameter nodes; each part is compiled once and
// replayed. Everything is seeded: the same options
// and data give the same numbers (only the wall-clock fields differ between runs).
#pragma once

#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include <dagprop/data/batches.hpp>
#include <dagprop/data/dataset.hpp>
#include <dagprop/export.hpp>
#include <dagprop/graph.hpp>
#include <dagprop/nn/checkpoint.hpp>
#include <dagprop/nn/collective.hpp>
#include <dagprop/nn/layers.hpp>
#include <dagprop/nn/optim.hpp>
#include <dagprop/nn/schedule.hpp>
#include <dagprop/nn/sequential.hpp>

DAGPROP_API_BEGIN
namespace dagprop::nn {

struct TrainOptions {
  // The model: a Sequential spec ("conv 32 5 pad 2, relu, maxpool 2, flatten, dense 10"; see
  // nn/sequential.hpp), whose last layer gives one logit per class; empty: an Mlp of `hidden`
  // sizes and `activation`. A spec sees image datasets (Dataset::example_shape [H, W]) as
  // [batch, 1, H, W] and other data as [batch, features].
  std::string model;
  std::vector<std::int64_t> hidden{256, 128};
  std::string activation = "relu";
  std::string init = "auto";
  std::string optimizer = "adam";
  OptimizerSettings optimizer_settings{};
  std::string schedule = "constant";
  std::int64_t step_epochs = 5;  // step schedule
  double gamma = 0.1;            // step schedule
  int epochs = 10;
  std::int64_t batch_size = 128;
  std::int64_t eval_batch_size = 1000;
  std::uint64_t seed = 1;
  // Sharded training (docs/distributed.md): each batch is cut into this many equal shards, each
  // shard's gradient is computed by the same graph, and the shards' gradients are summed exactly
  // (nn/fixed_point_sum.hpp), so the result is the same bits on any number of ranks (a Collective
  // of up to `shards` ranks, each taking a contiguous range of shards). 0: the whole batch in one
  // graph, on one process.
  std::int64_t shards = 0;
};

struct Evaluation {
  double loss = 0.0;
  double accuracy = 0.0;
};

struct EpochRecord {
  int epoch = 0;  // 1-based
  double learning_rate = 0.0;
  double train_loss = 0.0;      // mean over the epoch's batches, as trained (not re-evaluated)
  double train_accuracy = 0.0;  // likewise
  std::optional<Evaluation> validation;
  Evaluation test;
  double seconds = 0.0;  // wall time of the epoch's training and evaluation: varies run to run
};

struct TrainHistory {
  std::vector<EpochRecord> epochs;  // finished epochs (after a restore, those before it too)
  double seconds = 0.0;             // wall time of fit()
  bool complete = false;            // false: fit() stopped early, at TrainCallbacks::stop_requested
};

struct StepReport {
  int epoch = 0;  // 1-based
  int epochs = 0;
  std::int64_t step = 0;  // 1-based, within the epoch
  std::int64_t steps_per_epoch = 0;
  std::int64_t global_step = 0;  // 1-based, over the whole run
  std::int64_t batch_size = 0;
  double mean_loss = 0.0;  // over the epoch so far
  double loss = 0.0;       // this step's batch loss
};

struct TrainCallbacks {
  // After each step's update; Trainer::checkpoint() may be called from here.
  std::function<void(const StepReport&)> on_step;
  std::function<void(const EpochRecord&)> on_epoch;
  // Asked after each step (after on_step): true ends fit() there, its history marked incomplete,
  // and the trainer holds the position for checkpoint() (a signal handler's flag, for example).
  std::function<bool()> stop_requested;
};

class Trainer {
 public:
  // The datasets must outlive the trainer. `validation` may be null. `group`, if given, is the
  // group of ranks that train together (it must outlive the trainer; more than one rank needs
  // TrainOptions::shards): every rank builds the same trainer, fit() starts from rank 0's
  // parameters, and evaluation is split over the ranks; without one, the trainer is a group of one.
  Trainer(const data::Dataset& train, const data::Dataset& test, const TrainOptions& options,
          const data::Dataset* validation = nullptr, Collective* group = nullptr);
  ~Trainer();
  Trainer(const Trainer&) = delete;
  Trainer& operator=(const Trainer&) = delete;

  // Trains from where the trainer stands (the start, a restored checkpoint, or where an earlier
  // fit() stopped) to the last epoch. The result is the same bits whether or not the run was
  // stopped and resumed on the way.
  TrainHistory fit(const TrainCallbacks& callbacks = {});

  // The state at the current position (between steps: after fit() stopped, or inside on_step).
  // `run_settings` is stored verbatim for the caller.
  Checkpoint checkpoint(const std::string& run_settings);
  // Continues from a checkpoint written by a trainer of the same model, options and data: checks
  // that it fits (names, shapes, optimizer, seed, schedule, position) and throws dagprop::Error
  // saying what differs; then the next fit() goes on from its position.
  void restore(const Checkpoint& checkpoint);
  // The last batch trained on (features [batch, d], labels [batch]), drawn again from the batch
  // order: for a picture or a file of the trained model with that batch's gradients. Sharded: the
  // first shard of that batch (what loss() takes).
  std::pair<Tensor, Tensor> last_training_batch() const;
  // Loss and accuracy over a whole dataset (test or validation), in order, every example counted;
  // in a group, each rank evaluates a contiguous range of the evaluation batches, and the sums are
  // taken in batch order, to the bits of one rank's.
  Evaluation evaluate(const data::Dataset& dataset);

  Graph& graph() { return graph_; }
  // The training loss on one batch, and the feeds that give it a batch (features [batch, d], labels
  // [batch]): for pictures and checks of the trained model.
  Expr loss() const { return loss_; }
  std::vector<Feed> batch_feeds(const Tensor& features, const Tensor& labels) const {
    return {{x_, features}, {labels_, labels}};
  }
  // Every parameter of the model, layer by layer.
  std::vector<Expr> parameters() const;
  // The Mlp, for a trainer without TrainOptions::model; throws for a Sequential model.
  const Mlp& model() const;
  const TrainOptions& options() const { return options_; }

 private:
  struct EvalHead;
  struct Shards;
  // Where fit() stands: the epoch in progress and its running sums, and the finished epochs.
  struct Position {
    int epoch = 0;
    std::int64_t step = 0, global_step = 0;
    double loss_sum = 0.0;
    std::int64_t correct = 0;
    TrainHistory history;
  };
  EvalHead& eval_head(std::int64_t rows);
  Optimizer& optimizer();
  LrSchedule schedule() const;
  std::uint64_t batch_seed() const;
  std::int64_t steps_per_epoch() const { return train_->size() / options_.batch_size; }
  // One sharded step: this rank's shards' gradients, summed over the group into the parameters'
  // gradients; returns the batch's mean loss and its correct predictions.
  std::pair<double, std::int64_t> sharded_step(const data::MiniBatches& batches,
                                               const BackwardOptions& keep);
  void broadcast_state();

  const data::Dataset* train_;
  const data::Dataset* test_;
  const data::Dataset* validation_;
  TrainOptions options_;
  Graph graph_;
  Expr apply_model(Expr x, Mode mode) const;
  // What a checkpoint's parameter list holds: the optimizer's parameters, then the model's state
  // (batch norms' running statistics, dropout steps), by full name.
  std::vector<Expr> checkpointed_tensors();
  std::unique_ptr<Mlp> model_;               // TrainOptions::model empty
  std::unique_ptr<Sequential> sequential_;   // or the spec's model
  std::vector<std::int64_t> example_shape_;  // what the model takes per example
  Expr x_, labels_, logits_, loss_;
  std::vector<std::unique_ptr<EvalHead>> eval_heads_;
  std::unique_ptr<Optimizer> optimizer_;  // made by the first fit(), checkpoint() or restore()
  Position position_;
  SingleProcess single_process_;
  Collective* group_;
  std::unique_ptr<Shards> shards_;  // TrainOptions::shards > 0
  bool state_broadcast_ = false;
};

}  // namespace dagprop::nn
DAGPROP_API_END
