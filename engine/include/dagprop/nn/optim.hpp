// Optimizers over a set of parameter nodes: SGD with momentum and weight decay, Adam, AdamW. A
// step reads each parameter's stored gradient (from Graph::backward) and updates its value in place
// through Expr::value(), so the compiled plans stay valid: nothing is rebuilt.
#pragma once

#include <cstdint>
#include <memory>
#include <span>
#include <string_view>
#include <vector>

#include <dagprop/export.hpp>
#include <dagprop/expr.hpp>
#include <dagprop/tensor.hpp>

DAGPROP_API_BEGIN
namespace dagprop::nn {

class Optimizer {
 public:
  virtual ~Optimizer() = default;
  Optimizer(const Optimizer&) = delete;
  Optimizer& operator=(const Optimizer&) = delete;

  // One update of every parameter from its stored gradient.
  void step();

  double learning_rate() const { return learning_rate_; }
  void set_learning_rate(double learning_rate);
  const std::vector<Expr>& parameters() const { return parameters_; }
  std::int64_t steps_taken() const { return steps_; }

  // The state a checkpoint must carry to continue bit for bit: the buffers, each with a name
  // ("velocity", "first_moment") and the index of its parameter, in a fixed order. The tensors are
  // the optimizer's own: a restore writes into them.
  struct StateBuffer {
    std::string_view name;
    std::size_t parameter = 0;
    Tensor* tensor = nullptr;
  };
  virtual std::vector<StateBuffer> state_buffers() { return {}; }
  // Resumes the step count (Adam's bias correction depends on it).
  void set_steps_taken(std::int64_t steps);

 protected:
  Optimizer(std::vector<Expr> parameters, double learning_rate);
  // Updates parameter i (value and gradient of one dtype) at step t (1-based).
  virtual void update(std::size_t i, const TensorView& value, const TensorView& gradient,
                      std::int64_t t) = 0;
  // Per-parameter state buffers (momentum, moments), zero, shaped like the parameter.
  std::vector<Tensor> zeros_like_parameters() const;

 private:
  std::vector<Expr> parameters_;
  double learning_rate_;
  std::int64_t steps_ = 0;
};

struct SgdOptions {
  double learning_rate = 0.01;
  double momentum = 0.0;      // 0: plain gradient descent
  double weight_decay = 0.0;  // L2 penalty: adds weight_decay * w to the gradient
};

// v = momentum * v + (g + weight_decay * w);  w -= learning_rate * v  (PyTorch's form, dampening 0)
class Sgd final : public Optimizer {
 public:
  Sgd(std::vector<Expr> parameters, const SgdOptions& options);

 private:
  void update(std::size_t i, const TensorView& value, const TensorView& gradient,
              std::int64_t t) override;
  std::vector<StateBuffer> state_buffers() override;
  SgdOptions options_;
  std::vector<Tensor> velocity_;
};

struct AdamOptions {
  double learning_rate = 1e-3;
  double beta1 = 0.9;
  double beta2 = 0.999;
  double epsilon = 1e-8;
  double weight_decay = 0.0;
};

// m = b1 m + (1 - b1) g;  v = b2 v + (1 - b2) g^2;
// w -= learning_rate * (m / (1 - b1^t)) / (sqrt(v / (1 - b2^t)) + epsilon).
// Adam adds weight_decay * w to g (L2); AdamW instead shrinks w by learning_rate * weight_decay
// before the step (decoupled weight decay, Loshchilov and Hutter), so the decay is not rescaled by
// the adaptive denominator.
class Adam : public Optimizer {
 public:
  Adam(std::vector<Expr> parameters, const AdamOptions& options);

 protected:
  Adam(std::vector<Expr> parameters, const AdamOptions& options, bool decoupled_weight_decay);

 private:
  void update(std::size_t i, const TensorView& value, const TensorView& gradient,
              std::int64_t t) override;
  std::vector<StateBuffer> state_buffers() override;
  AdamOptions options_;
  bool decoupled_;
  std::vector<Tensor> first_moment_, second_moment_;
};

class AdamW final : public Adam {
 public:
  // Adam with decoupled weight decay: set options.weight_decay (0.01 is common; 0 gives Adam).
  AdamW(std::vector<Expr> parameters, const AdamOptions& options);
};

// "sgd", "adam", "adamw".
std::span<const std::string_view> optimizer_names();

struct OptimizerSettings {
  double learning_rate = 1e-3;
  double momentum = 0.9;  // SGD only
  double weight_decay = 0.0;
};
// Throws dagprop::Error listing the valid names.
std::unique_ptr<Optimizer> make_optimizer(std::string_view name, std::vector<Expr> parameters,
                                          const OptimizerSettings& settings);

}  // namespace dagprop::nn
DAGPROP_API_END
