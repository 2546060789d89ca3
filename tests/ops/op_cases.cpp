// Gradient cases for every op of the table, several shapes each, broadcasting included.
#include "op_cases.hpp"

#include <functional>

namespace dagprop::testing {

Expr random_parameter(Graph& g, const std::string& name, Shape shape, double low, double high) {
  SplitMix64 random(std::hash<std::string>{}(name) ^ static_cast<std::uint64_t>(shape.numel()));
  Tensor value(shape, DType::f64);
  for (std::int64_t i = 0; i < value.numel(); ++i)
    value.set(i, low + (high - low) * random.uniform());
  return g.parameter(name, value);
}

namespace {

using Build = std::function<Expr(Graph&, std::vector<Expr>&)>;

// Values away from kinks and singularities: |x| in [0.2, 2] with random signs.
Expr signed_away_from_zero(Graph& g, const std::string& name, Shape shape) {
  SplitMix64 random(std::hash<std::string>{}(name));
  Tensor value(shape, DType::f64);
  for (std::int64_t i = 0; i < value.numel(); ++i) {
    const double magnitude = 0.2 + 1.8 * random.uniform();
    value.set(i, random.uniform() < 0.5 ? -magnitude : magnitude);
  }
  return g.parameter(name, value);
}

Build unary(Expr (*f)(Expr), Shape shape, double low, double high) {
  return [=](Graph& g, std::vector<Expr>& wrt) {
    wrt = {random_parameter(g, "x", shape, low, high)};
    return f(wrt[0]);
  };
}
Build unary_signed(Expr (*f)(Expr), Shape shape) {
  return [=](Graph& g, std::vector<Expr>& wrt) {
    wrt = {signed_away_from_zero(g, "x", shape)};
    return f(wrt[0]);
  };
}
Build binary(Expr (*f)(Expr, Expr), Shape a, Shape b, double low = -2, double high = 2) {
  return [=](Graph& g, std::vector<Expr>& wrt) {
    wrt = {random_parameter(g, "a", a, low, high), random_parameter(g, "b", b, low, high)};
    return f(wrt[0], wrt[1]);
  };
}
// A fused local gradient f(x, g): x away from kinks, g any.
Build fused(std::function<Expr(Expr, Expr)> f, Shape shape, double low, double high,
            bool signed_x) {
  return [=](Graph& g, std::vector<Expr>& wrt) {
    const Expr x = signed_x ? signed_away_from_zero(g, "x", shape)
                            : random_parameter(g, "x", shape, low, high);
    wrt = {x, random_parameter(g, "g", shape, -1.5, 1.5)};
    return f(wrt[0], wrt[1]);
  };
}
Expr class_labels(Graph& g, std::vector<double> labels) {
  return g.constant(Tensor::from(labels, Shape{static_cast<std::int64_t>(labels.size())}));
}

std::vector<OpCase> make_cases() {
  using E = GradientExpectation;
  std::vector<OpCase> cases;
  auto add_case = [&](std::string op, std::string label, Build build,
                      E expectation = E::finite_differences) {
    cases.push_back({std::move(op), std::move(label), expectation, std::move(build)});
  };

  for (auto [name, f] : std::initializer_list<std::pair<const char*, Expr (*)(Expr, Expr)>>{
           {"add", &dagprop::add}, {"sub", &dagprop::sub}, {"mul", &dagprop::mul}}) {
    add_case(name, "same shape", binary(f, Shape{3, 4}, Shape{3, 4}));
    add_case(name, "bias row broadcast", binary(f, Shape{3, 4}, Shape{4}));
    add_case(name, "both broadcast", binary(f, Shape{2, 1, 4}, Shape{3, 1}));
    add_case(name, "scalar and vector", binary(f, Shape{}, Shape{3}));
  }
  add_case("div", "same shape", binary(div, Shape{3, 4}, Shape{3, 4}, 0.5, 2));
  add_case("div", "broadcast divisor", binary(div, Shape{3, 4}, Shape{3, 1}, 0.5, 2));
  add_case("neg", "matrix", unary(neg, Shape{3, 4}, -2, 2));
  add_case("scale", "matrix", [](Graph& g, std::vector<Expr>& wrt) {
    wrt = {random_parameter(g, "x", Shape{3, 4}, -2, 2)};
    return scale(wrt[0], -1.7);
  });
  add_case("pow", "cube", [](Graph& g, std::vector<Expr>& wrt) {
    wrt = {random_parameter(g, "x", Shape{5}, -2, 2)};
    return pow(wrt[0], 3.0);
  });
  add_case("pow", "fractional exponent", [](Graph& g, std::vector<Expr>& wrt) {
    wrt = {random_parameter(g, "x", Shape{2, 3}, 0.3, 2)};
    return pow(wrt[0], -1.5);
  });
  add_case("exp", "matrix", unary(exp, Shape{3, 4}, -2, 2));
  add_case("log", "positive", unary(log, Shape{3, 4}, 0.2, 3));
  add_case("sqrt", "positive", unary(sqrt, Shape{3, 4}, 0.2, 3));
  add_case("abs", "away from 0", unary_signed(abs, Shape{3, 4}));
  add_case("step", "zero gradient", unary_signed(step, Shape{3, 4}), E::zero_by_definition);
  add_case("sign", "zero gradient", unary_signed(sign, Shape{3, 4}), E::zero_by_definition);
  add_case("stop_gradient", "detached", unary(stop_gradient, Shape{3, 4}, -2, 2),
           E::zero_by_definition);
  add_case("step_ste", "straight through", unary_signed(step_ste, Shape{3, 4}),
           E::straight_through);

  add_case("sigmoid", "matrix", unary(sigmoid, Shape{3, 4}, -4, 4));
  add_case("tanh", "matrix", unary(tanh, Shape{3, 4}, -3, 3));
  add_case("relu", "away from 0", unary_signed(relu, Shape{3, 4}));
  add_case("leaky_relu", "away from 0", [](Graph& g, std::vector<Expr>& wrt) {
    wrt = {signed_away_from_zero(g, "x", Shape{3, 4})};
    return leaky_relu(wrt[0], 0.1);
  });
  add_case("elu", "away from 0", [](Graph& g, std::vector<Expr>& wrt) {
    wrt = {signed_away_from_zero(g, "x", Shape{3, 4})};
    return elu(wrt[0], 1.3);
  });
  add_case("gelu", "matrix", unary(gelu, Shape{3, 4}, -3, 3));
  add_case("softplus", "matrix", unary(softplus, Shape{3, 4}, -5, 5));
  add_case("silu", "matrix", unary(silu, Shape{3, 4}, -4, 4));

  add_case("sigmoid_grad", "from the output", fused(sigmoid_grad, Shape{3, 4}, 0.05, 0.95, false));
  add_case("tanh_grad", "from the output", fused(tanh_grad, Shape{3, 4}, -0.95, 0.95, false));
  add_case("relu_grad", "mask", fused(relu_grad, Shape{3, 4}, 0, 0, true));
  add_case(
      "leaky_relu_grad", "mask",
      fused([](Expr x, Expr g) { return leaky_relu_grad(x, g, 0.1); }, Shape{3, 4}, 0, 0, true));
  add_case("elu_grad", "both sides",
           fused([](Expr x, Expr g) { return elu_grad(x, g, 1.3); }, Shape{3, 4}, 0, 0, true));
  add_case("gelu_grad", "second derivative", fused(gelu_grad, Shape{3, 4}, -3, 3, false));
  add_case("silu_grad", "second derivative", fused(silu_grad, Shape{3, 4}, -4, 4, false));

  add_case("sum", "all", unary(static_cast<Expr (*)(Expr)>(sum), Shape{3, 4}, -2, 2));
  add_case("sum", "axis 0", [](Graph& g, std::vector<Expr>& wrt) {
    wrt = {random_parameter(g, "x", Shape{3, 4}, -2, 2)};
    return sum(wrt[0], 0);
  });
  add_case("sum", "last axis keepdim", [](Graph& g, std::vector<Expr>& wrt) {
    wrt = {random_parameter(g, "x", Shape{2, 3, 4}, -2, 2)};
    return sum(wrt[0], -1, true);
  });
  add_case("mean", "all", unary(static_cast<Expr (*)(Expr)>(mean), Shape{3, 4}, -2, 2));
  add_case("mean", "middle axis", [](Graph& g, std::vector<Expr>& wrt) {
    wrt = {random_parameter(g, "x", Shape{2, 3, 4}, -2, 2)};
    return mean(wrt[0], 1);
  });
  add_case("reshape", "matrix to matrix", [](Graph& g, std::vector<Expr>& wrt) {
    wrt = {random_parameter(g, "x", Shape{2, 6}, -2, 2)};
    return reshape(wrt[0], {3, -1});
  });
  add_case("transpose", "last two axes", [](Graph& g, std::vector<Expr>& wrt) {
    wrt = {random_parameter(g, "x", Shape{2, 3, 4}, -2, 2)};
    return transpose(wrt[0]);
  });
  add_case("transpose", "outer axes", [](Graph& g, std::vector<Expr>& wrt) {
    wrt = {random_parameter(g, "x", Shape{2, 3, 4}, -2, 2)};
    return transpose(wrt[0], 0, 2);
  });
  add_case("broadcast_to", "column to batch", [](Graph& g, std::vector<Expr>& wrt) {
    wrt = {random_parameter(g, "x", Shape{3, 1}, -2, 2)};
    return broadcast_to(wrt[0], Shape{2, 3, 4});
  });
  add_case("sum_to", "batch to column", [](Graph& g, std::vector<Expr>& wrt) {
    wrt = {random_parameter(g, "x", Shape{2, 3, 4}, -2, 2)};
    return sum_to(wrt[0], Shape{3, 1});
  });

  add_case("matmul", "2-D", binary(matmul, Shape{3, 4}, Shape{4, 5}));
  add_case("matmul", "batched", binary(matmul, Shape{2, 3, 4}, Shape{2, 4, 5}));
  add_case("matmul", "batch times shared matrix", binary(matmul, Shape{2, 3, 4}, Shape{4, 5}));
  add_case("matmul", "shared matrix times batch", binary(matmul, Shape{3, 4}, Shape{2, 4, 5}));
  // Operands read transposed: the forms the gradient rules build instead of transpose nodes.
  for (const auto& [ta, tb] : {std::pair{false, true}, {true, false}, {true, true}}) {
    const std::string label = std::string(ta ? "A^T" : "A") + (tb ? " B^T" : " B");
    const Shape a = ta ? Shape{4, 3} : Shape{3, 4}, b = tb ? Shape{5, 4} : Shape{4, 5};
    add_case("matmul", label, [=](Graph& g, std::vector<Expr>& wrt) {
      wrt = {random_parameter(g, "a", a, -2, 2), random_parameter(g, "b", b, -2, 2)};
      return matmul(wrt[0], wrt[1], {.a = ta, .b = tb});
    });
    add_case("matmul", label + ", batch times shared matrix",
             [=](Graph& g, std::vector<Expr>& wrt) {
               wrt = {random_parameter(g, "a", Shape{2, a[0], a[1]}, -2, 2),
                      random_parameter(g, "b", b, -2, 2)};
               return matmul(wrt[0], wrt[1], {.a = ta, .b = tb});
             });
  }
  add_case("weighted_sum", "one neuron", [](Graph& g, std::vector<Expr>& wrt) {
    wrt = {random_parameter(g, "x", Shape{5}, -2, 2), random_parameter(g, "w", Shape{5}, -2, 2),
           random_parameter(g, "b", Shape{}, -2, 2)};
    return weighted_sum(wrt[0], wrt[1], wrt[2]);
  });
  add_case("weighted_sum", "batch, shared weights", [](Graph& g, std::vector<Expr>& wrt) {
    wrt = {random_parameter(g, "x", Shape{3, 5}, -2, 2), random_parameter(g, "w", Shape{5}, -2, 2),
           random_parameter(g, "b", Shape{}, -2, 2)};
    return weighted_sum(wrt[0], wrt[1], wrt[2]);
  });
  add_case("weighted_sum", "per-row weights and bias", [](Graph& g, std::vector<Expr>& wrt) {
    wrt = {random_parameter(g, "x", Shape{3, 5}, -2, 2),
           random_parameter(g, "w", Shape{3, 5}, -2, 2), random_parameter(g, "b", Shape{3}, -2, 2)};
    return weighted_sum(wrt[0], wrt[1], wrt[2]);
  });

  add_case("softmax", "rows", unary(softmax, Shape{3, 5}, -3, 3));
  add_case("log_softmax", "rows", unary(log_softmax, Shape{3, 5}, -3, 3));
  add_case("softmax_grad", "second order", [](Graph& g, std::vector<Expr>& wrt) {
    wrt = {random_parameter(g, "y", Shape{3, 5}, 0.05, 0.5),
           random_parameter(g, "g", Shape{3, 5}, -1, 1)};
    return softmax_grad(wrt[0], wrt[1]);
  });
  add_case("log_softmax_grad", "second order", [](Graph& g, std::vector<Expr>& wrt) {
    wrt = {random_parameter(g, "y", Shape{3, 5}, -3, -0.1),
           random_parameter(g, "g", Shape{3, 5}, -1, 1)};
    return log_softmax_grad(wrt[0], wrt[1]);
  });
  add_case("mse_loss", "matrix", binary(mse_loss, Shape{3, 4}, Shape{3, 4}));
  add_case("cross_entropy", "logits", [](Graph& g, std::vector<Expr>& wrt) {
    wrt = {random_parameter(g, "z", Shape{4, 5}, -3, 3)};
    return cross_entropy(wrt[0], class_labels(g, {0, 4, 2, 2}));
  });
  add_case("cross_entropy_grad", "second order", [](Graph& g, std::vector<Expr>& wrt) {
    wrt = {random_parameter(g, "z", Shape{4, 5}, -3, 3), random_parameter(g, "g", Shape{}, 0.5, 2)};
    return cross_entropy_grad(wrt[0], class_labels(g, {1, 0, 3, 4}), wrt[1]);
  });
  add_case("binary_cross_entropy_with_logits", "logits and targets",
           [](Graph& g, std::vector<Expr>& wrt) {
             wrt = {random_parameter(g, "z", Shape{3, 4}, -4, 4),
                    random_parameter(g, "t", Shape{3, 4}, 0, 1)};
             return binary_cross_entropy_with_logits(wrt[0], wrt[1]);
           });
  add_case(
      "one_hot", "labels",
      [](Graph& g, std::vector<Expr>& wrt) {
        wrt = {g.parameter("labels", Tensor::from(std::vector<double>{0, 2, 1}, Shape{3}))};
        return one_hot(wrt[0], 3);
      },
      E::not_differentiable);

  // ---- tensor ops (issue 19)
  add_case("concat", "three inputs along axis 1", [](Graph& g, std::vector<Expr>& wrt) {
    wrt = {random_parameter(g, "a", Shape{2, 3}, -2, 2),
           random_parameter(g, "b", Shape{2, 1}, -2, 2),
           random_parameter(g, "c", Shape{2, 2}, -2, 2)};
    return concat(wrt, 1);
  });
  add_case("concat", "stack of two on a new axis", [](Graph& g, std::vector<Expr>& wrt) {
    wrt = {random_parameter(g, "a", Shape{3, 2}, -2, 2),
           random_parameter(g, "b", Shape{3, 2}, -2, 2)};
    return stack(wrt, 1);
  });
  add_case("slice", "strided, two axes", [](Graph& g, std::vector<Expr>& wrt) {
    wrt = {random_parameter(g, "x", Shape{4, 7}, -2, 2)};
    return slice(wrt[0], {{1, 4, 1}, {-6, 7, 2}});
  });
  add_case("slice_grad", "second order", [](Graph& g, std::vector<Expr>& wrt) {
    wrt = {random_parameter(g, "g", Shape{3, 3}, -2, 2)};
    return g.apply("slice_grad", wrt, {{"ranges", {1, 4, 1, 1, 7, 2}}, {"shape", Shape{4, 7}}});
  });
  add_case("index_select", "repeated rows", [](Graph& g, std::vector<Expr>& wrt) {
    wrt = {random_parameter(g, "x", Shape{2, 4, 3}, -2, 2)};
    return index_select(wrt[0], 1, class_labels(g, {3, 0, 3, 1, 3}));
  });
  add_case("index_select", "table rows, repeated", [](Graph& g, std::vector<Expr>& wrt) {
    wrt = {random_parameter(g, "table", Shape{5, 3}, -2, 2)};
    return index_select(wrt[0], 0, class_labels(g, {4, 1, 1, 0, 4, 4}));
  });
  add_case("index_add", "second order", [](Graph& g, std::vector<Expr>& wrt) {
    wrt = {random_parameter(g, "g", Shape{2, 5, 3}, -2, 2)};
    const Expr inputs[] = {wrt[0], class_labels(g, {3, 0, 3, 1, 3})};
    return g.apply("index_add", inputs, {{"axis", 1}, {"shape", Shape{2, 4, 3}}});
  });
  add_case("gather", "along rows", [](Graph& g, std::vector<Expr>& wrt) {
    wrt = {random_parameter(g, "x", Shape{3, 4}, -2, 2)};
    return gather(wrt[0], 1, g.constant(Tensor::from({0, 3, 3, 1, 1, 1, 2, 0, 3}, Shape{3, 3})));
  });
  add_case("scatter_add", "second order", [](Graph& g, std::vector<Expr>& wrt) {
    wrt = {random_parameter(g, "g", Shape{2, 4}, -2, 2)};
    const Expr inputs[] = {wrt[0], g.constant(Tensor::from({0, 2, 2, 1, 0, 2, 0, 1}, Shape{2, 4}))};
    return g.apply("scatter_add", inputs, {{"axis", 0}, {"shape", Shape{3, 4}}});
  });
  add_case("maximum", "broadcast, no ties", binary(maximum, Shape{3, 4}, Shape{4}));
  add_case("minimum", "broadcast, no ties", binary(minimum, Shape{3, 1}, Shape{3, 4}));
  add_case("where", "mask picks per element", [](Graph& g, std::vector<Expr>& wrt) {
    wrt = {random_parameter(g, "a", Shape{2, 3}, -2, 2), random_parameter(g, "b", Shape{3}, -2, 2)};
    return where(g.constant(Tensor::from({1, 0, 0, 1, 1, 0}, Shape{2, 3})), wrt[0], wrt[1]);
  });
  for (auto [name, f] : std::initializer_list<std::pair<const char*, Expr (*)(Expr, Expr)>>{
           {"greater", &dagprop::greater},
           {"greater_equal", &dagprop::greater_equal},
           {"less", &dagprop::less},
           {"less_equal", &dagprop::less_equal},
           {"equal", &dagprop::equal},
           {"not_equal", &dagprop::not_equal}}) {
    add_case(name, "mask", binary(f, Shape{3, 4}, Shape{4}), E::zero_by_definition);
  }
  add_case("max", "along rows", [](Graph& g, std::vector<Expr>& wrt) {
    wrt = {random_parameter(g, "x", Shape{3, 5}, -2, 2)};
    return max(wrt[0], 1);
  });
  add_case("max", "middle axis keepdim", [](Graph& g, std::vector<Expr>& wrt) {
    wrt = {random_parameter(g, "x", Shape{2, 4, 3}, -2, 2)};
    return max(wrt[0], 1, true);
  });
  add_case("min", "along columns", [](Graph& g, std::vector<Expr>& wrt) {
    wrt = {random_parameter(g, "x", Shape{4, 3}, -2, 2)};
    return min(wrt[0], 0);
  });
  add_case(
      "argmax", "positions",
      [](Graph& g, std::vector<Expr>& wrt) {
        wrt = {random_parameter(g, "x", Shape{3, 4}, -2, 2)};
        return argmax(wrt[0], 1);
      },
      E::zero_by_definition);
  add_case(
      "argmin", "positions",
      [](Graph& g, std::vector<Expr>& wrt) {
        wrt = {random_parameter(g, "x", Shape{3, 4}, -2, 2)};
        return argmin(wrt[0], 0);
      },
      E::zero_by_definition);
  add_case("layer_norm", "rows of a batch", [](Graph& g, std::vector<Expr>& wrt) {
    wrt = {random_parameter(g, "x", Shape{2, 3, 5}, -2, 2),
           random_parameter(g, "gamma", Shape{5}, 0.5, 1.5),
           random_parameter(g, "beta", Shape{5}, -1, 1)};
    return layer_norm(wrt[0], wrt[1], wrt[2]);
  });
  add_case("batch_moments", "per channel of NCHW", [](Graph& g, std::vector<Expr>& wrt) {
    wrt = {random_parameter(g, "x", Shape{3, 2, 2, 2}, -2, 2)};
    return batch_moments(wrt[0]);
  });
  add_case("batch_norm", "given moments", [](Graph& g, std::vector<Expr>& wrt) {
    wrt = {random_parameter(g, "x", Shape{3, 2, 4}, -2, 2),
           g.parameter("moments", Tensor::from({0.3, -0.2, 0.8, 1.7}, Shape{2, 2})),
           random_parameter(g, "gamma", Shape{2}, 0.5, 1.5),
           random_parameter(g, "beta", Shape{2}, -1, 1)};
    return batch_norm(wrt[0], wrt[1], wrt[2], wrt[3]);
  });
  add_case("batch_norm", "training statistics", [](Graph& g, std::vector<Expr>& wrt) {
    wrt = {random_parameter(g, "x", Shape{4, 3}, -2, 2),
           random_parameter(g, "gamma", Shape{3}, 0.5, 1.5),
           random_parameter(g, "beta", Shape{3}, -1, 1)};
    return batch_norm(wrt[0], batch_moments(wrt[0]), wrt[1], wrt[2]);
  });
  add_case("dropout", "fixed step", [](Graph& g, std::vector<Expr>& wrt) {
    wrt = {random_parameter(g, "x", Shape{4, 6}, -2, 2)};
    return dropout(wrt[0], g.constant(3.0), 0.4, 1234);
  });
  // ---- convolution and pooling (NCHW)
  add_case("conv2d", "3x3 padding 1 with bias", [](Graph& g, std::vector<Expr>& wrt) {
    wrt = {random_parameter(g, "x", Shape{2, 3, 5, 5}, -2, 2),
           random_parameter(g, "w", Shape{4, 3, 3, 3}, -1, 1),
           random_parameter(g, "b", Shape{4}, -1, 1)};
    return conv2d(wrt[0], wrt[1], wrt[2], {.padding = {1, 1}});
  });
  add_case("conv2d", "stride 2, dilation 2, groups 2", [](Graph& g, std::vector<Expr>& wrt) {
    wrt = {random_parameter(g, "x", Shape{1, 4, 7, 8}, -2, 2),
           random_parameter(g, "w", Shape{6, 2, 2, 3}, -1, 1)};
    return conv2d(wrt[0], wrt[1],
                  {.stride = {2, 1}, .padding = {1, 2}, .dilation = {2, 2}, .groups = 2});
  });
  add_case("conv2d", "1x1", [](Graph& g, std::vector<Expr>& wrt) {
    wrt = {random_parameter(g, "x", Shape{2, 3, 3, 4}, -2, 2),
           random_parameter(g, "w", Shape{5, 3, 1, 1}, -1, 1)};
    return conv2d(wrt[0], wrt[1]);
  });
  add_case("conv2d_input_grad", "second order, stride 2", [](Graph& g, std::vector<Expr>& wrt) {
    wrt = {random_parameter(g, "g", Shape{2, 4, 3, 3}, -1, 1),
           random_parameter(g, "w", Shape{4, 3, 3, 3}, -1, 1)};
    return conv2d_input_grad(wrt[0], wrt[1], {6, 5}, {.stride = {2, 2}, .padding = {1, 1}});
  });
  add_case("conv2d_input_grad", "second order, groups 2", [](Graph& g, std::vector<Expr>& wrt) {
    wrt = {random_parameter(g, "g", Shape{1, 4, 4, 4}, -1, 1),
           random_parameter(g, "w", Shape{4, 1, 3, 3}, -1, 1)};
    return conv2d_input_grad(wrt[0], wrt[1], {4, 4}, {.padding = {1, 1}, .groups = 2});
  });
  add_case("conv2d_weight_grad", "second order", [](Graph& g, std::vector<Expr>& wrt) {
    wrt = {random_parameter(g, "x", Shape{2, 3, 5, 5}, -2, 2),
           random_parameter(g, "g", Shape{2, 4, 3, 3}, -1, 1)};
    return conv2d_weight_grad(wrt[0], wrt[1], {3, 3}, {.stride = {2, 2}, .padding = {1, 1}});
  });
  add_case("conv2d_weight_grad", "second order, groups 2, dilation 2",
           [](Graph& g, std::vector<Expr>& wrt) {
             wrt = {random_parameter(g, "x", Shape{2, 4, 6, 6}, -2, 2),
                    random_parameter(g, "g", Shape{2, 2, 6, 6}, -1, 1)};
             return conv2d_weight_grad(wrt[0], wrt[1], {2, 2},
                                       {.padding = {1, 1}, .dilation = {2, 2}, .groups = 2});
           });
  add_case("max_pool2d", "2x2 windows",
           unary([](Expr x) { return max_pool2d(x); }, Shape{2, 2, 4, 6}, -2, 2));
  add_case("max_pool2d", "3x3 stride 2 padding 1",
           unary(
               [](Expr x) {
                 return max_pool2d(x, {.kernel = {3, 3}, .stride = {2, 2}, .padding = {1, 1}});
               },
               Shape{1, 2, 5, 5}, -2, 2));
  add_case("max_pool2d_grad", "second order", [](Graph& g, std::vector<Expr>& wrt) {
    wrt = {random_parameter(g, "x", Shape{1, 2, 5, 5}, -2, 2),
           random_parameter(g, "g", Shape{1, 2, 3, 3}, -1, 1)};
    return max_pool2d_grad(wrt[0], wrt[1], {.kernel = {3, 3}, .stride = {2, 2}, .padding = {1, 1}});
  });
  add_case("max_pool2d_select", "adjoint of the gradient", [](Graph& g, std::vector<Expr>& wrt) {
    wrt = {random_parameter(g, "x", Shape{2, 1, 4, 4}, -2, 2),
           random_parameter(g, "u", Shape{2, 1, 4, 4}, -1, 1)};
    return max_pool2d_select(wrt[0], wrt[1]);
  });
  add_case("avg_pool2d", "3x3 stride 2 padding 1",
           unary(
               [](Expr x) {
                 return avg_pool2d(x, {.kernel = {3, 3}, .stride = {2, 2}, .padding = {1, 1}});
               },
               Shape{2, 2, 5, 6}, -2, 2));
  add_case("avg_pool2d_grad", "second order", [](Graph& g, std::vector<Expr>& wrt) {
    wrt = {random_parameter(g, "g", Shape{2, 2, 3, 3}, -1, 1)};
    return avg_pool2d_grad(wrt[0], {5, 6}, {.kernel = {3, 3}, .stride = {2, 2}, .padding = {1, 1}});
  });
  add_case("global_avg_pool2d", "feature maps", unary(global_avg_pool2d, Shape{2, 3, 4, 5}, -2, 2));
  return cases;
}

}  // namespace

void PrintTo(const OpCase& c, std::ostream* os) {
  *os << c.op << " (" << c.label << ")";
}

const std::vector<OpCase>& op_cases() {
  static const std::vector<OpCase> cases = make_cases();
  return cases;
}

}  // namespace dagprop::testing
