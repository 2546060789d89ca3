// nn from Python: the optimizers (SGD, Adam, AdamW) over a graph's parameters and the weight
// initializers.
#include <memory>
#include <string>

#include <dagprop/nn/init.hpp>
#include <dagprop/nn/optim.hpp>

#include "common.hpp"

namespace dagprop::python {
namespace {

// An optimizer holds the parameters' graph alive: it updates their values in place.
struct PyOptimizer {
  GraphPtr owner;
  std::unique_ptr<nn::Optimizer> optimizer;
};

const GraphPtr& graph_of_parameters(const std::vector<PyExpr>& parameters) {
  if (parameters.empty()) throw Error("an optimizer needs at least one parameter");
  for (const PyExpr& p : parameters) {
    if (p.owner != parameters[0].owner) {
      throw Error("the optimizer's parameters belong to different graphs: " +
                  p.owner->graph.describe(p.expr.id()) + " is not of the first one's graph");
    }
  }
  parameters[0].owner->get();
  return parameters[0].owner;
}

}  // namespace

void bind_nn(py::module_& m) {
  py::module_ nn_module = m.def_submodule("nn", "Optimizers and initializers");
  py::class_<PyOptimizer>(nn_module, "Optimizer")
      .def(
          "step",
          [](PyOptimizer& o) {
            o.owner->get();
            BusyGraph busy(*o.owner);
            py::gil_scoped_release release;
            o.optimizer->step();
          },
          "One update of every parameter from its stored gradient (after graph.backward).")
      .def_property(
          "learning_rate", [](const PyOptimizer& o) { return o.optimizer->learning_rate(); },
          [](PyOptimizer& o, double lr) { o.optimizer->set_learning_rate(lr); })
      .def_property_readonly("steps_taken",
                             [](const PyOptimizer& o) { return o.optimizer->steps_taken(); });

  nn_module.def(
      "SGD",
      [](const std::vector<PyExpr>& parameters, double lr, double momentum, double weight_decay) {
        const GraphPtr& owner = graph_of_parameters(parameters);
        nn::SgdOptions options;
        options.learning_rate = lr;
        options.momentum = momentum;
        options.weight_decay = weight_decay;
        return PyOptimizer{owner, std::make_unique<nn::Sgd>(unwrap(parameters), options)};
      },
      py::arg("parameters"), py::arg("lr") = 0.01, py::arg("momentum") = 0.0,
      py::arg("weight_decay") = 0.0, "v = momentum v + (g + weight_decay w); w -= lr v");
  auto adam = [](bool decoupled) {
    return [decoupled](const std::vector<PyExpr>& parameters, double lr, double beta1, double beta2,
                       double epsilon, double weight_decay) {
      const GraphPtr& owner = graph_of_parameters(parameters);
      nn::AdamOptions options{lr, beta1, beta2, epsilon, weight_decay};
      std::unique_ptr<nn::Optimizer> o;
      if (decoupled) {
        o = std::make_unique<nn::AdamW>(unwrap(parameters), options);
      } else {
        o = std::make_unique<nn::Adam>(unwrap(parameters), options);
      }
      return PyOptimizer{owner, std::move(o)};
    };
  };
  nn_module.def("Adam", adam(false), py::arg("parameters"), py::arg("lr") = 1e-3,
                py::arg("beta1") = 0.9, py::arg("beta2") = 0.999, py::arg("epsilon") = 1e-8,
                py::arg("weight_decay") = 0.0, "Adam (weight decay as L2 on the gradient).");
  nn_module.def("AdamW", adam(true), py::arg("parameters"), py::arg("lr") = 1e-3,
                py::arg("beta1") = 0.9, py::arg("beta2") = 0.999, py::arg("epsilon") = 1e-8,
                py::arg("weight_decay") = 0.0, "AdamW (decoupled weight decay).");

  nn_module.def(
      "initialize",
      [](const std::string& init, std::int64_t fan_in, std::int64_t fan_out, std::uint64_t seed,
         py::handle dtype) {
        SplitMix64 random(seed);
        const DType d = dtype.is_none() ? DType::f32 : dtype_from_python(dtype);
        return tensor_as_array(nn::initialize(nn::init_by_name(init), fan_in, fan_out, random, d));
      },
      py::arg("init"), py::arg("fan_in"), py::arg("fan_out"), py::arg("seed") = 0,
      py::arg("dtype") = py::none(),
      "A weight matrix [fan_in, fan_out] as a numpy array: glorot_uniform, glorot_normal, "
      "he_uniform, he_normal or zeros, from a seeded SplitMix64.");
}

}  // namespace dagprop::python
