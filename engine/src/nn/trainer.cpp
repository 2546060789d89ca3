// The training loop. Per step: one backward() (the loss, the logits and every gradient come from
// one cached plan), the accuracy from the logits that run left behind, one optimizer step in place.
#include <dagprop/nn/trainer.hpp>

#include <algorithm>
#include <chrono>
#include <cmath>

#include <dagprop/data/batches.hpp>
#include <dagprop/error.hpp>
#include <dagprop/nn/metrics.hpp>
#include <dagprop/ops.hpp>
#include <dagprop/plan.hpp>
#include <dagprop/random.hpp>

namespace dagprop::nn {
namespace {

using Clock = std::chrono::steady_clock;

double seconds_since(Clock::time_point start) {
  return std::chrono::duration<double>(Clock::now() - start).count();
}

// Independent streams for initialization, batch order and the probe sample, derived from one seed
// so that changing how one of them draws never shifts the others.
std::uint64_t stream_seed(std::uint64_t seed, std::uint64_t stream) {
  return SplitMix64(seed ^ (0xD1B54A32D192ED03ULL * (stream + 1))).next();
}

// Summed in double, in index order: the same gradient always gives the same norm.
template <class T>
double l2_norm(const T* values, std::int64_t n) {
  double sum = 0.0;
  for (std::int64_t i = 0; i < n; ++i) sum += static_cast<double>(values[i]) * values[i];
  return std::sqrt(sum);
}
double l2_norm(const TensorView& t) {
  return t.dtype() == DType::f32 ? l2_norm(t.data<float>(), t.numel())
                                 : l2_norm(t.data<double>(), t.numel());
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
  if (o.probe_every < 0 || o.probe_examples < 1) {
    fail("probe_every = " + std::to_string(o.probe_every) +
         " and probe_examples = " + std::to_string(o.probe_examples) +
         "; use probe_every >= 0 (0: no probes) and "
         "probe_examples >= 1");
  }
}

}  // namespace

struct Trainer::EvalHead {
  std::int64_t rows = 0;
  Tensor features, labels;
  Expr x, y, logits, loss;
  Plan* plan = nullptr;
};

Trainer::Trainer(const data::Dataset& train, const data::Dataset& test, const TrainOptions& options,
                 const data::Dataset* validation)
    : train_(&train), test_(&test), validation_(validation), options_(options) {
  data::check_dataset(train);
  data::check_dataset(test);
  if (validation != nullptr) data::check_dataset(*validation);
  check_options(options, train);
  std::int64_t classes = std::max(train.num_classes, test.num_classes);
  for (const data::Dataset* d : {&test, validation}) {
    if (d != nullptr && d->num_features() != train.num_features()) {
      throw Error("dataset '" + d->name + "' has " + std::to_string(d->num_features()) +
                  " features but the training set '" + train.name + "' has " +
                  std::to_string(train.num_features()) + "; evaluate on data of the same kind");
    }
    if (d != nullptr) classes = std::max(classes, d->num_classes);
  }

  MlpOptions mlp{.activation = options.activation, .init = options.init, .dtype = DType::f32};
  mlp.sizes.push_back(train.num_features());
  mlp.sizes.insert(mlp.sizes.end(), options.hidden.begin(), options.hidden.end());
  mlp.sizes.push_back(classes);
  SplitMix64 init_random(stream_seed(options.seed, 0));
  model_ = std::make_unique<Mlp>(graph_, mlp, init_random);

  x_ = graph_.input("x", Shape{options.batch_size, train.num_features()}, DType::f32);
  labels_ = graph_.input("labels", Shape{options.batch_size}, DType::f32);
  logits_ = (*model_)(x_);
  loss_ = graph_.set_name(cross_entropy(logits_, labels_), "loss");

  for (const data::Dataset* d : {&test, validation}) {
    if (d == nullptr || d->size() == 0) continue;
    const std::int64_t rows = std::min(options.eval_batch_size, d->size());
    eval_head(rows);
    if (d->size() % rows != 0) eval_head(d->size() % rows);
  }

  if (options.probe_every > 0) {
    const data::Dataset sample =
        data::sample(train, options.probe_examples, stream_seed(options.seed, 2));
    probe_features_ = sample.features;
    probe_x_ = graph_.input("probe_x", probe_features_.shape(), DType::f32);
    probe_nodes_ = model_->apply(probe_x_);
  }
}

Trainer::~Trainer() = default;

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
  head->y = graph_.input("eval_labels_" + std::to_string(rows), Shape{rows}, DType::f32);
  head->logits = (*model_)(head->x);
  head->loss = cross_entropy(head->logits, head->y);
  head->plan = &graph_.plan_for({head->logits, head->loss});
  eval_heads_.push_back(std::move(head));
  return *eval_heads_.back();
}

Evaluation Trainer::evaluate(const data::Dataset& dataset) {
  const std::int64_t n = dataset.size();
  if (n == 0) return {};
  const std::int64_t rows = std::min(options_.eval_batch_size, n);
  double loss_sum = 0.0;
  std::int64_t correct = 0;
  for (std::int64_t first = 0; first < n; first += rows) {
    EvalHead& head = eval_head(std::min(rows, n - first));
    data::copy_rows(dataset, first, head.rows, head.features, head.labels);
    graph_.run_plan(*head.plan, {{head.x, head.features}, {head.y, head.labels}});
    loss_sum += head.loss.item() * static_cast<double>(head.rows);
    correct += count_correct(head.logits.value(), head.labels);
  }
  return {loss_sum / static_cast<double>(n), static_cast<double>(correct) / static_cast<double>(n)};
}

