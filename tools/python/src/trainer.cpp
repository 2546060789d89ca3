// The trainer from Python: nn::Trainer over numpy datasets, fit() with progress lines, per-step and
// per-epoch callbacks and Ctrl-C between training steps (the trainer's stop flag, as `dagprop
// train` stops at SIGINT); evaluate() on any set of the same kind.
#include <exception>
#include <memory>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include <dagprop/data/dataset.hpp>
#include <dagprop/nn/trainer.hpp>

#include "common.hpp"
#include "interrupt.hpp"

namespace dagprop::python {
namespace {

// A set of the trainer's: labels counted against the training set's classes (or `num_classes`).
data::Dataset trainer_set(py::handle set, const std::string& name, std::int64_t num_classes,
                          const std::vector<std::int64_t>& example_shape) {
  data::Dataset d = dataset_from_python(set, name);
  if (num_classes > 0) d.num_classes = num_classes;
  d.example_shape = example_shape;
  data::check_dataset(d);
  return d;
}

// What a Trainer needs to live: its datasets (the trainer holds pointers to them) and itself.
struct TrainerState {
  data::Dataset train, test;
  std::optional<data::Dataset> validation;
  std::unique_ptr<nn::Trainer> trainer;
};

struct PyTrainer {
  std::shared_ptr<TrainerState> state;
  GraphPtr graph;  // the trainer's graph, keeping the state alive
};

py::dict evaluation_dict(const nn::Evaluation& e) {
  py::dict d;
  d["loss"] = e.loss;
  d["accuracy"] = e.accuracy;
  return d;
}

py::dict epoch_dict(const nn::EpochRecord& r) {
  py::dict d;
  d["epoch"] = r.epoch;
  d["learning_rate"] = r.learning_rate;
  d["train_loss"] = r.train_loss;
  d["train_accuracy"] = r.train_accuracy;
  d["validation"] = r.validation ? py::object(evaluation_dict(*r.validation)) : py::none();
  d["test"] = evaluation_dict(r.test);
  d["seconds"] = r.seconds;
  return d;
}

py::dict step_dict(const nn::StepReport& r) {
  py::dict d;
  d["epoch"] = r.epoch;
  d["epochs"] = r.epochs;
  d["step"] = r.step;
  d["steps_per_epoch"] = r.steps_per_epoch;
  d["global_step"] = r.global_step;
  d["batch_size"] = r.batch_size;
  d["mean_loss"] = r.mean_loss;
  d["loss"] = r.loss;
  return d;
}

std::string progress_line(const nn::EpochRecord& r, int epochs) {
  char line[256];
  std::snprintf(line, sizeof line,
                "epoch %d/%d  lr %.3g  train loss %.4f acc %.4f  test loss %.4f acc %.4f  (%.1f s)",
                r.epoch, epochs, r.learning_rate, r.train_loss, r.train_accuracy, r.test.loss,
                r.test.accuracy, r.seconds);
  return line;
}

py::dict fit(PyTrainer& t, bool progress, const py::object& on_step, const py::object& on_epoch) {
  t.graph->get();
  nn::Trainer& trainer = *t.state->trainer;
  // A callback's exception stops fit() after that step and is raised once the GIL is back.
  std::exception_ptr callback_failure;
  auto call = [&](const py::object& f, auto&& make_arg) {
    const py::gil_scoped_acquire gil;
    try {
      f(make_arg());
    } catch (py::error_already_set&) {
      callback_failure = std::current_exception();
    }
  };
  nn::TrainCallbacks callbacks;
  if (!on_step.is_none()) {
    callbacks.on_step = [&](const nn::StepReport& r) {
      if (!callback_failure) call(on_step, [&] { return step_dict(r); });
    };
  }
  const int epochs = trainer.options().epochs;
  if (progress || !on_epoch.is_none()) {
    callbacks.on_epoch = [&](const nn::EpochRecord& r) {
      if (callback_failure) return;
      const py::gil_scoped_acquire gil;  // for the print function's lookup below
      if (progress) {
        call(py::module_::import("builtins").attr("print"),
             [&] { return progress_line(r, epochs); });
      }
      if (!on_epoch.is_none() && !callback_failure) call(on_epoch, [&] { return epoch_dict(r); });
    };
  }
  // Polled between training steps: a step is never cut in half, so fit() continues where it
  // stopped and gives the same bits as a run that was never stopped.
  callbacks.stop_requested = [&] { return SigintWatch::received() || callback_failure != nullptr; };

  SigintWatch watch;
  nn::TrainHistory history;
  std::exception_ptr failure;
  {
    BusyGraph busy(*t.graph);
    py::gil_scoped_release release;
    try {
      history = trainer.fit(callbacks);
    } catch (...) {
      failure = std::current_exception();
    }
  }
  watch.finish();  // KeyboardInterrupt after a Ctrl-C
  if (callback_failure) std::rethrow_exception(callback_failure);
  if (failure) std::rethrow_exception(failure);
  py::dict out;
  py::list records;
  for (const nn::EpochRecord& r : history.epochs) records.append(epoch_dict(r));
  out["epochs"] = records;
  out["seconds"] = history.seconds;
  out["complete"] = history.complete;
  return out;
}

}  // namespace

void bind_trainer(py::module_& nn_module) {
  py::class_<PyTrainer>(nn_module, "Trainer",
                        "Mini-batch training of a classifier (an Mlp, or a Sequential spec) with "
                        "cross-entropy, an optimizer and a schedule, as `dagprop train` does.")
      .def(
          py::init([](py::handle train, py::handle test, py::handle validation,
                      const std::string& model, std::vector<std::int64_t> hidden,
                      const std::string& activation, const std::string& init,
                      const std::string& optimizer, double lr, double momentum, double weight_decay,
                      const std::string& schedule, std::int64_t step_epochs, double gamma,
                      int epochs, std::int64_t batch_size, std::int64_t eval_batch_size,
                      std::uint64_t seed, std::int64_t num_classes,
                      std::vector<std::int64_t> example_shape) {
            auto state = std::make_shared<TrainerState>();
            state->train = trainer_set(train, "train", num_classes, example_shape);
            const std::int64_t classes = state->train.num_classes;
            state->test = trainer_set(test, "test", classes, example_shape);
            if (!validation.is_none())
              state->validation = trainer_set(validation, "validation", classes, example_shape);
            nn::TrainOptions o;
            o.model = model;
            o.hidden = std::move(hidden);
            o.activation = activation;
            o.init = init;
            o.optimizer = optimizer;
            o.optimizer_settings = {lr, momentum, weight_decay};
            o.schedule = schedule;
            o.step_epochs = step_epochs;
            o.gamma = gamma;
            o.epochs = epochs;
            o.batch_size = batch_size;
            o.eval_batch_size = eval_batch_size;
            o.seed = seed;
            state->trainer = std::make_unique<nn::Trainer>(
                state->train, state->test, o, state->validation ? &*state->validation : nullptr);
            Graph& graph = state->trainer->graph();
            auto py_graph = std::make_shared<PyGraph>(graph, state);
            return PyTrainer{std::move(state), std::move(py_graph)};
          }),
          py::arg("train"), py::arg("test"), py::arg("validation") = py::none(),
          py::arg("model") = "", py::arg("hidden") = std::vector<std::int64_t>{256, 128},
          py::arg("activation") = "relu", py::arg("init") = "auto", py::arg("optimizer") = "adam",
          py::arg("lr") = 1e-3, py::arg("momentum") = 0.9, py::arg("weight_decay") = 0.0,
          py::arg("schedule") = "constant", py::arg("step_epochs") = 5, py::arg("gamma") = 0.1,
          py::arg("epochs") = 10, py::arg("batch_size") = 128, py::arg("eval_batch_size") = 1000,
          py::arg("seed") = 1, py::arg("num_classes") = 0,
          py::arg("example_shape") = std::vector<std::int64_t>{},
          "train, test, validation: (features [n, d], labels [n]) numpy arrays, copied as float32. "
          "model: a Sequential spec (empty: an Mlp of `hidden` and `activation`); example_shape: "
          "one example's shape for image specs ((28, 28) for Fashion-MNIST).")
      .def("fit", &fit, py::arg("progress") = false, py::arg("on_step") = py::none(),
           py::arg("on_epoch") = py::none(),
           "Trains to the last epoch from where the trainer stands; returns {'epochs': [record per "
           "epoch], 'seconds', 'complete'}. progress=True prints a line per epoch; on_step(dict) "
           "after each step, on_epoch(record) after each epoch (they must not use the graph). "
           "Ctrl-C stops it between steps with KeyboardInterrupt; fit() again goes on from there, "
           "with the same bits as an uninterrupted run. The GIL is released while it trains.")
      .def(
          "evaluate",
          [](PyTrainer& t, py::handle set) {
            t.graph->get();
            const data::Dataset d = trainer_set(set, "evaluate", t.state->train.num_classes,
                                                t.state->train.example_shape);
            nn::Evaluation e;
            run_interruptibly([&] {
              BusyGraph busy(*t.graph);
              e = t.state->trainer->evaluate(d);
            });
            return evaluation_dict(e);
          },
          py::arg("data"), "{'loss', 'accuracy'} over (features, labels), every example counted.")
      .def_property_readonly("graph", [](const PyTrainer& t) { return t.graph; })
      .def_property_readonly(
          "loss", [](const PyTrainer& t) { return wrap(t.graph, t.state->trainer->loss()); })
      .def_property_readonly("parameters", [](const PyTrainer& t) {
        std::vector<PyExpr> out;
        for (const Expr& e : t.state->trainer->parameters()) out.push_back(wrap(t.graph, e));
        return out;
      });
}

}  // namespace dagprop::python
