// Losses, averaged to a scalar: mse_loss, cross_entropy from logits (with its fused gradient),
// binary_cross_entropy_with_logits; and one_hot for class labels.
#include "op_helpers.hpp"

namespace dagprop {
namespace ops {
namespace {

// ---- mse_loss

Shape mse_shape(const ShapeQuery& q) {
  equal_shapes(q);
  return Shape{};
}
template <class T>
void mse_forward(const KernelCall& c) {
  const T* p = c.inputs[0].as<T>();
  const T* t = c.inputs[1].as<T>();
  const std::int64_t n = c.inputs[0].numel();
  const double total = chunked_sum<double>(n, [&](std::int64_t begin, std::int64_t end) {
    double acc = 0;
    for (std::int64_t i = begin; i < end; ++i) {
      const double d = static_cast<double>(p[i]) - t[i];
      acc += d * d;
    }
    return acc;
  });
  c.output.as<T>()[0] = static_cast<T>(n == 0 ? 0.0 : total / static_cast<double>(n));
}
void mse_vjp(GradContext& c) {
  const Expr p = c.input(0), t = c.input(1);
  const double n = static_cast<double>(p.shape().numel());
  const Expr dp = mul(scale(sub(p, t), 2.0 / n), c.grad_output());
  if (c.wanted(0)) c.set(0, dp);
  if (c.wanted(1)) c.set(1, neg(dp));
}

// ---- cross_entropy

Shape logits_and_labels(const Shape& logits, const Shape& labels) {
  if (logits.rank() != 2 || labels.rank() != 1 || labels[0] != logits[0]) {
    throw Error("cross_entropy needs logits [batch, classes] and labels [batch], got " +
                logits.to_string() + " and " + labels.to_string());
  }
  return logits;
}
Shape cross_entropy_shape(const ShapeQuery& q) {
  logits_and_labels(q.inputs[0], q.inputs[1]);
  return Shape{};
}
Shape cross_entropy_grad_shape(const ShapeQuery& q) {
  if (!q.inputs[2].is_scalar())
    throw Error("the upstream gradient of a loss is a scalar, got " + q.inputs[2].to_string());
  return logits_and_labels(q.inputs[0], q.inputs[1]);
}

template <class T>
std::int64_t class_index(T label, std::int64_t row, std::int64_t classes) {
  if (!(label >= T(0)) || label >= static_cast<T>(classes) || label != std::floor(label)) {
    throw Error("label " + std::to_string(static_cast<double>(label)) + " in row " +
                std::to_string(row) + " is not a class index in 0.." + std::to_string(classes - 1) +
                "; labels are whole numbers");
  }
  return static_cast<std::int64_t>(label);
}

// A row's log-sum-exp in the form that keeps a confident row's digits: its largest logit `max`
// (the first, at ties) and log_total = log(sum_j exp(z_j - max)) = log1p(s), where s sums the
// other entries' exp(z_j - max) <= 1 each. When the label holds the maximum the loss is log1p(s)
// itself: computed as log(1 + s) it would keep only the digits of s above 1e-16, none at all of a
// loss below 1e-16, and 1e-6 relative precision at 1e-10.
struct RowLogSumExp {
  double max = 0;
  double log_total = 0;
};
template <class T>
RowLogSumExp row_log_sum_exp(const T* row, std::int64_t n) {
  std::int64_t argmax = 0;
  for (std::int64_t j = 1; j < n; ++j) {
    if (row[j] > row[argmax]) argmax = j;
  }
  const double max = static_cast<double>(row[argmax]);
  double others = 0;
  for (std::int64_t j = 0; j < n; ++j) {
    if (j != argmax) others += std::exp(static_cast<double>(row[j]) - max);
  }
  return {max, std::log1p(others)};
}

// loss = mean over rows of log(sum_j exp z_j) - z_label = log_total - (z_label - max): the small
// difference is never formed from two large numbers.
template <class T>
void cross_entropy_forward(const KernelCall& c) {
  const T* z = c.inputs[0].as<T>();
  const T* labels = c.inputs[1].as<T>();
  const std::int64_t batch = (*c.inputs[0].shape)[0], classes = (*c.inputs[0].shape)[1];
  double total = 0;
  for (std::int64_t r = 0; r < batch; ++r) {
    const T* row = z + r * classes;
    const RowLogSumExp lse = row_log_sum_exp(row, classes);
    const double label_logit = static_cast<double>(row[class_index(labels[r], r, classes)]);
    total += lse.log_total - (label_logit - lse.max);
  }
  c.output.as<T>()[0] = static_cast<T>(batch == 0 ? 0.0 : total / static_cast<double>(batch));
}
// dz = g * (softmax(z) - onehot(labels)) / batch, softmax_j = exp((z_j - max) - log_total). The
// label's entry p - 1 is expm1 of its log, which keeps its digits when p is close to 1.
template <class T>
void cross_entropy_grad_forward(const KernelCall& c) {
  const T* z = c.inputs[0].as<T>();
  const T* labels = c.inputs[1].as<T>();
  const T g = c.inputs[2].as<T>()[0];
  T* dz = c.output.as<T>();
  const std::int64_t batch = (*c.inputs[0].shape)[0], classes = (*c.inputs[0].shape)[1];
  const T factor = g / static_cast<T>(batch);
  for_each_chunk(
      batch,
      [&](std::int64_t begin, std::int64_t end) {
        for (std::int64_t r = begin; r < end; ++r) {
          const T* row = z + r * classes;
          const RowLogSumExp lse = row_log_sum_exp(row, classes);
          const std::int64_t label = class_index(labels[r], r, classes);
          for (std::int64_t j = 0; j < classes; ++j) {
            const double log_p = (static_cast<double>(row[j]) - lse.max) - lse.log_total;
            dz[r * classes + j] =
                factor * static_cast<T>(j == label ? std::expm1(log_p) : std::exp(log_p));
          }
        }
      },
      classes * 4);
}
void cross_entropy_vjp(GradContext& c) {
  c.set(0, cross_entropy_grad(c.input(0), c.input(1), c.grad_output()));
}
void cross_entropy_grad_vjp(GradContext& c) {
  const Expr z = c.input(0), labels = c.input(1), g = c.input(2), u = c.grad_output();
  const double batch = static_cast<double>(z.shape()[0]);
  const Expr p = softmax(z);
  if (c.wanted(0)) c.set(0, scale(mul(softmax_grad(p, u), g), 1.0 / batch));
  if (c.wanted(2)) c.set(2, scale(sum(mul(u, sub(p, one_hot(labels, z.shape()[1])))), 1.0 / batch));
}

// ---- binary_cross_entropy_with_logits

template <class T>
void bce_forward(const KernelCall& c) {
  const T* z = c.inputs[0].as<T>();
  const T* t = c.inputs[1].as<T>();
  const std::int64_t n = c.inputs[0].numel();
  // max(z, 0) - z t + log1p(exp(-|z|)): exp of a non-positive number only.
  const double total = chunked_sum<double>(n, [&](std::int64_t begin, std::int64_t end) {
    double acc = 0;
    for (std::int64_t i = begin; i < end; ++i) {
      const double zi = z[i];
      acc +=
          std::max(zi, 0.0) - zi * static_cast<double>(t[i]) + std::log1p(std::exp(-std::abs(zi)));
    }
    return acc;
  });
  c.output.as<T>()[0] = static_cast<T>(n == 0 ? 0.0 : total / static_cast<double>(n));
}
void bce_vjp(GradContext& c) {
  const Expr z = c.input(0), t = c.input(1), g = c.grad_output();
  const double n = static_cast<double>(z.shape().numel());
  if (c.wanted(0)) c.set(0, mul(scale(sub(sigmoid(z), t), 1.0 / n), g));
  if (c.wanted(1)) c.set(1, mul(scale(z, -1.0 / n), g));
}

// ---- one_hot

// Its one attribute, the class count, is the one entry of OpAttrs::ints.
constexpr AttrSpec kOneHotAttributes[] = {{.name = "classes",
                                           .kind = AttrKind::integer,
                                           .slot = {.field = AttrField::ints, .first = 0},
                                           .default_value = 1,
                                           .doc = "the number of classes: the output's columns",
                                           .min = 1}};

std::int64_t classes_of(const OpAttrs& attrs) {
  return attrs.ints.empty() ? 0 : attrs.ints[0];
}

// Graph files before version 3 kept the class count in `axis`.
OpAttrs upgrade_one_hot_attrs(const OpAttrs& raw) {
  OpAttrs attrs;
  attrs.ints = {raw.axis};
  return attrs;
}

Shape one_hot_shape(const ShapeQuery& q) {
  const std::int64_t classes = classes_of(q.attrs);
  if (q.inputs[0].rank() != 1 || classes < 1) {
    throw Error("one_hot needs labels [batch] and at least one class, got " +
                q.inputs[0].to_string() + " and " + std::to_string(classes) + " classes");
  }
  return Shape{q.inputs[0][0], classes};
}
template <class T>
void one_hot_forward(const KernelCall& c) {
  const T* labels = c.inputs[0].as<T>();
  T* y = c.output.as<T>();
  const std::int64_t batch = (*c.output.shape)[0], classes = (*c.output.shape)[1];
  std::fill(y, y + batch * classes, T(0));
  for (std::int64_t r = 0; r < batch; ++r)
    y[r * classes + class_index(labels[r], r, classes)] = T(1);
}

}  // namespace

const OpDef& op_def_mse_loss() {
  static constexpr OpDef def{.name = "mse_loss",
                             .arity = 2,
                             .shape = mse_shape,
                             DAGPROP_KERNELS(mse_forward),
                             .vjp = mse_vjp,
                             .cost_per_element = 2,
                             .forward_doc = "L = mean((p - t)^2)",
                             .gradient_doc = "dp = 2 g (p - t) / n, dt = -dp",
                             .operand_names = "prediction, target"};
  static_assert(op_definition_is_complete(def));
  return def;
}
const OpDef& op_def_cross_entropy() {
  static constexpr OpDef def{
      .name = "cross_entropy",
      .arity = 2,
      .shape = cross_entropy_shape,
      DAGPROP_KERNELS(cross_entropy_forward),
      .vjp = cross_entropy_vjp,
      .nondifferentiable_inputs = 0b10,
      .cost_per_element = 4,
      .forward_doc = "L = mean_r (logsumexp(z_r) - z_r[label_r])",
      .gradient_doc = "dz = cross_entropy_grad(z, labels, g) = g (softmax(z) - onehot) / batch",
      .notes_doc =
          "labels are class indices stored as numbers (not differentiable); finite for logits up "
          "to any magnitude; a row's term is log1p(s) - (z_label - max), s the other classes' "
          "exp(z_j - max), so a confident row's loss (below 1e-10) keeps its relative precision",
      .operand_names = "logits, labels"};
  static_assert(op_definition_is_complete(def));
  return def;
}
const OpDef& op_def_cross_entropy_grad() {
  static constexpr OpDef def{
      .name = "cross_entropy_grad",
      .arity = 3,
      .shape = cross_entropy_grad_shape,
      DAGPROP_KERNELS(cross_entropy_grad_forward),
      .vjp = cross_entropy_grad_vjp,
      .nondifferentiable_inputs = 0b010,
      .cost_per_element = 4,
      .forward_doc = "dz = g (softmax(z) - onehot(labels)) / batch",
      .gradient_doc =
          "dz' = g softmax_grad(softmax(z), u) / batch, dg = sum(u (softmax(z) - onehot)) / batch",
      .notes_doc = "the label's entry p - 1 is computed as expm1(log p), exact when p is near 1",
      .operand_names = "logits, labels, g"};
  static_assert(op_definition_is_complete(def));
  return def;
}
const OpDef& op_def_binary_cross_entropy_with_logits() {
  static constexpr OpDef def{.name = "binary_cross_entropy_with_logits",
                             .arity = 2,
                             .shape = mse_shape,
                             DAGPROP_KERNELS(bce_forward),
                             .vjp = bce_vjp,
                             .cost_per_element = 8,
                             .forward_doc = "L = mean(max(z, 0) - z t + log1p(exp(-|z|)))",
                             .gradient_doc = "dz = g (sigmoid(z) - t) / n, dt = -g z / n",
                             .notes_doc = "finite for logits of any magnitude",
                             .operand_names = "logits, targets"};
  static_assert(op_definition_is_complete(def));
  return def;
}
const OpDef& op_def_one_hot() {
  static constexpr OpDef def{.name = "one_hot",
                             .arity = 1,
                             .shape = one_hot_shape,
                             DAGPROP_KERNELS(one_hot_forward),
                             .grad_kind = GradKind::zero,
                             .nondifferentiable_inputs = 0b1,
                             .forward_doc = "y[r, label_r] = 1, else 0",
                             .gradient_doc = "none (labels are not differentiable)",
                             .attributes = kOneHotAttributes,
                             .upgrade_attrs = upgrade_one_hot_attrs};
  static_assert(op_definition_is_complete(def));
  return def;
}

// A labels input (Graph::labels) knows its class count: a loss built for another count fails here,
// where it is built, rather than on the first feed.
void check_label_classes(Expr labels, std::int64_t classes, const char* op) {
  const std::int64_t declared = labels.graph().num_classes_of(labels.id());
  if (declared > 0 && declared != classes) {
    throw Error(std::string(op) + " of " + std::to_string(classes) + " classes: its labels " +
                labels.graph().describe(labels.id()) + " were built for " +
                std::to_string(declared) + " classes; build them with graph.labels(name, batch, " +
                std::to_string(classes) + ")");
  }
}

}  // namespace ops

Expr mse_loss(Expr prediction, Expr target) {
  return ops::make(OpCode::mse_loss, {prediction, target});
}
Expr cross_entropy(Expr logits, Expr labels) {
  if (logits.valid() && labels.valid() && logits.shape().rank() == 2)
    ops::check_label_classes(labels, logits.shape()[1], "cross_entropy");
  return ops::make(OpCode::cross_entropy, {logits, labels});
}
Expr cross_entropy_grad(Expr logits, Expr labels, Expr g) {
  return ops::make(OpCode::cross_entropy_grad, {logits, labels, g});
}
Expr binary_cross_entropy_with_logits(Expr logits, Expr targets) {
  return ops::make(OpCode::binary_cross_entropy_with_logits, {logits, targets});
}
Expr one_hot(Expr labels, std::int64_t num_classes) {
  if (labels.valid()) ops::check_label_classes(labels, num_classes, "one_hot");
  OpAttrs attrs;
  attrs.ints = {num_classes};
  return ops::make(OpCode::one_hot, {labels}, attrs);
}

}  // namespace dagprop