ProbeRecord Trainer::probe(std::int64_t step, double epoch, double train_loss,
                           const std::vector<double>& gradient_norm_sums, std::int64_t steps) {
  ProbeRecord record;
  record.step = step;
  record.epoch = epoch;
  record.train_loss = train_loss;
  for (const double sum : gradient_norm_sums)
    record.gradient_norm.push_back(sum / static_cast<double>(std::max<std::int64_t>(steps, 1)));
  if (probe_nodes_.hidden.empty()) return record;

  std::vector<Expr> outputs;
  for (const DenseNodes& layer : probe_nodes_.hidden) {
    outputs.push_back(layer.pre_activation);
    outputs.push_back(layer.output);
  }
  graph_.run_plan(graph_.plan_for(outputs), {{probe_x_, probe_features_}});
  const Activation& activation = model_->activation();
  for (const DenseNodes& layer : probe_nodes_.hidden) {
    const TensorView z = layer.pre_activation.value(), a = layer.output.value();
    const std::int64_t examples = z.shape()[0], units = z.shape()[1];
    std::int64_t dead = 0;
    for (std::int64_t j = 0; j < units; ++j) {
      bool active = false;
      for (std::int64_t i = 0; i < examples && !active; ++i) active = z.at(i * units + j) > 0.0;
      if (!active) ++dead;
    }
    record.dead_fraction.push_back(static_cast<double>(dead) / static_cast<double>(units));
    if (activation.derivative_from_output != nullptr) {
      const double flat = 0.1 * activation.peak_derivative;
      std::int64_t saturated = 0;
      for (std::int64_t k = 0; k < a.numel(); ++k) {
        if (activation.derivative_from_output(a.at(k)) < flat) ++saturated;
      }
      record.saturated_fraction.push_back(static_cast<double>(saturated) /
                                          static_cast<double>(a.numel()));
    }
  }
  return record;
}

TrainHistory Trainer::fit(const TrainCallbacks& callbacks) {
  const auto fit_start = Clock::now();
  const TrainOptions& o = options_;
  data::MiniBatches batches(*train_, o.batch_size, stream_seed(o.seed, 1));
  std::unique_ptr<Optimizer> optimizer =
      make_optimizer(o.optimizer, model_->parameters(), o.optimizer_settings);
  const LrSchedule schedule = make_schedule(o.schedule, {.base = o.optimizer_settings.learning_rate,
                                                         .epochs = o.epochs,
                                                         .step_epochs = o.step_epochs,
                                                         .gamma = o.gamma});
  const std::vector<Feed> feeds{{x_, batches.features()}, {labels_, batches.labels()}};
  const std::vector<Expr> weights = model_->weights();
  const bool probing = o.probe_every > 0;

  TrainHistory history;
  std::int64_t global_step = 0, window_steps = 0;
  double window_loss = 0.0;
  std::vector<double> window_norms(weights.size(), 0.0);
  // The accuracy is read from the logits the backward run leaves behind.
  BackwardOptions keep_logits;
  keep_logits.keep = {logits_};
  for (int epoch = 0; epoch < o.epochs; ++epoch) {
    const auto epoch_start = Clock::now();
    EpochRecord record;
    record.epoch = epoch + 1;
    record.learning_rate = schedule.at(epoch);
    optimizer->set_learning_rate(record.learning_rate);
    batches.start_epoch(epoch);
    double loss_sum = 0.0;
    std::int64_t correct = 0, step = 0;
    while (batches.next()) {
      graph_.backward(loss_, feeds, keep_logits);
      const double loss = loss_.item();
      if (!std::isfinite(loss)) {
        throw Error("training diverged: the loss is " + std::to_string(loss) + " at epoch " +
                    std::to_string(epoch + 1) + ", step " + std::to_string(step + 1) +
                    " (activation " + o.activation + ", optimizer " + o.optimizer +
                    ", learning rate " + std::to_string(record.learning_rate) +
                    "); lower the learning rate");
      }
      loss_sum += loss;
      correct += count_correct(logits_.value(), batches.labels());
      ++step;
      ++global_step;
      if (probing) {
        for (std::size_t l = 0; l < weights.size(); ++l)
          window_norms[l] += l2_norm(weights[l].grad());
        window_loss += loss;
        ++window_steps;
      }
      optimizer->step();
      if (probing && global_step % o.probe_every == 0) {
        history.probes.push_back(probe(
            global_step,
            static_cast<double>(global_step) / static_cast<double>(batches.batches_per_epoch()),
            window_loss / static_cast<double>(window_steps), window_norms, window_steps));
        std::fill(window_norms.begin(), window_norms.end(), 0.0);
        window_loss = 0.0;
        window_steps = 0;
      }
      if (callbacks.on_step) {
        callbacks.on_step({.epoch = epoch + 1,
                           .epochs = o.epochs,
                           .step = step,
                           .steps_per_epoch = batches.batches_per_epoch(),
                           .batch_size = o.batch_size,
                           .mean_loss = loss_sum / static_cast<double>(step)});
      }
    }
    record.train_loss = loss_sum / static_cast<double>(step);
    record.train_accuracy = static_cast<double>(correct) / static_cast<double>(step * o.batch_size);
    if (validation_ != nullptr) record.validation = evaluate(*validation_);
    record.test = evaluate(*test_);
    record.seconds = seconds_since(epoch_start);
    history.epochs.push_back(record);
    if (callbacks.on_epoch) callbacks.on_epoch(record);
  }
  history.seconds = seconds_since(fit_start);
  return history;
}

}  // namespace dagprop::nn
