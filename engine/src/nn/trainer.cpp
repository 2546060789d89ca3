// The training loop. Per step: one backward() (the loss, the logits and every gradient come from
// one cached plan), the accuracy from the logits that run left behind, one optimizer step in place.
// Sharded (TrainOptions::shards): one backward() per shard of this rank, the shards' gradients
// summed exactly over the group (fixed_point_sum.hpp), then the same optimizer step on every rank.
#include <dagprop/nn/trainer.hpp>

#include <algorithm>
#include <chrono>
#include <cmath>
#include <cstring>
#include <span>
#include <tuple>
#include <vector>

#include <dagprop/data/batches.hpp>
#include <dagprop/error.hpp>
#include <dagprop/nn/fixed_point_sum.hpp>
#include <dagprop/nn/metrics.hpp>
#include <dagprop/ops.hpp>
#include <dagprop/random.hpp>

namespace dagprop::nn {
namespace {

using Clock = std::chrono::steady_clock;

double seconds_since(Clock::time_point start) {
  return std::chrono::duration<double>(Clock::now() - start).count();
}

void check_options(const TrainOptions& o, const data::Dataset& train) {
  auto fail = [](const std::string& message) { throw Error("training options: " + message); };
  if (o.epochs < 1 || o.epochs > 100000) {
    fail("epochs = " + std::to_string(o.epochs) + "; use 1..100000");
  }
  if (o.batch_size < 1 || o.batch_size > train.size()) {
    fail("batch size " + std::to_string(o.batch_size) + " for " + std::to_string(train.size()) +
         " training examples; use 1.." + std::to_string(train.size()));
  }
  if (o.eval_batch_size < 1) {
    fail("eval_batch_size = " + std::to_string(o.eval_batch_size) + "; use at least 1");
  }
  if (o.shards < 0 || o.shards > o.batch_size || (o.shards > 0 && o.batch_size % o.shards != 0)) {
    fail(std::to_string(o.shards) + " shards of a batch of " + std::to_string(o.batch_size) +
         "; the shards must divide the batch into equal parts (0: no shards)");
  }
}

void check_group(const TrainOptions& o, const Collective& group) {
  if (group.size() == 1) return;
  if (o.shards == 0) {
    throw Error("training options: training on " + std::to_string(group.size()) +
                " ranks needs shards (TrainOptions::shards, --shards): give a number of shards "
                "that divides the batch, at least the number of ranks");
  }
  if (o.shards < group.size()) {
    throw Error("training options: a batch of " + std::to_string(o.batch_size) + " in " +
                std::to_string(o.shards) + " shards cannot feed " + std::to_string(group.size()) +
                " ranks (each rank trains on whole shards); run at most " +
                std::to_string(o.shards) + " ranks or give more shards");
  }
}

}  // namespace

struct Trainer::Shards {
  std::int64_t count = 0, rows = 0;
  std::int64_t first = 0, last = 0;  // this rank's shards
  int fraction_bits = 0;
  Tensor features, labels;                     // one shard's rows
  std::vector<Expr> parameters;                // in the order of their gradients below
  std::vector<std::vector<Tensor>> gradients;  // [this rank's shard][parameter]
  std::vector<std::int32_t> exponents;         // per parameter
  std::vector<std::int64_t> sums;              // every parameter's, one after the other
  std::vector<std::size_t> offsets;            // where each parameter's sums start
  std::vector<double> losses;                  // per shard of the batch
  std::vector<std::int64_t> correct;
};

struct Trainer::EvalHead {
  std::int64_t rows = 0;
  Tensor features, labels;
  Expr x, y, logits, loss;
  Function function;  // of the logits and the loss
};

Trainer::Trainer(const data::Dataset& train, const data::Dataset& test, const TrainOptions& options,
                 const data::Dataset* validation, Collective* group)
    : train_(&train),
      test_(&test),
      validation_(validation),
      options_(options),
      group_(group != nullptr ? group : &single_process_) {
  data::check_dataset(train);
  data::check_dataset(test);
  if (validation != nullptr) data::check_dataset(*validation);
  check_options(options, train);
  check_group(options, *group_);
  for (const data::Dataset* d : {&test, validation}) {
    if (d != nullptr && !d->example_shape.empty() && !train.example_shape.empty() &&
        d->example_shape != train.example_shape) {
      auto text = [](const std::vector<std::int64_t>& shape) {
        std::string t;
        for (const std::int64_t dim : shape) t += (t.empty() ? "" : "x") + std::to_string(dim);
        return t;
      };
      throw Error("dataset '" + d->name + "' holds examples of shape " + text(d->example_shape) +
                  " but the training set '" + train.name + "' holds " + text(train.example_shape) +
                  "; evaluate on data of the same kind");
    }
  }
  std::int64_t classes = std::max(train.num_classes, test.num_classes);
  for (const data::Dataset* d : {&test, validation}) {
    if (d != nullptr && d->num_features() != train.num_features()) {
      throw Error("dataset '" + d->name + "' has " + std::to_string(d->num_features()) +
                  " features but the training set '" + train.name + "' has " +
                  std::to_string(train.num_features()) + "; evaluate on data of the same kind");
    }
    if (d != nullptr) classes = std::max(classes, d->num_classes);
  }

  SplitMix64 init_random(stream_seed(options.seed, 0));
  example_shape_ = {train.num_features()};
  if (options.model.empty()) {
    MlpOptions mlp{.activation = options.activation, .init = options.init, .dtype = DType::f32};
    mlp.sizes.push_back(train.num_features());
    mlp.sizes.insert(mlp.sizes.end(), options.hidden.begin(), options.hidden.end());
    mlp.sizes.push_back(classes);
    model_ = std::make_unique<Mlp>(graph_, mlp, init_random);
  } else {
    if (train.example_shape.size() == 2)
      example_shape_ = {1, train.example_shape[0], train.example_shape[1]};
    sequential_ = std::make_unique<Sequential>(graph_, options.model, example_shape_, init_random);
    if (sequential_->output_shape() != std::vector<std::int64_t>{classes}) {
      std::string shape;
      for (const std::int64_t d : sequential_->output_shape())
        shape += (shape.empty() ? "" : ", ") + std::to_string(d);
      throw Error("the model '" + options.model + "' gives [" + shape + "] per example, but '" +
                  train.name + "' has " + std::to_string(classes) +
                  " classes; end the model with 'dense " + std::to_string(classes) + "'");
    }
  }

  if (options.shards > 0 && sequential_ &&
      (!sequential_->state().empty() || !sequential_->batch_statistics().empty())) {
    throw Error("training options: the model '" + options.model +
                "' has layers with state (batchnorm, dropout), whose statistics and masks would "
                "differ between shards; sharded training takes models without them for now");
  }
  const std::int64_t rows =
      options.shards > 0 ? options.batch_size / options.shards : options.batch_size;
  x_ = graph_.input("x", Shape{rows, train.num_features()}, DType::f32);
  labels_ = graph_.labels("labels", rows, classes, DType::f32);
  logits_ = apply_model(x_, Mode::train);
  loss_ = graph_.set_name(cross_entropy(logits_, labels_), "loss");

  for (const data::Dataset* d : {&test, validation}) {
    if (d == nullptr || d->size() == 0) continue;
    const std::int64_t eval_rows = std::min(options.eval_batch_size, d->size());
    eval_head(eval_rows);
    if (d->size() % eval_rows != 0) eval_head(d->size() % eval_rows);
  }

  if (options.shards > 0) {
    shards_ = std::make_unique<Shards>();
    Shards& s = *shards_;
    s.count = options.shards;
    s.rows = rows;
    s.first = split_point(s.count, group_->size(), group_->rank());
    s.last = split_point(s.count, group_->size(), group_->rank() + 1);
    s.fraction_bits = fixed_point_fraction_bits(s.count);
    s.features = Tensor(Shape{rows, train.num_features()}, DType::f32);
    s.labels = Tensor(Shape{rows}, DType::f32);
    s.parameters = parameters();
    for (std::int64_t k = s.first; k < s.last; ++k) {
      std::vector<Tensor> per_parameter;
      for (const Expr& p : s.parameters) per_parameter.emplace_back(p.shape(), p.dtype());
      s.gradients.push_back(std::move(per_parameter));
    }
    std::size_t total = 0;
    for (const Expr& p : s.parameters) {
      s.offsets.push_back(total);
      total += static_cast<std::size_t>(p.shape().numel());
    }
    s.sums.resize(total);
    s.exponents.resize(s.parameters.size());
    s.losses.resize(static_cast<std::size_t>(s.count));
    s.correct.resize(static_cast<std::size_t>(s.count));
  }
}

Trainer::~Trainer() = default;

Expr Trainer::apply_model(Expr x, Mode mode) const {
  if (model_) return (*model_)(x);
  std::vector<std::int64_t> dims{x.shape()[0]};
  dims.insert(dims.end(), example_shape_.begin(), example_shape_.end());
  return sequential_->apply(example_shape_.size() == 1 ? x : reshape(x, dims), mode);
}

std::vector<Expr> Trainer::parameters() const {
  return model_ ? model_->parameters() : sequential_->parameters();
}

std::vector<Expr> Trainer::checkpointed_tensors() {
  std::vector<Expr> tensors = optimizer().parameters();
  if (sequential_) {
    for (const Expr& state : sequential_->state()) tensors.push_back(state);
  }
  return tensors;
}

const Mlp& Trainer::model() const {
  if (!model_) {
    throw Error("Trainer::model(): this trainer trains the Sequential model '" + options_.model +
                "', not an Mlp; use parameters()");
  }
  return *model_;
}

Trainer::EvalHead& Trainer::eval_head(std::int64_t rows) {
  for (auto& head : eval_heads_) {
    if (head->rows == rows) return *head;
  }
  auto head = std::make_unique<EvalHead>();
  head->rows = rows;
  const std::int64_t width = train_->num_features();
  head->features = Tensor(Shape{rows, width}, DType::f32);
  head->labels = Tensor(Shape{rows}, DType::f32);
  head->x = graph_.input("eval_x_" + std::to_string(rows), Shape{rows, width}, DType::f32);
  head->y =
      graph_.labels("eval_labels_" + std::to_string(rows), rows, logits_.shape()[1], DType::f32);
  head->logits = apply_model(head->x, Mode::eval);
  head->loss = cross_entropy(head->logits, head->y);
  head->function = graph_.compile({head->logits, head->loss});
  eval_heads_.push_back(std::move(head));
  return *eval_heads_.back();
}

Evaluation Trainer::evaluate(const data::Dataset& dataset) {
  const std::int64_t n = dataset.size();
  if (n == 0) return {};
  const std::int64_t rows = std::min(options_.eval_batch_size, n);
  // Each batch's loss and count are computed by one rank, wherever it runs, and summed here in
  // batch order: the bits of a single process's loop.
  const std::int64_t count = (n + rows - 1) / rows;
  std::vector<double> losses(static_cast<std::size_t>(count), 0.0);
  std::vector<std::int64_t> counts(static_cast<std::size_t>(count), 0);
  const std::int64_t mine_end = split_point(count, group_->size(), group_->rank() + 1);
  for (std::int64_t b = split_point(count, group_->size(), group_->rank()); b < mine_end; ++b) {
    const std::int64_t first = b * rows;
    EvalHead& head = eval_head(std::min(rows, n - first));
    data::copy_rows(dataset, first, head.rows, head.features, head.labels);
    head.function.run({{head.x, head.features}, {head.y, head.labels}});
    losses[static_cast<std::size_t>(b)] =
        head.function.value(head.loss).item() * static_cast<double>(head.rows);
    counts[static_cast<std::size_t>(b)] =
        count_correct(head.function.value(head.logits), head.labels);
  }
  group_->combine_disjoint(losses);
  group_->sum_in_place(counts);
  double loss_sum = 0.0;
  std::int64_t correct = 0;
  for (std::size_t b = 0; b < losses.size(); ++b) {
    loss_sum += losses[b];
    correct += counts[b];
  }
  return {loss_sum / static_cast<double>(n), static_cast<double>(correct) / static_cast<double>(n)};
}

Optimizer& Trainer::optimizer() {
  if (!optimizer_) {
    optimizer_ = make_optimizer(options_.optimizer, parameters(), options_.optimizer_settings);
  }
  return *optimizer_;
}

LrSchedule Trainer::schedule() const {
  const TrainOptions& o = options_;
  return make_schedule(o.schedule, {.base = o.optimizer_settings.learning_rate,
                                    .epochs = o.epochs,
                                    .step_epochs = o.step_epochs,
                                    .gamma = o.gamma});
}

std::uint64_t Trainer::batch_seed() const {
  return stream_seed(options_.seed, 1);
}

TrainHistory Trainer::fit(const TrainCallbacks& callbacks) {
  const auto fit_start = Clock::now();
  const TrainOptions& o = options_;
  data::MiniBatches batches(*train_, o.batch_size, batch_seed());
  Optimizer& optimizer = this->optimizer();
  const LrSchedule schedule = this->schedule();
  const std::vector<Feed> feeds{{x_, batches.features()}, {labels_, batches.labels()}};

  broadcast_state();
  Position& p = position_;
  TrainHistory& history = p.history;
  history.complete = false;
  // The accuracy is read from the logits the backward run leaves behind.
  BackwardOptions keep_logits;
  keep_logits.keep = {logits_};
  if (sequential_) {
    for (const Expr& statistics : sequential_->batch_statistics())
      keep_logits.keep.push_back(statistics);
  }
  for (; p.epoch < o.epochs; ++p.epoch) {
    const auto epoch_start = Clock::now();
    EpochRecord record;
    record.epoch = p.epoch + 1;
    record.learning_rate = schedule.at(p.epoch);
    optimizer.set_learning_rate(record.learning_rate);
    batches.start_epoch(p.epoch);
    // Resuming mid-epoch: the batches already trained on are passed over, not drawn again.
    batches.skip(p.step);
    while (batches.next()) {
      double loss = 0.0;
      std::int64_t correct = 0;
      if (shards_) {
        std::tie(loss, correct) = sharded_step(batches, keep_logits);
      } else {
        graph_.backward(loss_, feeds, keep_logits);
        loss = loss_.item();
        correct = count_correct(logits_.value(), batches.labels());
      }
      if (!std::isfinite(loss)) {
        const std::string message =
            "training diverged: the loss is " + std::to_string(loss) + " at epoch " +
            std::to_string(p.epoch + 1) + ", step " + std::to_string(p.step + 1) + " (activation " +
            o.activation + ", optimizer " + o.optimizer + ", learning rate " +
            std::to_string(record.learning_rate) + "); lower the learning rate";
        // Sharded, every rank holds the same loss and stops here alike.
        if (shards_) throw CollectiveError(message);
        throw Error(message);
      }
      p.loss_sum += loss;
      p.correct += correct;
      // Running statistics from this run's batch, and the next step's dropout masks.
      if (sequential_) sequential_->end_training_step();
      ++p.step;
      ++p.global_step;
      optimizer.step();
      if (callbacks.on_step) {
        callbacks.on_step({.epoch = p.epoch + 1,
                           .epochs = o.epochs,
                           .step = p.step,
                           .steps_per_epoch = batches.batches_per_epoch(),
                           .global_step = p.global_step,
                           .batch_size = o.batch_size,
                           .mean_loss = p.loss_sum / static_cast<double>(p.step),
                           .loss = loss});
      }
      // Every rank stops at the same step, whichever was asked.
      const bool stop = callbacks.stop_requested && callbacks.stop_requested();
      if (group_->size() > 1 ? any_rank(*group_, stop) : stop) {
        history.seconds = seconds_since(fit_start);
        return history;
      }
    }
    record.train_loss = p.loss_sum / static_cast<double>(p.step);
    record.train_accuracy =
        static_cast<double>(p.correct) / static_cast<double>(p.step * o.batch_size);
    if (validation_ != nullptr) record.validation = evaluate(*validation_);
    record.test = evaluate(*test_);
    record.seconds = seconds_since(epoch_start);
    history.epochs.push_back(record);
    p.step = 0;
    p.loss_sum = 0.0;
    p.correct = 0;
    if (callbacks.on_epoch) callbacks.on_epoch(record);
  }
  history.complete = true;
  history.seconds = seconds_since(fit_start);
  return history;
}

std::pair<double, std::int64_t> Trainer::sharded_step(const data::MiniBatches& batches,
                                                      const BackwardOptions& keep) {
  Shards& s = *shards_;
  const std::vector<Feed> feeds{{x_, s.features}, {labels_, s.labels}};
  const std::int64_t width = train_->num_features();
  const std::size_t row_bytes = static_cast<std::size_t>(width) * sizeof(float);
  std::fill(s.losses.begin(), s.losses.end(), 0.0);
  std::fill(s.correct.begin(), s.correct.end(), 0);
  for (std::int64_t k = s.first; k < s.last; ++k) {
    const std::int64_t row = k * s.rows;
    std::memcpy(s.features.view().raw(),
                static_cast<const std::byte*>(batches.features().view().raw()) +
                    static_cast<std::size_t>(row) * row_bytes,
                static_cast<std::size_t>(s.rows) * row_bytes);
    std::memcpy(s.labels.view().raw(), batches.labels().data<float>() + row,
                static_cast<std::size_t>(s.rows) * sizeof(float));
    graph_.backward(loss_, feeds, keep);
    s.losses[static_cast<std::size_t>(k)] = loss_.item();
    s.correct[static_cast<std::size_t>(k)] = count_correct(logits_.value(), s.labels);
    std::vector<Tensor>& stash = s.gradients[static_cast<std::size_t>(k - s.first)];
    for (std::size_t i = 0; i < s.parameters.size(); ++i) {
      std::memcpy(stash[i].view().raw(), s.parameters[i].grad().raw(), stash[i].nbytes());
    }
  }
  // The grid of each parameter's sum: the largest magnitude over every shard of every rank.
  for (std::size_t i = 0; i < s.parameters.size(); ++i) {
    std::int32_t e = kAllZeroExponent;
    for (const std::vector<Tensor>& stash : s.gradients) {
      const TensorView g = stash[i].view();
      e = std::max(
          e, g.dtype() == DType::f32
                 ? magnitude_exponent({g.data<float>(), static_cast<std::size_t>(g.numel())})
                 : magnitude_exponent({g.data<double>(), static_cast<std::size_t>(g.numel())}));
    }
    s.exponents[i] = e;
  }
  group_->max_in_place(s.exponents);
  for (std::size_t i = 0; i < s.parameters.size(); ++i) {
    if (s.exponents[i] == kNonFiniteExponent) {
      throw CollectiveError(
          "training diverged: the gradient of '" + graph_.full_name_of(s.parameters[i].id()) +
          "' holds a NaN or an infinity at step " + std::to_string(position_.global_step + 1) +
          "; lower the learning rate");
    }
  }
  // Buckets of one parameter each, the last layer's first (the order backward finishes them).
  std::fill(s.sums.begin(), s.sums.end(), 0);
  for (std::size_t i = s.parameters.size(); i-- > 0;) {
    const std::size_t n = static_cast<std::size_t>(s.parameters[i].shape().numel());
    const std::span<std::int64_t> bucket(s.sums.data() + s.offsets[i], n);
    for (const std::vector<Tensor>& stash : s.gradients) {
      const TensorView g = stash[i].view();
      if (g.dtype() == DType::f32) {
        add_to_fixed_point({g.data<float>(), n}, s.exponents[i], s.fraction_bits, bucket);
      } else {
        add_to_fixed_point({g.data<double>(), n}, s.exponents[i], s.fraction_bits, bucket);
      }
    }
    group_->sum_in_place(bucket);
  }
  // The mean over the shards (each shard's loss is the mean over its rows): the batch's mean.
  const double shards = static_cast<double>(s.count);
  for (std::size_t i = 0; i < s.parameters.size(); ++i) {
    const std::size_t n = static_cast<std::size_t>(s.parameters[i].shape().numel());
    const std::span<const std::int64_t> bucket(s.sums.data() + s.offsets[i], n);
    const TensorView g = s.parameters[i].grad();
    if (g.dtype() == DType::f32) {
      fixed_point_to_values(bucket, s.exponents[i], s.fraction_bits, shards, {g.data<float>(), n});
    } else {
      fixed_point_to_values(bucket, s.exponents[i], s.fraction_bits, shards, {g.data<double>(), n});
    }
  }
  group_->combine_disjoint(s.losses);
  group_->sum_in_place(s.correct);
  double loss_sum = 0.0;
  std::int64_t correct = 0;
  for (std::size_t k = 0; k < s.losses.size(); ++k) {
    loss_sum += s.losses[k];
    correct += s.correct[k];
  }
  return {loss_sum / shards, correct};
}

// Every rank starts from rank 0's parameters, model state and optimizer state (equal anyway for
// ranks built from the same seed; a resumed rank 0's checkpoint reaches the others this way too).
void Trainer::broadcast_state() {
  if (group_->size() == 1 || state_broadcast_) return;
  for (const Expr& tensor : checkpointed_tensors()) {
    const TensorView v = tensor.value();
    group_->broadcast({static_cast<std::byte*>(v.raw()), v.nbytes()}, 0);
  }
  for (const Optimizer::StateBuffer& buffer : optimizer().state_buffers()) {
    group_->broadcast(
        {static_cast<std::byte*>(buffer.tensor->view().raw()), buffer.tensor->nbytes()}, 0);
  }
  state_broadcast_ = true;
}

namespace {

CheckpointEpoch flatten(const EpochRecord& e) {
  CheckpointEpoch c;
  c.epoch = e.epoch;
  c.learning_rate = e.learning_rate;
  c.train_loss = e.train_loss;
  c.train_accuracy = e.train_accuracy;
  c.has_validation = e.validation.has_value();
  if (e.validation) {
    c.validation_loss = e.validation->loss;
    c.validation_accuracy = e.validation->accuracy;
  }
  c.test_loss = e.test.loss;
  c.test_accuracy = e.test.accuracy;
  c.seconds = e.seconds;
  return c;
}

EpochRecord unflatten(const CheckpointEpoch& c) {
  EpochRecord e;
  e.epoch = c.epoch;
  e.learning_rate = c.learning_rate;
  e.train_loss = c.train_loss;
  e.train_accuracy = c.train_accuracy;
  if (c.has_validation) e.validation = Evaluation{c.validation_loss, c.validation_accuracy};
  e.test = {c.test_loss, c.test_accuracy};
  e.seconds = c.seconds;
  return e;
}

std::string describe_tensor(const std::string& name, const Tensor& t) {
  return "'" + name + "' " + t.shape().to_string() + " " + std::string(dtype_name(t.dtype()));
}

}  // namespace

Checkpoint Trainer::checkpoint(const std::string& run_settings) {
  const Position& p = position_;
  Optimizer& optimizer = this->optimizer();
  Checkpoint c;
  c.run_settings = run_settings;
  c.epochs = options_.epochs;
  c.epoch = p.epoch;
  c.step = p.step;
  c.global_step = p.global_step;
  c.epoch_loss_sum = p.loss_sum;
  c.epoch_correct = p.correct;
  c.batch_seed = batch_seed();
  c.learning_rate = p.epoch < options_.epochs ? schedule().at(p.epoch) : 0.0;
  c.optimizer = options_.optimizer;
  c.optimizer_steps = optimizer.steps_taken();
  const std::vector<Expr>& parameters = optimizer.parameters();
  for (const Expr& tensor : checkpointed_tensors())
    c.parameters.push_back({graph_.full_name_of(tensor.id()), Tensor(tensor.value())});
  for (const Optimizer::StateBuffer& buffer : optimizer.state_buffers()) {
    c.optimizer_state.push_back(
        {graph_.full_name_of(parameters[buffer.parameter].id()) + "/" + std::string(buffer.name),
         *buffer.tensor});
  }
  for (const EpochRecord& e : p.history.epochs) c.finished_epochs.push_back(flatten(e));
  return c;
}

void Trainer::restore(const Checkpoint& c) {
  auto fail = [](const std::string& what) {
    throw Error("cannot resume from this checkpoint: " + what +
                "; resume with the options, data and dagprop version that wrote it");
  };
  const TrainOptions& o = options_;
  if (c.epochs != o.epochs) {
    fail("it is of a run of " + std::to_string(c.epochs) + " epochs, this one has " +
         std::to_string(o.epochs));
  }
  if (c.batch_seed != batch_seed()) fail("its batch order comes from another seed");
  if (c.optimizer != o.optimizer) {
    fail("it holds the state of optimizer '" + c.optimizer + "', this run uses '" + o.optimizer +
         "'");
  }
  const std::int64_t per_epoch = steps_per_epoch();
  const bool position_ok =
      c.epoch >= 0 && c.step >= 0 &&
      (c.epoch < o.epochs ? c.step <= per_epoch : c.epoch == o.epochs && c.step == 0) &&
      c.global_step == static_cast<std::int64_t>(c.epoch) * per_epoch + c.step &&
      c.optimizer_steps == c.global_step && c.epoch_correct >= 0 &&
      c.epoch_correct <= c.step * o.batch_size && std::isfinite(c.epoch_loss_sum) &&
      static_cast<std::int64_t>(c.finished_epochs.size()) == c.epoch;
  if (!position_ok) {
    fail("its position (epoch " + std::to_string(c.epoch + 1) + ", step " + std::to_string(c.step) +
         ", " + std::to_string(c.global_step) + " steps in all, " +
         std::to_string(c.optimizer_steps) + " optimizer steps) does not fit " +
         std::to_string(per_epoch) + " steps per epoch of batch " + std::to_string(o.batch_size));
  }
  if (c.epoch < o.epochs && c.learning_rate != schedule().at(c.epoch)) {
    fail("its learning rate for epoch " + std::to_string(c.epoch + 1) + " is " +
         std::to_string(c.learning_rate) + ", this run's schedule gives " +
         std::to_string(schedule().at(c.epoch)));
  }
  Optimizer& optimizer = this->optimizer();
  const std::vector<Expr>& parameters = optimizer.parameters();
  const std::vector<Expr> tensors = checkpointed_tensors();
  const std::vector<Optimizer::StateBuffer> buffers = optimizer.state_buffers();
  if (c.parameters.size() != tensors.size() || c.optimizer_state.size() != buffers.size()) {
    fail("it holds " + std::to_string(c.parameters.size()) + " parameters and " +
         std::to_string(c.optimizer_state.size()) + " optimizer buffers, this model has " +
         std::to_string(tensors.size()) + " and " + std::to_string(buffers.size()));
  }
  // Everything is checked before anything is written: a refused checkpoint leaves the trainer as
  // it was.
  for (std::size_t i = 0; i < tensors.size(); ++i) {
    const std::string name = graph_.full_name_of(tensors[i].id());
    const NamedTensor& saved = c.parameters[i];
    if (saved.name != name || !(saved.tensor.shape() == tensors[i].shape()) ||
        saved.tensor.dtype() != tensors[i].dtype()) {
      fail("parameter " + std::to_string(i) + " is " + describe_tensor(saved.name, saved.tensor) +
           " there but " + describe_tensor(name, Tensor(tensors[i].shape(), tensors[i].dtype())) +
           " in this model");
    }
  }
  for (std::size_t i = 0; i < buffers.size(); ++i) {
    const std::string name = graph_.full_name_of(parameters[buffers[i].parameter].id()) + "/" +
                             std::string(buffers[i].name);
    const NamedTensor& saved = c.optimizer_state[i];
    if (saved.name != name || !(saved.tensor.shape() == buffers[i].tensor->shape()) ||
        saved.tensor.dtype() != buffers[i].tensor->dtype()) {
      fail("optimizer buffer " + std::to_string(i) + " is " +
           describe_tensor(saved.name, saved.tensor) + " there but " +
           describe_tensor(name, *buffers[i].tensor) + " in this optimizer");
    }
  }
  for (std::size_t i = 0; i < tensors.size(); ++i) {
    std::memcpy(tensors[i].value().raw(), c.parameters[i].tensor.view().raw(),
                c.parameters[i].tensor.nbytes());
  }
  for (std::size_t i = 0; i < buffers.size(); ++i) *buffers[i].tensor = c.optimizer_state[i].tensor;
  optimizer.set_steps_taken(c.optimizer_steps);
  position_ = Position{};
  position_.epoch = c.epoch;
  position_.step = c.step;
  position_.global_step = c.global_step;
  position_.loss_sum = c.epoch_loss_sum;
  position_.correct = c.epoch_correct;
  for (const CheckpointEpoch& e : c.finished_epochs)
    position_.history.epochs.push_back(unflatten(e));
}

std::pair<Tensor, Tensor> Trainer::last_training_batch() const {
  const Position& p = position_;
  if (p.global_step == 0) {
    throw Error("Trainer::last_training_batch: nothing has been trained yet; call fit() first");
  }
  // The batch of step p.step of the epoch in progress, or the last of the epoch before.
  const int epoch = p.step > 0 ? p.epoch : p.epoch - 1;
  const std::int64_t step = p.step > 0 ? p.step : steps_per_epoch();
  data::MiniBatches batches(*train_, options_.batch_size, batch_seed());
  batches.start_epoch(epoch);
  batches.skip(step - 1);
  batches.next();
  if (!shards_) return {batches.features(), batches.labels()};
  const std::int64_t rows = shards_->rows, width = train_->num_features();
  Tensor features(Shape{rows, width}, DType::f32), labels(Shape{rows}, DType::f32);
  std::memcpy(features.view().raw(), batches.features().view().raw(), features.nbytes());
  std::memcpy(labels.view().raw(), batches.labels().view().raw(), labels.nbytes());
  return {features, labels};
}

}  // namespace dagprop::nn
