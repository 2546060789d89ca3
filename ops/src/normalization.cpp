// layer_norm (over the last axis), and batch normalization in two ops: batch_moments gives each
// channel's mean and biased variance, batch_norm normalizes with the moments it is given. Training
// feeds it batch_moments(x), so the gradient through the batch statistics is the chain rule through
// batch_moments; evaluation feeds the running moments, a constant. Statistics are accumulated in
// float64, in a fixed order per channel (or row): the same bits at any thread count.
#include <cmath>

#include "op_helpers.hpp"

namespace dagprop {
namespace ops {
namespace {

// layer_norm's and batch_norm's eps, in the scalar field.
constexpr AttrSpec kEpsAttributes[] = {
    {.name = "eps",
     .kind = AttrKind::number,
     .slot = {.field = AttrField::scalar},
     .default_value = 1e-5,
     .doc = "added to the variance before its square root; > 0"}};

// ---- layer_norm(x, gamma, beta): y = (x - mean) / sqrt(var + eps) * gamma + beta per row

Shape layer_norm_shape(const ShapeQuery& q) {
  const Shape& x = q.inputs[0];
  if (x.rank() == 0) throw Error("layer_norm needs x of rank 1 or more, got a scalar");
  const Shape features{x[x.rank() - 1]};
  if (!(q.inputs[1] == features) || !(q.inputs[2] == features)) {
    throw Error("layer_norm of x " + x.to_string() + " needs gamma and beta of shape " +
                features.to_string() + " (the last axis), got " + q.inputs[1].to_string() +
                " and " + q.inputs[2].to_string());
  }
  if (!(q.attrs.scalar > 0)) {
    throw Error("layer_norm needs eps > 0, got " + std::to_string(q.attrs.scalar));
  }
  return x;
}

template <class T>
void layer_norm_forward(const KernelCall& c) {
  const T* x = c.inputs[0].as<T>();
  const T* gamma = c.inputs[1].as<T>();
  const T* beta = c.inputs[2].as<T>();
  T* y = c.output.as<T>();
  const Shape& s = *c.inputs[0].shape;
  const std::int64_t d = s[s.rank() - 1];
  const std::int64_t rows = d == 0 ? 0 : s.numel() / d;
  const double eps = c.attrs.scalar;
  for_each_chunk(
      rows,
      [&](std::int64_t begin, std::int64_t end) {
        for (std::int64_t r = begin; r < end; ++r) {
          const T* row = x + r * d;
          double mean = 0;
          for (std::int64_t i = 0; i < d; ++i) mean += row[i];
          mean /= static_cast<double>(d);
          double var = 0;
          for (std::int64_t i = 0; i < d; ++i) var += (row[i] - mean) * (row[i] - mean);
          const double rstd = 1.0 / std::sqrt(var / static_cast<double>(d) + eps);
          for (std::int64_t i = 0; i < d; ++i) {
            y[r * d + i] = static_cast<T>((row[i] - mean) * rstd * gamma[i] + beta[i]);
          }
        }
      },
      4 * d);
}

// With xhat = (x - mean) rstd and h = g gamma:
// dx = rstd (h - mean(h) - xhat mean(h xhat)), dgamma = sum(g xhat), dbeta = sum(g).
void layer_norm_vjp(GradContext& c) {
  const Expr x = c.input(0), gamma = c.input(1), g = c.grad_output();
  const Expr centered = x - mean(x, -1, true);
  const Expr rstd = pow(mean(centered * centered, -1, true) + c.attrs().scalar, -0.5);
  const Expr xhat = centered * rstd;
  if (c.wanted(0)) {
    const Expr h = g * gamma;
    c.set(0, rstd * (h - mean(h, -1, true) - xhat * mean(h * xhat, -1, true)));
  }
  if (c.wanted(1)) c.set(1, sum_to(g * xhat, gamma.shape()));
  if (c.wanted(2)) c.set(2, sum_to(g, c.input(2).shape()));
}

// ---- batch_moments(x): [2, C], row 0 the mean and row 1 the biased variance of each channel
// (axis 1) over every other axis

Shape batch_moments_shape(const ShapeQuery& q) {
  const Shape& x = q.inputs[0];
  if (x.rank() < 2 || x.numel() == 0) {
    throw Error(
        "batch statistics need x of shape [batch, channels, ...] with at least one "
        "element, got " +
        x.to_string());
  }
  return Shape{2, x[1]};
}

// x viewed as [batch, channels, spatial].
struct ChannelLayout {
  std::int64_t batch = 1, channels = 1, spatial = 1;
};
ChannelLayout channel_layout(const Shape& x) {
  ChannelLayout l{x[0], x[1], 1};
  for (int d = 2; d < x.rank(); ++d) l.spatial *= x[d];
  return l;
}

template <class T>
void batch_moments_forward(const KernelCall& c) {
  const T* x = c.inputs[0].as<T>();
  T* m = c.output.as<T>();
  const ChannelLayout l = channel_layout(*c.inputs[0].shape);
  const double count = static_cast<double>(l.batch * l.spatial);
  for_each_chunk(
      l.channels,
      [&](std::int64_t begin, std::int64_t end) {
        for (std::int64_t ch = begin; ch < end; ++ch) {
          double sum = 0;
          for (std::int64_t n = 0; n < l.batch; ++n) {
            const T* plane = x + (n * l.channels + ch) * l.spatial;
            for (std::int64_t i = 0; i < l.spatial; ++i) sum += plane[i];
          }
          const double mean = sum / count;
          double var = 0;
          for (std::int64_t n = 0; n < l.batch; ++n) {
            const T* plane = x + (n * l.channels + ch) * l.spatial;
            for (std::int64_t i = 0; i < l.spatial; ++i)
              var += (plane[i] - mean) * (plane[i] - mean);
          }
          m[ch] = static_cast<T>(mean);
          m[l.channels + ch] = static_cast<T>(var / count);
        }
      },
      2 * l.batch * l.spatial);
}

// The [1, C, 1, ...] shape that broadcasts a per-channel value over x.
std::vector<std::int64_t> channel_broadcast_dims(const Shape& x) {
  std::vector<std::int64_t> dims(static_cast<std::size_t>(x.rank()), 1);
  dims[1] = x[1];
  return dims;
}
// Row `row` of a [2, C] moments node, shaped to broadcast over x.
Expr moment_row(Expr moments, int row, const Shape& x) {
  return reshape(slice(moments, 0, row, row + 1), channel_broadcast_dims(x));
}

// dx = (u_mean + 2 u_var (x - mean)) / count.
void batch_moments_vjp(GradContext& c) {
  const Expr x = c.input(0), u = c.grad_output();
  const Shape& xs = x.shape();
  const double count = static_cast<double>(xs.numel() / xs[1]);
  const Expr u_mean = moment_row(u, 0, xs), u_var = moment_row(u, 1, xs);
  const Expr centered = x - moment_row(c.output(), 0, xs);
  c.set(0, broadcast_to(u_mean, xs) * (1.0 / count) + u_var * centered * (2.0 / count));
}

// ---- batch_norm(x, moments, gamma, beta): y = (x - mean_c) / sqrt(var_c + eps) gamma_c + beta_c

Shape batch_norm_shape(const ShapeQuery& q) {
  const Shape& x = q.inputs[0];
  if (x.rank() < 2) {
    throw Error("batch_norm needs x of shape [batch, channels, ...], got " + x.to_string());
  }
  const Shape moments{2, x[1]}, channels{x[1]};
  if (!(q.inputs[1] == moments) || !(q.inputs[2] == channels) || !(q.inputs[3] == channels)) {
    throw Error("batch_norm of x " + x.to_string() + " needs moments " + moments.to_string() +
                " (mean and variance per channel) and gamma, beta " + channels.to_string() +
                ", got " + q.inputs[1].to_string() + ", " + q.inputs[2].to_string() + " and " +
                q.inputs[3].to_string());
  }
  if (!(q.attrs.scalar > 0)) {
    throw Error("batch_norm needs eps > 0, got " + std::to_string(q.attrs.scalar));
  }
  return x;
}

template <class T>
void batch_norm_forward(const KernelCall& c) {
  const T* x = c.inputs[0].as<T>();
  const T* m = c.inputs[1].as<T>();
  const T* gamma = c.inputs[2].as<T>();
  const T* beta = c.inputs[3].as<T>();
  T* y = c.output.as<T>();
  const ChannelLayout l = channel_layout(*c.inputs[0].shape);
  const double eps = c.attrs.scalar;
  for_each_chunk(
      l.batch * l.channels,
      [&](std::int64_t begin, std::int64_t end) {
        for (std::int64_t p = begin; p < end; ++p) {
          const std::int64_t ch = p % l.channels;
          const double mean = m[ch];
          const double scale = gamma[ch] / std::sqrt(static_cast<double>(m[l.channels + ch]) + eps);
          const double shift = beta[ch];
          const T* in = x + p * l.spatial;
          T* out = y + p * l.spatial;
          for (std::int64_t i = 0; i < l.spatial; ++i)
            out[i] = static_cast<T>((in[i] - mean) * scale + shift);
        }
      },
      l.spatial);
}

// With rstd = 1 / sqrt(var + eps), as functions of x, the moments, gamma and beta separately:
// dx = g gamma rstd, dmean = -sum(g gamma rstd), dvar = -sum(g gamma (x - mean)) rstd^3 / 2,
// dgamma = sum(g (x - mean) rstd), dbeta = sum(g).
void batch_norm_vjp(GradContext& c) {
  const Expr x = c.input(0), moments = c.input(1), g = c.grad_output();
  const Shape& xs = x.shape();
  const std::vector<std::int64_t> per_channel = channel_broadcast_dims(xs);
  const Shape per_channel_shape{std::span<const std::int64_t>(per_channel)};
  const Expr gamma = reshape(c.input(2), per_channel);
  const Expr rstd = pow(moment_row(moments, 1, xs) + c.attrs().scalar, -0.5);
  const Expr centered = x - moment_row(moments, 0, xs);
  const Expr g_scaled = g * gamma;
  const std::vector<std::int64_t> row{1, xs[1]}, channels{xs[1]};
  if (c.wanted(0)) c.set(0, g_scaled * rstd);
  if (c.wanted(1)) {
    const Expr d_mean = reshape(neg(sum_to(g_scaled, per_channel_shape) * rstd), row);
    const Expr d_var =
        reshape(sum_to(g_scaled * centered, per_channel_shape) * pow(rstd, 3.0) * -0.5, row);
    c.set(1, concat({d_mean, d_var}, 0));
  }
  if (c.wanted(2)) c.set(2, reshape(sum_to(g * centered * rstd, per_channel_shape), channels));
  if (c.wanted(3)) c.set(3, reshape(sum_to(g, per_channel_shape), channels));
}

OpAttrs eps_attrs(double eps) {
  OpAttrs attrs;
  attrs.scalar = eps;
  return attrs;
}

}  // namespace

const OpDef& op_def_layer_norm() {
  static constexpr OpDef def{
      .name = "layer_norm",
      .arity = 3,
      .shape = layer_norm_shape,
      DAGPROP_KERNELS(layer_norm_forward),
      .vjp = layer_norm_vjp,
      .cost_per_element = 8,
      .forward_doc = "y = (x - mean) / sqrt(var + eps) * gamma + beta over the last axis",
      .gradient_doc =
          "dx = rstd (h - mean(h) - xhat mean(h xhat)) with h = g gamma; dgamma = "
          "sum(g xhat); dbeta = sum(g)",
      .notes_doc =
          "biased variance; statistics in float64; eps > 0 keeps a "
          "constant row finite (its output is beta)",
      .operand_names = "x, gamma, beta",
      .attributes = kEpsAttributes};
  static_assert(op_definition_is_complete(def));
  return def;
}
const OpDef& op_def_batch_moments() {
  static constexpr OpDef def{
      .name = "batch_moments",
      .arity = 1,
      .shape = batch_moments_shape,
      DAGPROP_KERNELS(batch_moments_forward),
      .vjp = batch_moments_vjp,
      .cost_per_element = 4,
      .forward_doc = "m = [mean_c, var_c]: per channel (axis 1) over every other axis",
      .gradient_doc = "dx = (u_mean + 2 u_var (x - mean)) / count",
      .notes_doc = "biased variance, accumulated in float64 per channel in a fixed order"};
  static_assert(op_definition_is_complete(def));
  return def;
}
const OpDef& op_def_batch_norm() {
  static constexpr OpDef def{
      .name = "batch_norm",
      .arity = 4,
      .shape = batch_norm_shape,
      DAGPROP_KERNELS(batch_norm_forward),
      .vjp = batch_norm_vjp,
      .cost_per_element = 2,
      .forward_doc = "y = (x - mean_c) / sqrt(var_c + eps) gamma_c + beta_c, m = [mean; var]",
      .gradient_doc =
          "dx = g gamma rstd; dm = [-sum(g gamma rstd); -sum(g gamma (x - mean)) "
          "rstd^3 / 2]; dgamma = sum(g (x - mean) rstd); dbeta = sum(g)",
      .notes_doc =
          "training passes batch_moments(x) as m (the gradient flows through it), "
          "evaluation the running moments",
      .operand_names = "x, moments, gamma, beta",
      .attributes = kEpsAttributes};
  static_assert(op_definition_is_complete(def));
  return def;
}

}  // namespace ops

Expr layer_norm(Expr x, Expr gamma, Expr beta, double eps) {
  return ops::make(OpCode::layer_norm, {x, gamma, beta}, ops::eps_attrs(eps));
}
Expr batch_moments(Expr x) {
  return ops::make(OpCode::batch_moments, {x});
}
Expr batch_norm(Expr x, Expr moments, Expr gamma, Expr beta, double eps) {
  return ops::make(OpCode::batch_norm, {x, moments, gamma, beta}, ops::eps_attrs(eps));
}

}  // namespace dagprop
