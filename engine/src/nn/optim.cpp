// Optimizer updates. Each loop runs in the parameter's own dtype, every element by the same
// arithmetic whatever chunk of the loop it falls in, so the same gradients always give the same
// bits, on any number of threads. The loops are split into chunks (kernel_loops.hpp) that the
// parameter's graph runs on its executor threads (Graph::run_kernels).
#include <dagprop/nn/optim.hpp>

#include <array>
#include <cmath>
#include <string>

#include <dagprop/error.hpp>
#include <dagprop/graph.hpp>
#include <dagprop/kernel_loops.hpp>

#include "../unknown_name.hpp"

namespace dagprop::nn {
namespace {

constexpr std::array<std::string_view, 3> kNames{"sgd", "adam", "adamw"};

void check_range(const char* optimizer, const char* name, double value, double low,
                 bool low_inclusive, double high, const char* hint) {
  const bool ok =
      std::isfinite(value) && (low_inclusive ? value >= low : value > low) && value < high;
  if (!ok) {
    throw Error(std::string(optimizer) + ": " + name + " = " + std::to_string(value) +
                " is not in " + (low_inclusive ? "[" : "(") + std::to_string(low) + ", " +
                (std::isinf(high) ? std::string("inf") : std::to_string(high)) + "); " + hint);
  }
}

void check_learning_rate(const char* optimizer, double learning_rate) {
  check_range(optimizer, "learning_rate", learning_rate, 0.0, false, INFINITY,
              "a learning rate is a positive number such as 1e-3");
}

// Work per element for the chunked loops, in kernel_loops.hpp's units (an add is about 1).
constexpr std::int64_t kSgdCost = 2;
constexpr std::int64_t kAdamCost = 8;  // a square root and two divisions

template <class T>
void sgd_update(const TensorView& value, const TensorView& gradient, Tensor& velocity,
                const SgdOptions& o) {
  T* __restrict w = value.data<T>();
  const T* __restrict g = gradient.data<T>();
  T* __restrict v = velocity.data<T>();
  const T lr = static_cast<T>(o.learning_rate), momentum = static_cast<T>(o.momentum),
          decay = static_cast<T>(o.weight_decay);
  const bool use_momentum = o.momentum != 0.0;
  for_each_chunk(
      value.numel(),
      [=](std::int64_t begin, std::int64_t end) {
        for (std::int64_t k = begin; k < end; ++k) {
          T step = g[k] + decay * w[k];
          if (use_momentum) {
            v[k] = momentum * v[k] + step;
            step = v[k];
          }
          w[k] -= lr * step;
        }
      },
      kSgdCost);
}

template <class T>
void adam_update(const TensorView& value, const TensorView& gradient, Tensor& m_buffer,
                 Tensor& v_buffer, const AdamOptions& o, bool decoupled, std::int64_t t) {
  T* __restrict w = value.data<T>();
  const T* __restrict g = gradient.data<T>();
  T* __restrict m = m_buffer.data<T>();
  T* __restrict v = v_buffer.data<T>();
  // Bias corrections in double: b^t for large t must not round to a different step in float.
  const double correction1 = 1.0 - std::pow(o.beta1, static_cast<double>(t));
  const double correction2 = 1.0 - std::pow(o.beta2, static_cast<double>(t));
  const T step_size = static_cast<T>(o.learning_rate / correction1);
  const T sqrt_correction2 = static_cast<T>(std::sqrt(correction2));
  const T b1 = static_cast<T>(o.beta1), b2 = static_cast<T>(o.beta2);
  const T one_minus_b1 = static_cast<T>(1.0 - o.beta1),
          one_minus_b2 = static_cast<T>(1.0 - o.beta2);
  const T eps = static_cast<T>(o.epsilon);
  const T l2 = decoupled ? T(0) : static_cast<T>(o.weight_decay);
  const T shrink = static_cast<T>(1.0 - (decoupled ? o.learning_rate * o.weight_decay : 0.0));
  for_each_chunk(
      value.numel(),
      [=](std::int64_t begin, std::int64_t end) {
        for (std::int64_t k = begin; k < end; ++k) {
          const T grad = g[k] + l2 * w[k];
          m[k] = b1 * m[k] + one_minus_b1 * grad;
          v[k] = b2 * v[k] + one_minus_b2 * grad * grad;
          w[k] = shrink * w[k] - step_size * m[k] / (std::sqrt(v[k]) / sqrt_correction2 + eps);
        }
      },
      kAdamCost);
}

}  // namespace

Optimizer::Optimizer(std::vector<Expr> parameters, double learning_rate)
    : parameters_(std::move(parameters)), learning_rate_(learning_rate) {
  if (parameters_.empty()) {
    throw Error(
        "an optimizer needs at least one parameter; pass model.parameters() or "
        "graph.parameters()");
  }
  for (const Expr& p : parameters_) {
    Graph& graph = p.graph();
    if (!graph.is_parameter(p.id())) {
      throw Error("an optimizer was given " + graph.describe(p.id()) +
                  ", which is not a parameter; only parameter() nodes hold values it can update");
    }
  }
  check_learning_rate("optimizer", learning_rate);
}

void Optimizer::set_learning_rate(double learning_rate) {
  check_learning_rate("set_learning_rate", learning_rate);
  learning_rate_ = learning_rate;
}

std::vector<Tensor> Optimizer::zeros_like_parameters() const {
  std::vector<Tensor> buffers;
  buffers.reserve(parameters_.size());
  for (const Expr& p : parameters_) buffers.emplace_back(p.shape(), p.dtype());
  return buffers;
}

void Optimizer::set_steps_taken(std::int64_t steps) {
  if (steps < 0) {
    throw Error("Optimizer::set_steps_taken(" + std::to_string(steps) +
                "): a step count is >= 0; pass the count a checkpoint recorded");
  }
  steps_ = steps;
}

void Optimizer::step() {
  ++steps_;
  for (std::size_t i = 0; i < parameters_.size(); ++i) {
    const Expr& p = parameters_[i];
    const TensorView value = p.value(), gradient = p.grad();
    p.graph().run_kernels([&] { update(i, value, gradient, steps_); });
  }
}

Sgd::Sgd(std::vector<Expr> parameters, const SgdOptions& options)
    : Optimizer(std::move(parameters), options.learning_rate), options_(options) {
  check_range("sgd", "momentum", options.momentum, 0.0, true, 1.0,
              "momentum is a fraction such as 0.9 (0 turns it off)");
  check_range("sgd", "weight_decay", options.weight_decay, 0.0, true, INFINITY,
              "weight decay is >= 0, such as 5e-4");
  velocity_ = zeros_like_parameters();
}

std::vector<Optimizer::StateBuffer> Sgd::state_buffers() {
  std::vector<StateBuffer> buffers;
  for (std::size_t i = 0; i < velocity_.size(); ++i)
    buffers.push_back({"velocity", i, &velocity_[i]});
  return buffers;
}

void Sgd::update(std::size_t i, const TensorView& value, const TensorView& gradient,
                 std::int64_t /*t*/) {
  SgdOptions o = options_;
  o.learning_rate = learning_rate();
  if (value.dtype() == DType::f32) {
    sgd_update<float>(value, gradient, velocity_[i], o);
  } else {
    sgd_update<double>(value, gradient, velocity_[i], o);
  }
}

Adam::Adam(std::vector<Expr> parameters, const AdamOptions& options)
    : Adam(std::move(parameters), options, false) {}

Adam::Adam(std::vector<Expr> parameters, const AdamOptions& options, bool decoupled_weight_decay)
    : Optimizer(std::move(parameters), options.learning_rate),
      options_(options),
      decoupled_(decoupled_weight_decay) {
  const char* name = decoupled_ ? "adamw" : "adam";
  check_range(name, "beta1", options.beta1, 0.0, true, 1.0, "beta1 is usually 0.9");
  check_range(name, "beta2", options.beta2, 0.0, true, 1.0, "beta2 is usually 0.999");
  check_range(name, "epsilon", options.epsilon, 0.0, false, INFINITY, "epsilon is usually 1e-8");
  check_range(name, "weight_decay", options.weight_decay, 0.0, true, INFINITY,
              "weight decay is >= 0, such as 0.01");
  first_moment_ = zeros_like_parameters();
  second_moment_ = zeros_like_parameters();
}

std::vector<Optimizer::StateBuffer> Adam::state_buffers() {
  std::vector<StateBuffer> buffers;
  for (std::size_t i = 0; i < first_moment_.size(); ++i) {
    buffers.push_back({"first_moment", i, &first_moment_[i]});
    buffers.push_back({"second_moment", i, &second_moment_[i]});
  }
  return buffers;
}

void Adam::update(std::size_t i, const TensorView& value, const TensorView& gradient,
                  std::int64_t t) {
  AdamOptions o = options_;
  o.learning_rate = learning_rate();
  if (value.dtype() == DType::f32) {
    adam_update<float>(value, gradient, first_moment_[i], second_moment_[i], o, decoupled_, t);
  } else {
    adam_update<double>(value, gradient, first_moment_[i], second_moment_[i], o, decoupled_, t);
  }
}

AdamW::AdamW(std::vector<Expr> parameters, const AdamOptions& options)
    : Adam(std::move(parameters), options, true) {}

std::span<const std::string_view> optimizer_names() {
  return kNames;
}

std::unique_ptr<Optimizer> make_optimizer(std::string_view name, std::vector<Expr> parameters,
                                          const OptimizerSettings& settings) {
  if (name == "sgd") {
    return std::make_unique<Sgd>(std::move(parameters),
                                 SgdOptions{.learning_rate = settings.learning_rate,
                                            .momentum = settings.momentum,
                                            .weight_decay = settings.weight_decay});
  }
  AdamOptions adam{.learning_rate = settings.learning_rate, .weight_decay = settings.weight_decay};
  if (name == "adam") return std::make_unique<Adam>(std::move(parameters), adam);
  if (name == "adamw") return std::make_unique<AdamW>(std::move(parameters), adam);
  throw_unknown_name("optimizer", name, kNames);
}

}  // namespace dagprop::nn
