// nn layers from Python: thin bindings of the C++ layers (nn/layers.hpp, nn/sequential.hpp), the
// seeded random source they draw their weights from, and the learning-rate schedules. A layer
// holds its graph alive; applying it to an expression adds nodes to that graph, as in C++.
#include <array>
#include <memory>
#include <string>
#include <utility>
#include <vector>

#include <dagprop/nn/activation.hpp>
#include <dagprop/nn/layers.hpp>
#include <dagprop/nn/optim.hpp>
#include <dagprop/nn/schedule.hpp>
#include <dagprop/nn/sequential.hpp>

#include "common.hpp"

namespace dagprop::python {
namespace {

// A seeded SplitMix64 that layers draw their initial weights from, in the order they are built:
// the same seed and the same layers give the same bits as in C++.
struct PyRandom {
  SplitMix64 random;
};

// A layer of a Python graph: the C++ layer (shared where it has state that Python may change, so
// that copies of the handle see one layer) and the graph it builds in.
template <class Layer>
struct PyLayer {
  GraphPtr owner;
  Layer layer;
};

// `random`: a dagprop.nn.Random (advanced by the layer, for models of several layers) or an int
// seed (a fresh generator).
template <class Make>
auto with_random(py::handle random, Make&& make) {
  if (py::isinstance<PyRandom>(random)) return make(random.cast<PyRandom&>().random);
  SplitMix64 fresh(random.cast<std::uint64_t>());
  return make(fresh);
}

DType dtype_or_f32(py::handle dtype) {
  return dtype.is_none() ? DType::f32 : dtype_from_python(dtype);
}

nn::Mode mode_from_python(const std::string& mode) {
  if (mode == "train") return nn::Mode::train;
  if (mode == "eval") return nn::Mode::eval;
  throw Error("mode '" + mode + "': use \"train\" or \"eval\"");
}
std::string mode_to_python(nn::Mode mode) {
  return mode == nn::Mode::train ? "train" : "eval";
}

// An int or two ints (height, width).
std::array<std::int64_t, 2> pair_from_python(py::handle value, const char* what) {
  if (py::isinstance<py::int_>(value)) {
    const auto n = value.cast<std::int64_t>();
    return {n, n};
  }
  const auto v = value.cast<std::vector<std::int64_t>>();
  if (v.size() != 2) {
    throw Error(std::string(what) + " takes an int or two ints (height, width); got " +
                std::to_string(v.size()) + " values");
  }
  return {v[0], v[1]};
}

// The graph to build in, refusing while another thread runs it.
Graph& graph_of(const GraphPtr& graph) {
  return graph->get();
}

// The expression a layer is applied to must be of the layer's graph.
Expr checked_input(const GraphPtr& owner, const PyExpr& x, const char* layer) {
  if (x.owner != owner) {
    throw Error(std::string(layer) + ": " + x.owner->graph.describe(x.expr.id()) +
                " belongs to another Graph than the layer's parameters");
  }
  owner->get();
  return x.expr;
}

std::vector<PyExpr> wrap_all(const GraphPtr& owner, const std::vector<Expr>& exprs) {
  std::vector<PyExpr> out;
  out.reserve(exprs.size());
  for (const Expr& e : exprs) out.push_back(wrap(owner, e));
  return out;
}

Pool2dOptions pool_options(py::handle kernel, py::handle stride, py::handle padding) {
  Pool2dOptions options;
  options.kernel = pair_from_python(kernel, "kernel");
  options.stride = stride.is_none() ? options.kernel : pair_from_python(stride, "stride");
  options.padding = pair_from_python(padding, "padding");
  return options;
}

// A parameterless layer applied to an expression of any graph.
template <class Layer>
PyExpr apply_free(const Layer& layer, const PyExpr& x) {
  x.owner->get();
  return wrap(x.owner, layer(x.expr));
}

using PyLinear = PyLayer<nn::Linear>;
using PyDense = PyLayer<nn::Dense>;
using PyMlp = PyLayer<std::shared_ptr<nn::Mlp>>;
using PyConv2d = PyLayer<nn::Conv2d>;
using PyBatchNorm = PyLayer<std::shared_ptr<nn::BatchNorm>>;
using PyLayerNorm = PyLayer<nn::LayerNorm>;
using PyDropout = PyLayer<std::shared_ptr<nn::Dropout>>;
using PyEmbedding = PyLayer<nn::Embedding>;
using PySequential = PyLayer<std::shared_ptr<nn::Sequential>>;

void bind_dense_layers(py::module_& m) {
  py::class_<PyLinear>(m, "Linear",
                       "x @ W + b: parameters <scope>/W [in, out] and <scope>/b [out].")
      .def(py::init([](const GraphPtr& g, const std::string& scope, std::int64_t in,
                       std::int64_t out, const std::string& init, py::handle random,
                       py::handle dtype) {
             return with_random(random, [&](SplitMix64& r) {
               return PyLinear{g, nn::Linear(graph_of(g), scope, in, out, nn::init_by_name(init), r,
                                             dtype_or_f32(dtype))};
             });
           }),
           py::arg("graph"), py::arg("scope"), py::arg("in_features"), py::arg("out_features"),
           py::arg("init") = "glorot_uniform", py::arg("random") = 0, py::arg("dtype") = py::none())
      .def("__call__",
           [](const PyLinear& l, const PyExpr& x) {
             return wrap(l.owner, l.layer(checked_input(l.owner, x, "Linear")));
           })
      .def_property_readonly("weight",
                             [](const PyLinear& l) { return wrap(l.owner, l.layer.weight()); })
      .def_property_readonly("bias",
                             [](const PyLinear& l) { return wrap(l.owner, l.layer.bias()); })
      .def_property_readonly("in_features", [](const PyLinear& l) { return l.layer.in_features(); })
      .def_property_readonly("out_features",
                             [](const PyLinear& l) { return l.layer.out_features(); })
      .def_property_readonly("scope", [](const PyLinear& l) { return l.layer.scope(); })
      .def_property_readonly("parameters", [](const PyLinear& l) {
        return wrap_all(l.owner, {l.layer.weight(), l.layer.bias()});
      });

  py::class_<PyDense>(m, "Dense",
                      "activation(x @ W + b); the initializer suits the activation (He for "
                      "ReLU-like units, Glorot for the saturating ones).")
      .def(py::init([](const GraphPtr& g, const std::string& scope, std::int64_t in,
                       std::int64_t out, const std::string& activation, py::handle random,
                       py::handle dtype) {
             return with_random(random, [&](SplitMix64& r) {
               return PyDense{
                   g, nn::Dense(graph_of(g), scope, in, out, nn::activation_by_name(activation), r,
                                dtype_or_f32(dtype))};
             });
           }),
           py::arg("graph"), py::arg("scope"), py::arg("in_features"), py::arg("out_features"),
           py::arg("activation") = "relu", py::arg("random") = 0, py::arg("dtype") = py::none())
      .def("__call__",
           [](const PyDense& d, const PyExpr& x) {
             return wrap(d.owner, d.layer(checked_input(d.owner, x, "Dense")));
           })
      .def(
          "apply",
          [](const PyDense& d, const PyExpr& x) {
            const nn::DenseNodes nodes = d.layer.apply(checked_input(d.owner, x, "Dense"));
            return py::make_tuple(wrap(d.owner, nodes.pre_activation), wrap(d.owner, nodes.output));
          },
          "(pre_activation, output)")
      .def_property_readonly(
          "weight", [](const PyDense& d) { return wrap(d.owner, d.layer.linear().weight()); })
      .def_property_readonly(
          "bias", [](const PyDense& d) { return wrap(d.owner, d.layer.linear().bias()); })
      .def_property_readonly(
          "activation", [](const PyDense& d) { return std::string(d.layer.activation().name); })
      .def_property_readonly("parameters", [](const PyDense& d) {
        return wrap_all(d.owner, {d.layer.linear().weight(), d.layer.linear().bias()});
      });

  py::class_<PyMlp>(m, "Mlp",
                    "Dense hidden layers (scopes layer1, layer2, ...) and a Linear output layer "
                    "(logits), as dagprop train builds it.")
      .def(py::init([](const GraphPtr& g, std::vector<std::int64_t> sizes,
                       const std::string& activation, const std::string& init, py::handle random,
                       py::handle dtype) {
             nn::MlpOptions options;
             options.sizes = std::move(sizes);
             options.activation = activation;
             options.init = init;
             options.dtype = dtype_or_f32(dtype);
             return with_random(random, [&](SplitMix64& r) {
               return PyMlp{g, std::make_shared<nn::Mlp>(graph_of(g), options, r)};
             });
           }),
           py::arg("graph"), py::arg("sizes"), py::arg("activation") = "relu",
           py::arg("init") = "auto", py::arg("random") = 0, py::arg("dtype") = py::none())
      .def("__call__",
           [](const PyMlp& n, const PyExpr& x) {
             return wrap(n.owner, (*n.layer)(checked_input(n.owner, x, "Mlp")));
           })
      .def(
          "apply",
          [](const PyMlp& n, const PyExpr& x) {
            const nn::MlpNodes nodes = n.layer->apply(checked_input(n.owner, x, "Mlp"));
            py::list hidden;
            for (const nn::DenseNodes& h : nodes.hidden)
              hidden.append(
                  py::make_tuple(wrap(n.owner, h.pre_activation), wrap(n.owner, h.output)));
            return py::make_tuple(wrap(n.owner, nodes.output), hidden);
          },
          "(output, [(pre_activation, output) per hidden layer])")
      .def_property_readonly(
          "parameters", [](const PyMlp& n) { return wrap_all(n.owner, n.layer->parameters()); })
      .def_property_readonly("weights",
                             [](const PyMlp& n) { return wrap_all(n.owner, n.layer->weights()); })
      .def_property_readonly("num_layers", [](const PyMlp& n) { return n.layer->num_layers(); });

  py::class_<PyEmbedding>(m, "Embedding",
                          "A table <scope>/weight [num_embeddings, dim] from N(0, 1), indexed by "
                          "whole numbers stored in the table's dtype.")
      .def(py::init([](const GraphPtr& g, const std::string& scope, std::int64_t num,
                       std::int64_t dim, py::handle random, py::handle dtype) {
             return with_random(random, [&](SplitMix64& r) {
               return PyEmbedding{
                   g, nn::Embedding(graph_of(g), scope, num, dim, r, dtype_or_f32(dtype))};
             });
           }),
           py::arg("graph"), py::arg("scope"), py::arg("num_embeddings"), py::arg("dim"),
           py::arg("random") = 0, py::arg("dtype") = py::none())
      .def("__call__",
           [](const PyEmbedding& e, const PyExpr& indices) {
             return wrap(e.owner, e.layer(checked_input(e.owner, indices, "Embedding")));
           })
      .def_property_readonly("weight",
                             [](const PyEmbedding& e) { return wrap(e.owner, e.layer.weight()); });
}

void bind_image_layers(py::module_& m) {
  py::class_<PyConv2d>(m, "Conv2d",
                       "conv2d(x, W, b) on [N, C, H, W]: <scope>/W [out, in / groups, kh, kw] and "
                       "<scope>/b [out], PyTorch's default initialization.")
      .def(py::init([](const GraphPtr& g, const std::string& scope, std::int64_t in,
                       std::int64_t out, py::handle kernel, py::handle random, py::handle stride,
                       py::handle padding, py::handle dilation, std::int64_t groups, bool bias,
                       py::handle dtype) {
             Conv2dOptions options;
             options.stride = pair_from_python(stride, "stride");
             options.padding = pair_from_python(padding, "padding");
             options.dilation = pair_from_python(dilation, "dilation");
             options.groups = groups;
             return with_random(random, [&](SplitMix64& r) {
               return PyConv2d{
                   g, nn::Conv2d(graph_of(g), scope, in, out, pair_from_python(kernel, "kernel"), r,
                                 options, bias, dtype_or_f32(dtype))};
             });
           }),
           py::arg("graph"), py::arg("scope"), py::arg("in_channels"), py::arg("out_channels"),
           py::arg("kernel"), py::arg("random") = 0, py::arg("stride") = 1, py::arg("padding") = 0,
           py::arg("dilation") = 1, py::arg("groups") = 1, py::arg("bias") = true,
           py::arg("dtype") = py::none())
      .def("__call__",
           [](const PyConv2d& c, const PyExpr& x) {
             return wrap(c.owner, c.layer(checked_input(c.owner, x, "Conv2d")));
           })
      .def_property_readonly("weight",
                             [](const PyConv2d& c) { return wrap(c.owner, c.layer.weight()); })
      .def_property_readonly("bias", [](const PyConv2d& c) -> py::object {
        if (!c.layer.bias().valid()) return py::none();
        return py::cast(wrap(c.owner, c.layer.bias()));
      });

  py::class_<nn::MaxPool2d>(m, "MaxPool2d",
                            "Max over windows of [N, C, H, W]; stride defaults to the kernel.")
      .def(py::init([](py::handle kernel, py::handle stride, py::handle padding) {
             return nn::MaxPool2d(pool_options(kernel, stride, padding));
           }),
           py::arg("kernel") = 2, py::arg("stride") = py::none(), py::arg("padding") = 0)
      .def("__call__", &apply_free<nn::MaxPool2d>);
  py::class_<nn::AvgPool2d>(m, "AvgPool2d",
                            "Mean over windows of [N, C, H, W]; stride defaults to the kernel.")
      .def(py::init([](py::handle kernel, py::handle stride, py::handle padding) {
             return nn::AvgPool2d(pool_options(kernel, stride, padding));
           }),
           py::arg("kernel") = 2, py::arg("stride") = py::none(), py::arg("padding") = 0)
      .def("__call__", &apply_free<nn::AvgPool2d>);
  py::class_<nn::Flatten>(m, "Flatten", "[N, C, H, W] -> [N, C * H * W] (from start_axis on).")
      .def(py::init<int>(), py::arg("start_axis") = 1)
      .def("__call__", &apply_free<nn::Flatten>);
}

void bind_normalization_layers(py::module_& m) {
  py::class_<PyBatchNorm>(m, "BatchNorm",
                          "Batch normalization over axis 1 ([N, C, H, W] or [N, C]): batch "
                          "statistics in mode 'train', running statistics in mode 'eval'.")
      .def(py::init([](const GraphPtr& g, const std::string& scope, std::int64_t channels,
                       py::handle dtype, double momentum, double eps) {
             return PyBatchNorm{
                 g, std::make_shared<nn::BatchNorm>(graph_of(g), scope, channels,
                                                    dtype_or_f32(dtype), momentum, eps)};
           }),
           py::arg("graph"), py::arg("scope"), py::arg("channels"), py::arg("dtype") = py::none(),
           py::arg("momentum") = 0.1, py::arg("eps") = 1e-5)
      .def("__call__",
           [](const PyBatchNorm& b, const PyExpr& x) {
             return wrap(b.owner, (*b.layer)(checked_input(b.owner, x, "BatchNorm")));
           })
      .def(
          "apply",
          [](const PyBatchNorm& b, const PyExpr& x, const std::string& mode) {
            return wrap(b.owner, b.layer->apply(checked_input(b.owner, x, "BatchNorm"),
                                                mode_from_python(mode)));
          },
          py::arg("x"), py::arg("mode"))
      .def_property(
          "mode", [](const PyBatchNorm& b) { return mode_to_python(b.layer->mode()); },
          [](const PyBatchNorm& b, const std::string& mode) {
            b.layer->set_mode(mode_from_python(mode));
          },
          "What calling the layer builds from now on: 'train' or 'eval'.")
      .def_property_readonly(
          "batch_statistics",
          [](const PyBatchNorm& b) { return wrap(b.owner, b.layer->batch_statistics()); })
      .def(
          "update_running_statistics",
          [](const PyBatchNorm& b) {
            b.owner->get();
            b.layer->update_running_statistics();
          },
          "After a training run that kept batch_statistics: moves the running moments towards it.")
      .def_property_readonly("gamma",
                             [](const PyBatchNorm& b) { return wrap(b.owner, b.layer->gamma()); })
      .def_property_readonly("beta",
                             [](const PyBatchNorm& b) { return wrap(b.owner, b.layer->beta()); })
      .def_property_readonly(
          "running_moments",
          [](const PyBatchNorm& b) { return wrap(b.owner, b.layer->running_moments()); })
      .def_property_readonly("parameters", [](const PyBatchNorm& b) {
        return wrap_all(b.owner, b.layer->parameters());
      });
  m.attr("BatchNorm2d") = m.attr("BatchNorm");
  m.attr("BatchNorm1d") = m.attr("BatchNorm");

  py::class_<PyLayerNorm>(m, "LayerNorm", "layer_norm over the last axis, with gamma and beta.")
      .def(py::init([](const GraphPtr& g, const std::string& scope, std::int64_t features,
                       py::handle dtype, double eps) {
             return PyLayerNorm{
                 g, nn::LayerNorm(graph_of(g), scope, features, dtype_or_f32(dtype), eps)};
           }),
           py::arg("graph"), py::arg("scope"), py::arg("features"), py::arg("dtype") = py::none(),
           py::arg("eps") = 1e-5)
      .def("__call__",
           [](const PyLayerNorm& l, const PyExpr& x) {
             return wrap(l.owner, l.layer(checked_input(l.owner, x, "LayerNorm")));
           })
      .def_property_readonly("parameters", [](const PyLayerNorm& l) {
        return wrap_all(l.owner, l.layer.parameters());
      });

  py::class_<PyDropout>(m, "Dropout",
                        "Dropout with probability p in mode 'train' (a new mask after each "
                        "advance()), the identity in mode 'eval'.")
      .def(py::init([](const GraphPtr& g, const std::string& scope, double p, py::handle random,
                       py::handle dtype) {
             return with_random(random, [&](SplitMix64& r) {
               return PyDropout{
                   g, std::make_shared<nn::Dropout>(graph_of(g), scope, p, r, dtype_or_f32(dtype))};
             });
           }),
           py::arg("graph"), py::arg("scope"), py::arg("p"), py::arg("random") = 0,
           py::arg("dtype") = py::none())
      .def("__call__",
           [](const PyDropout& d, const PyExpr& x) {
             return wrap(d.owner, (*d.layer)(checked_input(d.owner, x, "Dropout")));
           })
      .def(
          "apply",
          [](const PyDropout& d, const PyExpr& x, const std::string& mode) {
            return wrap(d.owner, d.layer->apply(checked_input(d.owner, x, "Dropout"),
                                                mode_from_python(mode)));
          },
          py::arg("x"), py::arg("mode"))
      .def_property(
          "mode", [](const PyDropout& d) { return mode_to_python(d.layer->mode()); },
          [](const PyDropout& d, const std::string& mode) {
            d.layer->set_mode(mode_from_python(mode));
          })
      .def(
          "advance",
          [](const PyDropout& d) {
            d.owner->get();
            d.layer->advance();
          },
          "Once per training step, before its run: the next step's mask.")
      .def_property_readonly("seed", [](const PyDropout& d) { return d.layer->seed(); });
}

void bind_sequential(py::module_& m) {
  py::class_<PySequential>(
      m, "Sequential",
      "A model from its text spec, as dagprop train --model takes it: "
      "\"conv 8 3 pad 1, relu, maxpool 2, flatten, dense 10\" (model_spec_help()).")
      .def(py::init([](const GraphPtr& g, const std::string& spec,
                       std::vector<std::int64_t> example_shape, py::handle random,
                       py::handle dtype) {
             return with_random(random, [&](SplitMix64& r) {
               return PySequential{
                   g, std::make_shared<nn::Sequential>(graph_of(g), spec, std::move(example_shape),
                                                       r, dtype_or_f32(dtype))};
             });
           }),
           py::arg("graph"), py::arg("spec"), py::arg("example_shape"), py::arg("random") = 0,
           py::arg("dtype") = py::none())
      .def(
          "__call__",
          [](const PySequential& s, const PyExpr& x, const std::string& mode) {
            return wrap(s.owner, s.layer->apply(checked_input(s.owner, x, "Sequential"),
                                                mode_from_python(mode)));
          },
          py::arg("x"), py::arg("mode") = "train",
          "The model applied to x [batch, example_shape...]: mode 'train' (batch statistics, "
          "dropout) or 'eval' (running statistics, no dropout). Parameters are shared.")
      .def_property_readonly(
          "parameters",
          [](const PySequential& s) { return wrap_all(s.owner, s.layer->parameters()); })
      .def_property_readonly(
          "weights", [](const PySequential& s) { return wrap_all(s.owner, s.layer->weights()); })
      .def_property_readonly(
          "batch_statistics",
          [](const PySequential& s) { return wrap_all(s.owner, s.layer->batch_statistics()); })
      .def_property_readonly(
          "state", [](const PySequential& s) { return wrap_all(s.owner, s.layer->state()); })
      .def(
          "end_training_step",
          [](const PySequential& s) {
            s.owner->get();
            s.layer->end_training_step();
          },
          "After a training step's run (that kept batch_statistics): running statistics move, "
          "dropout masks advance.")
      .def_property_readonly("output_shape",
                             [](const PySequential& s) { return s.layer->output_shape(); })
      .def_property_readonly("parameter_count",
                             [](const PySequential& s) { return s.layer->parameter_count(); })
      .def_property_readonly("layers",
                             [](const PySequential& s) {
                               std::vector<std::string> texts;
                               for (const nn::LayerSpec& l : s.layer->layers())
                                 texts.push_back(l.text);
                               return texts;
                             })
      .def("summary", [](const PySequential& s) { return s.layer->summary(); });
}

std::vector<std::string> names(std::span<const std::string_view> list) {
  return {list.begin(), list.end()};
}

void bind_schedules(py::module_& m) {
  py::class_<nn::LrSchedule>(m, "LrSchedule", "A learning rate per epoch (0-based): at(epoch).")
      .def_static("constant", &nn::LrSchedule::constant, py::arg("base"))
      .def_static("step", &nn::LrSchedule::step, py::arg("base"), py::arg("step_epochs"),
                  py::arg("gamma"), "base * gamma^(epoch // step_epochs)")
      .def_static("cosine", &nn::LrSchedule::cosine, py::arg("base"), py::arg("total_epochs"),
                  py::arg("minimum") = 0.0,
                  "half a cosine from base at 0 to minimum at total_epochs")
      .def("at", &nn::LrSchedule::at, py::arg("epoch"))
      .def("__call__", &nn::LrSchedule::at, py::arg("epoch"));
  m.def(
      "schedule",
      [](const std::string& name, double base, std::int64_t epochs, std::int64_t step_epochs,
         double gamma) {
        return nn::make_schedule(name, nn::ScheduleSettings{base, epochs, step_epochs, gamma});
      },
      py::arg("name"), py::arg("base") = 1e-3, py::arg("epochs") = 10, py::arg("step_epochs") = 5,
      py::arg("gamma") = 0.1, "A schedule by name: constant, step or cosine.");
  m.def("init_names", [] { return names(nn::init_names()); });
  m.def("activation_names", [] { return names(nn::activation_names()); });
  m.def("schedule_names", [] { return names(nn::schedule_names()); });
  m.def("optimizer_names", [] { return names(nn::optimizer_names()); });
  m.def("model_spec_help", &nn::model_spec_help, "The layer kinds of a Sequential spec.");
}

}  // namespace

void bind_layers(py::module_& nn_module) {
  py::class_<PyRandom>(nn_module, "Random",
                       "A seeded SplitMix64 that layers draw their weights from, in build order.")
      .def(py::init([](std::uint64_t seed) { return PyRandom{SplitMix64(seed)}; }),
           py::arg("seed"));
  bind_dense_layers(nn_module);
  bind_image_layers(nn_module);
  bind_normalization_layers(nn_module);
  bind_sequential(nn_module);
  bind_schedules(nn_module);
}

}  // namespace dagprop::python
