// max_pool2d on NCHW images, its gradient max_pool2d_grad (g scattered to each window's maximum)
// and that gradient's adjoint max_pool2d_select (read at each window's maximum): the three are each
// other's gradients, so second order works. Ties go to the FIRST maximal element of a window in
// row-major order (PyTorch's CPU kernel does the same); a NaN counts as maximal, and the first NaN
// wins. Padding never wins: padded positions are skipped, not read as zero or -inf.
#include "pool2d.hpp"

namespace dagprop {
namespace ops {
namespace {

// Whether v replaces the running maximum `best`: strictly greater (a later equal value never
// replaces the first), or a NaN replacing a number (a NaN is never replaced). Branch-free: the
// comparisons of random data would mispredict half the time.
template <class T>
bool replaces(T v, T best) {
  return (v > best) | ((v != v) & (best == best));
}

// The 2x2 window at (h, w), the most common one, without a loop: the selects compile to masks.
template <class T>
std::int64_t argmax_of_four(const T* plane, const PoolDims& d, std::int64_t h, std::int64_t w) {
  const std::int64_t at[4] = {h * d.width + w, h * d.width + w + 1, (h + 1) * d.width + w,
                              (h + 1) * d.width + w + 1};
  std::int64_t best = at[0];
  T best_value = plane[at[0]];
  for (int k = 1; k < 4; ++k) {
    const T v = plane[at[k]];
    const auto take = -static_cast<std::int64_t>(replaces(v, best_value));
    best = (at[k] & take) | (best & ~take);
    best_value = plane[best];
  }
  return best;
}

// Index within the plane of the first maximal element of the window of output (oh, ow), or -1 for
// a window that lies wholly in padding (impossible while padding is at most half the kernel).
template <class T>
std::int64_t window_argmax(const T* plane, const PoolDims& d, const Pool2dGeometry& g,
                           std::int64_t oh, std::int64_t ow) {
  const std::int64_t h0 = oh * g.stride_h - g.pad_h, w0 = ow * g.stride_w - g.pad_w;
  const std::int64_t h_first = std::max<std::int64_t>(h0, 0);
  const std::int64_t h_last = std::min(h0 + g.kernel_h, d.height);
  const std::int64_t w_first = std::max<std::int64_t>(w0, 0);
  const std::int64_t w_last = std::min(w0 + g.kernel_w, d.width);
  if (h_first >= h_last || w_first >= w_last) return -1;
  if (h_last - h_first == 2 && w_last - w_first == 2)
    return argmax_of_four(plane, d, h_first, w_first);
  std::int64_t best = h_first * d.width + w_first;
  T best_value = plane[best];
  for (std::int64_t h = h_first; h < h_last; ++h) {
    for (std::int64_t w = w_first; w < w_last; ++w) {
      const std::int64_t at = h * d.width + w;
      const T v = plane[at];
      const bool take = replaces(v, best_value);
      best = take ? at : best;
      best_value = take ? v : best_value;
    }
  }
  return best;
}

template <class T>
void max_pool2d_forward(const KernelCall& c) {
  const Pool2dGeometry g = pool2d_geometry(c.attrs);
  const PoolDims d = pool_dims(*c.inputs[0].shape, *c.output.shape);
  const T* x = c.inputs[0].as<T>();
  T* y = c.output.as<T>();
  for_each_plane(d, g, [&](std::int64_t p) {
    const T* in = x + p * d.in_plane();
    T* out = y + p * d.out_plane();
    for (std::int64_t oh = 0; oh < d.out_h; ++oh) {
      for (std::int64_t ow = 0; ow < d.out_w; ++ow) {
        const std::int64_t at = window_argmax(in, d, g, oh, ow);
        out[oh * d.out_w + ow] = at < 0 ? T(0) : in[at];
      }
    }
  });
}

// dx[argmax of window o] += g[o]; overlapping windows add in output order.
template <class T>
void max_pool2d_grad_forward(const KernelCall& c) {
  const Pool2dGeometry g = pool2d_geometry(c.attrs);
  const PoolDims d = pool_dims(*c.inputs[0].shape, *c.inputs[1].shape);
  const T* x = c.inputs[0].as<T>();
  const T* grad = c.inputs[1].as<T>();
  T* dx = c.output.as<T>();
  for_each_plane(d, g, [&](std::int64_t p) {
    const T* in = x + p * d.in_plane();
    const T* g_plane = grad + p * d.out_plane();
    T* out = dx + p * d.in_plane();
    std::fill(out, out + d.in_plane(), T(0));
    for (std::int64_t oh = 0; oh < d.out_h; ++oh) {
      for (std::int64_t ow = 0; ow < d.out_w; ++ow) {
        const std::int64_t at = window_argmax(in, d, g, oh, ow);
        if (at >= 0) out[at] += g_plane[oh * d.out_w + ow];
      }
    }
  });
}

// z[o] = u[argmax of window o of x].
template <class T>
void max_pool2d_select_forward(const KernelCall& c) {
  const Pool2dGeometry g = pool2d_geometry(c.attrs);
  const PoolDims d = pool_dims(*c.inputs[0].shape, *c.output.shape);
  const T* x = c.inputs[0].as<T>();
  const T* u = c.inputs[1].as<T>();
  T* z = c.output.as<T>();
  for_each_plane(d, g, [&](std::int64_t p) {
    const T* in = x + p * d.in_plane();
    const T* u_plane = u + p * d.in_plane();
    T* out = z + p * d.out_plane();
    for (std::int64_t oh = 0; oh < d.out_h; ++oh) {
      for (std::int64_t ow = 0; ow < d.out_w; ++ow) {
        const std::int64_t at = window_argmax(in, d, g, oh, ow);
        out[oh * d.out_w + ow] = at < 0 ? T(0) : u_plane[at];
      }
    }
  });
}

Shape max_pool2d_shape(const ShapeQuery& q) {
  return pooled_shape("max_pool2d", q.inputs[0], pool2d_geometry(q.attrs));
}

// max_pool2d_grad(x, g) -> shape of x; g must be the pooled shape.
Shape max_pool2d_grad_shape(const ShapeQuery& q) {
  const Shape pooled = pooled_shape("max_pool2d_grad", q.inputs[0], pool2d_geometry(q.attrs));
  if (!(q.inputs[1] == pooled)) {
    throw Error("max_pool2d_grad: the output gradient is " + q.inputs[1].to_string() +
                " but max_pool2d of " + q.inputs[0].to_string() + " gives " + pooled.to_string() +
                "; pass the gradient of that pooling's output");
  }
  return q.inputs[0];
}

// max_pool2d_select(x, u) -> the pooled shape; u must be shaped like x.
Shape max_pool2d_select_shape(const ShapeQuery& q) {
  if (!(q.inputs[1] == q.inputs[0])) {
    throw Error("max_pool2d_select reads " + q.inputs[1].to_string() +
                " at the maxima of windows of " + q.inputs[0].to_string() +
                "; both must have the same shape");
  }
  return pooled_shape("max_pool2d_select", q.inputs[0], pool2d_geometry(q.attrs));
}

Pool2dOptions options_of(const OpAttrs& attrs) {
  return pool2d_options(pool2d_geometry(attrs));
}

void max_pool2d_vjp(GradContext& c) {
  c.set(0, max_pool2d_grad(c.input(0), c.grad_output(), options_of(c.attrs())));
}
// Which element is maximal is piecewise constant in x: no gradient to x. Linear in g.
void max_pool2d_grad_vjp(GradContext& c) {
  if (c.wanted(1)) c.set(1, max_pool2d_select(c.input(0), c.grad_output(), options_of(c.attrs())));
}
void max_pool2d_select_vjp(GradContext& c) {
  if (c.wanted(1)) c.set(1, max_pool2d_grad(c.input(0), c.grad_output(), options_of(c.attrs())));
}

constexpr std::string_view kMaxPoolNotes =
    "ties: the gradient goes to the FIRST maximal element of a window (row-major); NaN counts as "
    "maximal; padding is skipped, never selected";

}  // namespace

const OpDef& op_def_max_pool2d() {
  static constexpr OpDef def{.name = "max_pool2d",
                             .arity = 1,
                             .shape = max_pool2d_shape,
                             DAGPROP_KERNELS(max_pool2d_forward),
                             .vjp = max_pool2d_vjp,
                             .work = pool2d_work,
                             .forward_doc = "y[n, c, i, j] = max of x[n, c] over window (i, j)",
                             .gradient_doc = "dx = max_pool2d_grad(x, g)",
                             .notes_doc = kMaxPoolNotes,
                             .attributes = kPool2dAttributes};
  static_assert(op_definition_is_complete(def));
  return def;
}

const OpDef& op_def_max_pool2d_grad() {
  static constexpr OpDef def{
      .name = "max_pool2d_grad",
      .arity = 2,
      .shape = max_pool2d_grad_shape,
      DAGPROP_KERNELS(max_pool2d_grad_forward),
      .vjp = max_pool2d_grad_vjp,
      .work = pool2d_work,
      .forward_doc = "dx = g[o] added at the first maximal element of each window o of x",
      .gradient_doc = "dx = 0 (piecewise constant), dg = max_pool2d_select(x, u)",
      .notes_doc = kMaxPoolNotes,
      .operand_names = "x, g",
      .attributes = kPool2dAttributes};
  static_assert(op_definition_is_complete(def));
  return def;
}

const OpDef& op_def_max_pool2d_select() {
  static constexpr OpDef def{
      .name = "max_pool2d_select",
      .arity = 2,
      .shape = max_pool2d_select_shape,
      DAGPROP_KERNELS(max_pool2d_select_forward),
      .vjp = max_pool2d_select_vjp,
      .work = pool2d_work,
      .forward_doc = "z[o] = u at the first maximal element of window o of x",
      .gradient_doc = "dx = 0 (piecewise constant), du = max_pool2d_grad(x, g)",
      .notes_doc = kMaxPoolNotes,
      .operand_names = "x, u",
      .attributes = kPool2dAttributes};
  static_assert(op_definition_is_complete(def));
  return def;
}

}  // namespace ops

Expr max_pool2d(Expr x, const Pool2dOptions& options) {
  return ops::make(OpCode::max_pool2d, {x}, ops::pool2d_attrs(options));
}
Expr max_pool2d_grad(Expr x, Expr g, const Pool2dOptions& options) {
  return ops::make(OpCode::max_pool2d_grad, {x, g}, ops::pool2d_attrs(options));
}
Expr max_pool2d_select(Expr x, Expr u, const Pool2dOptions& options) {
  return ops::make(OpCode::max_pool2d_select, {x, u}, ops::pool2d_attrs(options));
}

}  // namespace dagprop
