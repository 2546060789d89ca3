// avg_pool2d on NCHW images and its gradient avg_pool2d_grad, each linear and the other's adjoint
// (second order works). Zero padding counts towards the mean (PyTorch's default,
// count_include_pad = true), so every window divides by kernel_h * kernel_w.
#include "pool2d.hpp"

namespace dagprop {
namespace ops {
namespace {

template <class T>
void avg_pool2d_forward(const KernelCall& c) {
  const Pool2dGeometry g = pool2d_geometry(c.attrs);
  const PoolDims d = pool_dims(*c.inputs[0].shape, *c.output.shape);
  const T* x = c.inputs[0].as<T>();
  T* y = c.output.as<T>();
  const T inverse_area = T(1) / static_cast<T>(g.kernel_h * g.kernel_w);
  for_each_plane(d, g, [&](std::int64_t p) {
    const T* in = x + p * d.in_plane();
    T* out = y + p * d.out_plane();
    for (std::int64_t oh = 0; oh < d.out_h; ++oh) {
      const std::int64_t h0 = oh * g.stride_h - g.pad_h;
      const std::int64_t h_first = std::max<std::int64_t>(h0, 0);
      const std::int64_t h_last = std::min(h0 + g.kernel_h, d.height);
      for (std::int64_t ow = 0; ow < d.out_w; ++ow) {
        const std::int64_t w0 = ow * g.stride_w - g.pad_w;
        const std::int64_t w_first = std::max<std::int64_t>(w0, 0);
        const std::int64_t w_last = std::min(w0 + g.kernel_w, d.width);
        T total = T(0);
        for (std::int64_t h = h_first; h < h_last; ++h) {
          for (std::int64_t w = w_first; w < w_last; ++w) total += in[h * d.width + w];
        }
        out[oh * d.out_w + ow] = total * inverse_area;
      }
    }
  });
}

// dx[h, w] = sum of g[o] / area over the windows o that cover (h, w), added in output order.
template <class T>
void avg_pool2d_grad_forward(const KernelCall& c) {
  const Pool2dGeometry g = pool2d_geometry(c.attrs);
  const PoolDims d = pool_dims(*c.output.shape, *c.inputs[0].shape);
  const T* grad = c.inputs[0].as<T>();
  T* dx = c.output.as<T>();
  const T inverse_area = T(1) / static_cast<T>(g.kernel_h * g.kernel_w);
  for_each_plane(d, g, [&](std::int64_t p) {
    const T* g_plane = grad + p * d.out_plane();
    T* out = dx + p * d.in_plane();
    std::fill(out, out + d.in_plane(), T(0));
    for (std::int64_t oh = 0; oh < d.out_h; ++oh) {
      const std::int64_t h0 = oh * g.stride_h - g.pad_h;
      const std::int64_t h_first = std::max<std::int64_t>(h0, 0);
      const std::int64_t h_last = std::min(h0 + g.kernel_h, d.height);
      for (std::int64_t ow = 0; ow < d.out_w; ++ow) {
        const std::int64_t w0 = ow * g.stride_w - g.pad_w;
        const std::int64_t w_first = std::max<std::int64_t>(w0, 0);
        const std::int64_t w_last = std::min(w0 + g.kernel_w, d.width);
        const T share = g_plane[oh * d.out_w + ow] * inverse_area;
        for (std::int64_t h = h_first; h < h_last; ++h) {
          for (std::int64_t w = w_first; w < w_last; ++w) out[h * d.width + w] += share;
        }
      }
    }
  });
}

Shape avg_pool2d_shape(const ShapeQuery& q) {
  return pooled_shape("avg_pool2d", q.inputs[0], pool2d_geometry(q.attrs));
}

Shape avg_pool2d_grad_shape(const ShapeQuery& q) {
  const Pool2dGeometry g = pool2d_geometry(q.attrs);
  const Shape& grad = q.inputs[0];
  if (grad.rank() != 4 || g.extent_h < 1 || g.extent_w < 1) {
    throw Error(
        "avg_pool2d_grad takes an output gradient [N, C, OH, OW] and the input's height "
        "and width, got " +
        grad.to_string() + " and " + std::to_string(g.extent_h) + " x " +
        std::to_string(g.extent_w));
  }
  const Shape x{grad[0], grad[1], g.extent_h, g.extent_w};
  const Shape pooled = pooled_shape("avg_pool2d_grad", x, g);
  if (!(pooled == grad)) {
    throw Error("avg_pool2d_grad: the output gradient is " + grad.to_string() +
                " but avg_pool2d of " + x.to_string() + " gives " + pooled.to_string() +
                "; pass the gradient of that pooling's output");
  }
  return x;
}

void avg_pool2d_vjp(GradContext& c) {
  const Shape& x = c.input(0).shape();
  c.set(0,
        avg_pool2d_grad(c.grad_output(), {x[2], x[3]}, pool2d_options(pool2d_geometry(c.attrs()))));
}
void avg_pool2d_grad_vjp(GradContext& c) {
  c.set(0, avg_pool2d(c.grad_output(), pool2d_options(pool2d_geometry(c.attrs()))));
}

}  // namespace

const OpDef& op_def_avg_pool2d() {
  static constexpr OpDef def{
      .name = "avg_pool2d",
      .arity = 1,
      .shape = avg_pool2d_shape,
      DAGPROP_KERNELS(avg_pool2d_forward),
      .vjp = avg_pool2d_vjp,
      .work = pool2d_work,
      .forward_doc = "y[n, c, i, j] = sum of x[n, c] over window (i, j) / (kh kw)",
      .gradient_doc = "dx = avg_pool2d_grad(g)",
      .notes_doc = "zero padding counts towards the mean (count_include_pad = true)",
      .attributes = kPool2dAttributes};
  static_assert(op_definition_is_complete(def));
  return def;
}

const OpDef& op_def_avg_pool2d_grad() {
  static constexpr OpDef def{
      .name = "avg_pool2d_grad",
      .arity = 1,
      .shape = avg_pool2d_grad_shape,
      DAGPROP_KERNELS(avg_pool2d_grad_forward),
      .vjp = avg_pool2d_grad_vjp,
      .work = pool2d_work,
      .forward_doc = "dx[h, w] = sum of g[o] / (kh kw) over windows o over (h, w)",
      .gradient_doc = "dg = avg_pool2d(u)",
      .notes_doc = "linear: the adjoint of avg_pool2d",
      .attributes = kPool2dGradAttributes};
  static_assert(op_definition_is_complete(def));
  return def;
}

}  // namespace ops

Expr avg_pool2d(Expr x, const Pool2dOptions& options) {
  return ops::make(OpCode::avg_pool2d, {x}, ops::pool2d_attrs(options));
}
Expr avg_pool2d_grad(Expr g, std::array<std::int64_t, 2> input_hw, const Pool2dOptions& options) {
  return ops::make(OpCode::avg_pool2d_grad, {g}, ops::pool2d_attrs(options, input_hw));
}

}  // namespace dagprop
