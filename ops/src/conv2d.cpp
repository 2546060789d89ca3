// conv2d on NCHW images with PyTorch's weight layout [out, in / groups, kh, kw], and the two halves
// of its gradient (conv2d_input_grad, conv2d_weight_grad), each an op whose own gradient is built
// from these three, so second derivatives of a convolutional net are graphs too.
//
// Kernels: im2col and the BLAS GEMM already behind matmul (docs/performance.md, "W6", has the
// measurement against oneDNN that chose it). Every product is cut into tasks fixed by the shapes
// alone (one image and group for the forward pass and the input gradient; fixed runs of images
// for the weight gradient, whose partial sums are added in run order), so the bits never depend
// on the thread count.
#include <climits>
#include <vector>

#include "gemm.hpp"
#include "op_helpers.hpp"

namespace dagprop {
namespace ops {
namespace {

// ---- geometry: OpAttrs::ints = {stride h, w, padding h, w, dilation h, w, groups}, and for the
// gradient ops two more, the extent: the input's height and width for conv2d_input_grad, the
// kernel's for conv2d_weight_grad.

constexpr std::size_t kConv2dInts = 7;
constexpr std::size_t kConv2dGradInts = 9;

#define DAGPROP_CONV2D_GEOMETRY_ATTRIBUTES                                                       \
  {.name = "stride",                                                                             \
   .kind = AttrKind::integers,                                                                   \
   .slot = {.field = AttrField::ints, .first = 0, .count = 2},                                   \
   .default_value = 1,                                                                           \
   .doc = "steps of the kernel over height and width",                                           \
   .min = 1},                                                                                    \
      {.name = "padding",                                                                        \
       .kind = AttrKind::integers,                                                               \
       .slot = {.field = AttrField::ints, .first = 2, .count = 2},                               \
       .doc = "zeros added on each side of height and width",                                    \
       .min = 0},                                                                                \
      {.name = "dilation",                                                                       \
       .kind = AttrKind::integers,                                                               \
       .slot = {.field = AttrField::ints, .first = 4, .count = 2},                               \
       .default_value = 1,                                                                       \
       .doc = "spacing of the kernel's taps over height and width",                              \
       .min = 1},                                                                                \
  {                                                                                              \
    .name = "groups", .kind = AttrKind::integer, .slot = {.field = AttrField::ints, .first = 6}, \
    .default_value = 1, .doc = "channel groups convolved apart; divides both channel counts",    \
    .min = 1                                                                                     \
  }

constexpr AttrSpec kConv2dAttributes[] = {DAGPROP_CONV2D_GEOMETRY_ATTRIBUTES};
constexpr AttrSpec kConv2dInputGradAttributes[] = {
    DAGPROP_CONV2D_GEOMETRY_ATTRIBUTES,
    {.name = "extent",
     .kind = AttrKind::integers,
     .slot = {.field = AttrField::ints, .first = 7, .count = 2},
     .doc = "the height and width of the input whose gradient this is",
     .min = 0}};
constexpr AttrSpec kConv2dWeightGradAttributes[] = {
    DAGPROP_CONV2D_GEOMETRY_ATTRIBUTES,
    {.name = "extent",
     .kind = AttrKind::integers,
     .slot = {.field = AttrField::ints, .first = 7, .count = 2},
     .doc = "the height and width of the kernel whose gradient this is",
     .min = 0}};
#undef DAGPROP_CONV2D_GEOMETRY_ATTRIBUTES

struct Conv2dGeometry {
  std::int64_t stride_h = 1, stride_w = 1, pad_h = 0, pad_w = 0, dilation_h = 1, dilation_w = 1;
  std::int64_t groups = 1;
  std::int64_t extent_h = 0, extent_w = 0;
};

Conv2dGeometry conv2d_geometry(const OpAttrs& attrs) {
  if (attrs.ints.size() != kConv2dInts && attrs.ints.size() != kConv2dGradInts) {
    throw Error(
        "a convolution node needs 7 integer attributes (stride h w, padding h w, dilation h "
        "w, groups), and its gradient ops 2 more (extent h w), got " +
        std::to_string(attrs.ints.size()) + "; build it with conv2d()");
  }
  const auto& v = attrs.ints;
  const bool extent = v.size() == kConv2dGradInts;
  return {v[0], v[1], v[2], v[3], v[4], v[5], v[6], extent ? v[7] : 0, extent ? v[8] : 0};
}

OpAttrs conv2d_attrs(const Conv2dOptions& o) {
  OpAttrs attrs;
  attrs.ints = {o.stride[0],   o.stride[1],   o.padding[0], o.padding[1],
                o.dilation[0], o.dilation[1], o.groups};
  return attrs;
}
OpAttrs conv2d_attrs(const Conv2dOptions& o, std::array<std::int64_t, 2> extent) {
  OpAttrs attrs = conv2d_attrs(o);
  attrs.ints.insert(attrs.ints.end(), {extent[0], extent[1]});
  return attrs;
}

Conv2dOptions options_of(const Conv2dGeometry& g) {
  return {{g.stride_h, g.stride_w}, {g.pad_h, g.pad_w}, {g.dilation_h, g.dilation_w}, g.groups};
}

std::string geometry_text(const Conv2dGeometry& g) {
  auto pair = [](std::int64_t a, std::int64_t b) {
    return "(" + std::to_string(a) + ", " + std::to_string(b) + ")";
  };
  return "stride " + pair(g.stride_h, g.stride_w) + ", padding " + pair(g.pad_h, g.pad_w) +
         ", dilation " + pair(g.dilation_h, g.dilation_w) + ", groups " + std::to_string(g.groups);
}

void check_geometry(const Conv2dGeometry& g) {
  if (g.stride_h < 1 || g.stride_w < 1 || g.dilation_h < 1 || g.dilation_w < 1 || g.pad_h < 0 ||
      g.pad_w < 0 || g.groups < 1) {
    throw Error("convolution with " + geometry_text(g) +
                ": strides, dilations and groups must be at least 1 and padding at least 0");
  }
}

// Output extent along one axis, or a value below 1 where the dilated kernel does not fit.
std::int64_t output_extent(std::int64_t in, std::int64_t kernel, std::int64_t stride,
                           std::int64_t pad, std::int64_t dilation) {
  const std::int64_t span = dilation * (kernel - 1) + 1;
  if (in + 2 * pad < span) return 0;
  return (in + 2 * pad - span) / stride + 1;
}

// Every extent of one convolution, from the input, weight and output shapes.
struct ConvDims {
  std::int64_t batch = 0, in_channels = 0, height = 0, width = 0;
  std::int64_t out_channels = 0, kernel_h = 0, kernel_w = 0, out_h = 0, out_w = 0;
  std::int64_t groups = 1;
  std::int64_t in_per_group() const { return in_channels / groups; }
  std::int64_t out_per_group() const { return out_channels / groups; }
  std::int64_t patch() const { return in_per_group() * kernel_h * kernel_w; }  // GEMM k
  std::int64_t out_plane() const { return out_h * out_w; }
  std::int64_t in_plane() const { return height * width; }
  double multiply_adds() const {
    return static_cast<double>(batch) * static_cast<double>(out_channels) *
           static_cast<double>(out_plane()) * static_cast<double>(patch());
  }
};

ConvDims dims_of(const Shape& x, const Shape& w, const Shape& y, const Conv2dGeometry& g) {
  return {x[0], x[1], x[2], x[3], w[0], w[2], w[3], y[2], y[3], g.groups};
}

// Checks x [N, C, H, W] and w [out, C / groups, kh, kw] and returns y's shape. `who` names the op
// in the message.
Shape convolution_output(const std::string& who, const Shape& x, const Shape& w,
                         const Conv2dGeometry& g) {
  check_geometry(g);
  if (x.rank() != 4 || w.rank() != 4) {
    throw Error(who + " takes an input [N, C, H, W] and weights [out, C / groups, kh, kw], got " +
                x.to_string() + " and " + w.to_string() +
                "; reshape a single image to [1, C, H, W]");
  }
  if (w[0] % g.groups != 0 || w[1] * g.groups != x[1]) {
    throw Error(who + " of input " + x.to_string() + " with weights " + w.to_string() +
                " and groups " + std::to_string(g.groups) + ": the input has " +
                std::to_string(x[1]) + " channels, the weights expect " +
                std::to_string(w[1] * g.groups) + " (weight axis 1 times groups), for " +
                std::to_string(w[0]) +
                " outputs (a multiple of groups); weights are laid out [out, in / groups, kh, kw]");
  }
  const std::int64_t oh = output_extent(x[2], w[2], g.stride_h, g.pad_h, g.dilation_h);
  const std::int64_t ow = output_extent(x[3], w[3], g.stride_w, g.pad_w, g.dilation_w);
  if (w[2] < 1 || w[3] < 1 || oh < 1 || ow < 1) {
    throw Error(who + " of input " + x.to_string() + " with weights " + w.to_string() + " and " +
                geometry_text(g) +
                ": the dilated kernel does not fit the padded image; pad more or use a "
                "smaller kernel");
  }
  return Shape{x[0], w[0], oh, ow};
}

void check_blas_extents(const ConvDims& d) {
  const std::int64_t largest =
      std::max({d.patch(), d.out_plane(), d.out_per_group(), d.in_plane()});
  if (largest > INT_MAX) {
    throw Error("convolution extent " + std::to_string(largest) +
                " exceeds the BLAS integer range (2^31 - 1); use smaller images");
  }
}

// ---- im2col: the patch matrix [C/groups * kh * kw, OH * OW] of one image and group

// Output columns ow whose input column ow * stride + offset lies in [0, extent): [first, last).
std::pair<std::int64_t, std::int64_t> valid_outputs(std::int64_t offset, std::int64_t stride,
                                                    std::int64_t extent, std::int64_t outputs) {
  std::int64_t first = offset >= 0 ? 0 : (-offset + stride - 1) / stride;
  std::int64_t last = extent - offset <= 0 ? 0 : (extent - offset - 1) / stride + 1;
  first = std::min(first, outputs);
  last = std::clamp(last, first, outputs);
  return {first, last};
}

template <class T>
void im2col(const T* x, const ConvDims& d, const Conv2dGeometry& g, T* col) {
  const std::int64_t cg = d.in_per_group(), ow_count = d.out_w;
  for (std::int64_t c = 0; c < cg; ++c) {
    for (std::int64_t i = 0; i < d.kernel_h; ++i) {
      for (std::int64_t j = 0; j < d.kernel_w; ++j) {
        T* row = col + ((c * d.kernel_h + i) * d.kernel_w + j) * d.out_plane();
        const std::int64_t col_offset = j * g.dilation_w - g.pad_w;
        const auto [first, last] = valid_outputs(col_offset, g.stride_w, d.width, ow_count);
        for (std::int64_t oh = 0; oh < d.out_h; ++oh) {
          T* out = row + oh * ow_count;
          const std::int64_t ih = oh * g.stride_h - g.pad_h + i * g.dilation_h;
          if (ih < 0 || ih >= d.height) {
            std::fill(out, out + ow_count, T(0));
            continue;
          }
          const T* in = x + (c * d.height + ih) * d.width + col_offset;
          std::fill(out, out + first, T(0));
          if (g.stride_w == 1) {
            std::copy(in + first, in + last, out + first);
          } else {
            for (std::int64_t ow = first; ow < last; ++ow) out[ow] = in[ow * g.stride_w];
          }
          std::fill(out + last, out + ow_count, T(0));
        }
      }
    }
  }
}

// The reverse: adds the patch matrix back into the image (dx += col2im(dcol)), in a fixed order.
template <class T>
void col2im(const T* col, const ConvDims& d, const Conv2dGeometry& g, T* x) {
  const std::int64_t cg = d.in_per_group(), ow_count = d.out_w;
  for (std::int64_t c = 0; c < cg; ++c) {
    for (std::int64_t i = 0; i < d.kernel_h; ++i) {
      for (std::int64_t j = 0; j < d.kernel_w; ++j) {
        const T* row = col + ((c * d.kernel_h + i) * d.kernel_w + j) * d.out_plane();
        const std::int64_t col_offset = j * g.dilation_w - g.pad_w;
        const auto [first, last] = valid_outputs(col_offset, g.stride_w, d.width, ow_count);
        for (std::int64_t oh = 0; oh < d.out_h; ++oh) {
          const std::int64_t ih = oh * g.stride_h - g.pad_h + i * g.dilation_h;
          if (ih < 0 || ih >= d.height) continue;
          const T* in = row + oh * ow_count;
          T* out = x + (c * d.height + ih) * d.width + col_offset;
          for (std::int64_t ow = first; ow < last; ++ow) out[ow * g.stride_w] += in[ow];
        }
      }
    }
  }
}

// A 1x1 kernel with stride 1 and no padding reads the image itself as its patch matrix.
bool patch_is_image(const ConvDims& d, const Conv2dGeometry& g) {
  return d.kernel_h == 1 && d.kernel_w == 1 && g.stride_h == 1 && g.stride_w == 1 && g.pad_h == 0 &&
         g.pad_w == 0;
}

// The patch matrix of image n, group gi: the image itself, or im2col into this thread's buffer,
// which is reused from call to call (kernels allocate nothing once warm).
template <class T>
const T* patches(const T* x, std::int64_t n, std::int64_t gi, const ConvDims& d,
                 const Conv2dGeometry& g) {
  const T* image = x + (n * d.in_channels + gi * d.in_per_group()) * d.in_plane();
  if (patch_is_image(d, g)) return image;
  thread_local std::vector<T> buffer;
  buffer.resize(static_cast<std::size_t>(d.patch() * d.out_plane()));
  im2col(image, d, g, buffer.data());
  return buffer.data();
}

// About 45 multiply-adds per nanosecond through OpenBLAS (matmul's figure) plus the patch
// matrix, written and read once at about 1 ns per element.
double convolution_nanoseconds(const ConvDims& d) {
  constexpr double kMultiplyAddsPerNanosecond = 45, kCallNanoseconds = 250;
  const double patch_elements = static_cast<double>(d.batch * d.groups) *
                                static_cast<double>(d.patch()) * static_cast<double>(d.out_plane());
  return d.multiply_adds() / kMultiplyAddsPerNanosecond + patch_elements +
         kCallNanoseconds * static_cast<double>(d.batch * d.groups);
}

// ---- conv2d

Shape conv2d_shape(const ShapeQuery& q) {
  const Conv2dGeometry g = conv2d_geometry(q.attrs);
  if (q.inputs.size() != 2 && q.inputs.size() != 3) {
    throw Error("conv2d takes an input, weights and an optional bias, got " +
                std::to_string(q.inputs.size()) + " inputs");
  }
  const Shape y = convolution_output("conv2d", q.inputs[0], q.inputs[1], g);
  if (q.inputs.size() == 3 && !(q.inputs[2] == Shape{y[1]})) {
    throw Error("conv2d bias " + q.inputs[2].to_string() + " must be [" + std::to_string(y[1]) +
                "], one value per output channel of weights " + q.inputs[1].to_string());
  }
  return y;
}

template <class T>
void conv2d_forward(const KernelCall& c) {
  const Conv2dGeometry g = conv2d_geometry(c.attrs);
  const ConvDims d = dims_of(*c.inputs[0].shape, *c.inputs[1].shape, *c.output.shape, g);
  check_blas_extents(d);
  use_single_threaded_blas();
  const T* x = c.inputs[0].as<T>();
  const T* w = c.inputs[1].as<T>();
  const T* bias = c.inputs.size() == 3 ? c.inputs[2].as<T>() : nullptr;
  T* y = c.output.as<T>();
  const std::int64_t og = d.out_per_group(), k = d.patch(), plane = d.out_plane();
  for_each_chunk(
      d.batch * d.groups,
      [&](std::int64_t begin, std::int64_t end) {
        for (std::int64_t task = begin; task < end; ++task) {
          const std::int64_t n = task / d.groups, gi = task % d.groups;
          const T* col = patches(x, n, gi, d, g);
          T* out = y + (n * d.out_channels + gi * og) * plane;
          gemm(false, false, og, plane, k, w + gi * og * k, k, col, plane, out, plane);
          if (bias == nullptr) continue;
          for (std::int64_t o = 0; o < og; ++o) {
            const T b = bias[gi * og + o];
            for (std::int64_t p = 0; p < plane; ++p) out[o * plane + p] += b;
          }
        }
      },
      static_cast<std::int64_t>(2.0 * static_cast<double>(og * k * plane)));
}

double conv2d_work(std::span<const KernelArg> operands) {
  const Shape& x = *operands[0].shape;
  const Shape& w = *operands[1].shape;
  const Shape& y = *operands.back().shape;
  const std::int64_t groups = w[1] == 0 ? 1 : x[1] / w[1];
  return convolution_nanoseconds({x[0], x[1], x[2], x[3], w[0], w[2], w[3], y[2], y[3], groups});
}

void conv2d_vjp(GradContext& c) {
  const Conv2dGeometry g = conv2d_geometry(c.attrs());
  const Conv2dOptions o = options_of(g);
  const Expr x = c.input(0), w = c.input(1), grad = c.grad_output();
  if (c.wanted(0)) c.set(0, conv2d_input_grad(grad, w, {x.shape()[2], x.shape()[3]}, o));
  if (c.wanted(1)) c.set(1, conv2d_weight_grad(x, grad, {w.shape()[2], w.shape()[3]}, o));
  if (c.num_inputs() == 3 && c.wanted(2)) {
    const std::int64_t out = w.shape()[0];
    c.set(2, reshape(sum_to(grad, Shape{1, out, 1, 1}), {out}));
  }
}

// ---- conv2d_input_grad: dx [N, C, H, W] from g [N, out, OH, OW] and w

Shape conv2d_input_grad_shape(const ShapeQuery& q) {
  const Conv2dGeometry g = conv2d_geometry(q.attrs);
  const Shape& grad = q.inputs[0];
  const Shape& w = q.inputs[1];
  if (grad.rank() != 4 || w.rank() != 4 || g.extent_h < 1 || g.extent_w < 1) {
    throw Error(
        "conv2d_input_grad takes an output gradient [N, out, OH, OW], weights [out, in / "
        "groups, kh, kw] and the input's height and width, got " +
        grad.to_string() + ", " + w.to_string() + " and " + std::to_string(g.extent_h) + " x " +
        std::to_string(g.extent_w));
  }
  const Shape x{grad[0], w[1] * g.groups, g.extent_h, g.extent_w};
  const Shape y = convolution_output("conv2d_input_grad", x, w, g);
  if (!(y == grad)) {
    throw Error("conv2d_input_grad: the output gradient is " + grad.to_string() +
                " but conv2d of an input " + x.to_string() + " with weights " + w.to_string() +
                " and " + geometry_text(g) + " gives " + y.to_string() +
                "; pass the gradient of that convolution's output");
  }
  return x;
}

template <class T>
void conv2d_input_grad_forward(const KernelCall& c) {
  const Conv2dGeometry g = conv2d_geometry(c.attrs);
  const ConvDims d = dims_of(*c.output.shape, *c.inputs[1].shape, *c.inputs[0].shape, g);
  check_blas_extents(d);
  use_single_threaded_blas();
  const T* grad = c.inputs[0].as<T>();
  const T* w = c.inputs[1].as<T>();
  T* dx = c.output.as<T>();
  const std::int64_t og = d.out_per_group(), k = d.patch(), plane = d.out_plane();
  for_each_chunk(
      d.batch * d.groups,
      [&](std::int64_t begin, std::int64_t end) {
        for (std::int64_t task = begin; task < end; ++task) {
          const std::int64_t n = task / d.groups, gi = task % d.groups;
          const T* g_block = grad + (n * d.out_channels + gi * og) * plane;
          T* image = dx + (n * d.in_channels + gi * d.in_per_group()) * d.in_plane();
          // dcol = W_g^T G: the gradient of each patch matrix entry.
          if (patch_is_image(d, g)) {
            gemm(true, false, k, plane, og, w + gi * og * k, k, g_block, plane, image, plane);
            continue;
          }
          thread_local std::vector<T> dcol;
          dcol.resize(static_cast<std::size_t>(k * plane));
          gemm(true, false, k, plane, og, w + gi * og * k, k, g_block, plane, dcol.data(), plane);
          std::fill(image, image + d.in_per_group() * d.in_plane(), T(0));
          col2im(dcol.data(), d, g, image);
        }
      },
      static_cast<std::int64_t>(2.0 * static_cast<double>(og * k * plane)));
}

double conv2d_input_grad_work(std::span<const KernelArg> operands) {
  const Shape& grad = *operands[0].shape;
  const Shape& w = *operands[1].shape;
  const Shape& x = *operands[2].shape;
  const std::int64_t groups = w[1] == 0 ? 1 : x[1] / w[1];
  return convolution_nanoseconds(
      {x[0], x[1], x[2], x[3], w[0], w[2], w[3], grad[2], grad[3], groups});
}

// dx = A_w^T g is linear in g and in w: <u, dx> = <conv2d(u, w), g>.
void conv2d_input_grad_vjp(GradContext& c) {
  const Conv2dGeometry g = conv2d_geometry(c.attrs());
  const Conv2dOptions o = options_of(g);
  const Expr grad = c.input(0), w = c.input(1), u = c.grad_output();
  if (c.wanted(0)) c.set(0, conv2d(u, w, o));
  if (c.wanted(1)) c.set(1, conv2d_weight_grad(u, grad, {w.shape()[2], w.shape()[3]}, o));
}

// ---- conv2d_weight_grad: dw [out, C / groups, kh, kw] from x and g

Shape conv2d_weight_grad_shape(const ShapeQuery& q) {
  const Conv2dGeometry g = conv2d_geometry(q.attrs);
  const Shape& x = q.inputs[0];
  const Shape& grad = q.inputs[1];
  if (x.rank() != 4 || grad.rank() != 4 || g.extent_h < 1 || g.extent_w < 1 ||
      x[1] % g.groups != 0) {
    throw Error("conv2d_weight_grad takes an input [N, C, H, W] (C a multiple of groups " +
                std::to_string(g.groups) + "), an output gradient [N, out, OH, OW] and the " +
                "kernel's height and width, got " + x.to_string() + ", " + grad.to_string() +
                " and " + std::to_string(g.extent_h) + " x " + std::to_string(g.extent_w));
  }
  const Shape w{grad[1], x[1] / g.groups, g.extent_h, g.extent_w};
  const Shape y = convolution_output("conv2d_weight_grad", x, w, g);
  if (!(y == grad)) {
    throw Error("conv2d_weight_grad: the output gradient is " + grad.to_string() +
                " but conv2d of the input " + x.to_string() + " with weights " + w.to_string() +
                " and " + geometry_text(g) + " gives " + y.to_string() +
                "; pass the gradient of that convolution's output");
  }
  return w;
}

// Images per run of the weight gradient: runs of at least kRunMultiplyAdds, so that a big batch
// splits over threads while each run's sum stays a long GEMM; fixed by the shapes alone.
constexpr double kRunMultiplyAdds = double{1 << 23};

std::int64_t images_per_run(const ConvDims& d) {
  const double per_image = static_cast<double>(d.out_per_group()) * static_cast<double>(d.patch()) *
                           static_cast<double>(d.out_plane());
  const double images = per_image <= 0 ? 1.0 : std::ceil(kRunMultiplyAdds / per_image);
  return std::clamp<std::int64_t>(static_cast<std::int64_t>(images), 1,
                                  std::max<std::int64_t>(d.batch, 1));
}

template <class T>
void conv2d_weight_grad_forward(const KernelCall& c) {
  const Conv2dGeometry g = conv2d_geometry(c.attrs);
  const ConvDims d = dims_of(*c.inputs[0].shape, *c.output.shape, *c.inputs[1].shape, g);
  check_blas_extents(d);
  use_single_threaded_blas();
  const T* x = c.inputs[0].as<T>();
  const T* grad = c.inputs[1].as<T>();
  T* dw = c.output.as<T>();
  const std::int64_t og = d.out_per_group(), k = d.patch(), plane = d.out_plane();
  const std::int64_t group_size = og * k;
  if (d.batch == 0) {
    std::fill(dw, dw + c.output.numel(), T(0));
    return;
  }
  const std::int64_t run = images_per_run(d);
  const std::int64_t runs = (d.batch + run - 1) / run;
  // Run r's sum for group gi; run 0 writes into dw itself.
  std::vector<T> partial(static_cast<std::size_t>((runs - 1) * d.groups * group_size));
  auto sum_of = [&](std::int64_t r, std::int64_t gi) {
    return r == 0 ? dw + gi * group_size : partial.data() + ((r - 1) * d.groups + gi) * group_size;
  };
  for_each_chunk(
      runs * d.groups,
      [&](std::int64_t begin, std::int64_t end) {
        for (std::int64_t task = begin; task < end; ++task) {
          const std::int64_t r = task / d.groups, gi = task % d.groups;
          T* out = sum_of(r, gi);
          const std::int64_t last = std::min(d.batch, (r + 1) * run);
          for (std::int64_t n = r * run; n < last; ++n) {
            // dW_g += G_n col_n^T, images in increasing order.
            const T* col = patches(x, n, gi, d, g);
            const T* g_block = grad + (n * d.out_channels + gi * og) * plane;
            gemm(false, true, og, k, plane, g_block, plane, col, plane, out, k,
                 n == r * run ? T(0) : T(1));
          }
        }
      },
      static_cast<std::int64_t>(2.0 * static_cast<double>(run * og * k * plane)));
  // The runs' sums, added in run order.
  for (std::int64_t r = 1; r < runs; ++r) {
    for (std::int64_t gi = 0; gi < d.groups; ++gi) {
      const T* s = sum_of(r, gi);
      T* out = dw + gi * group_size;
      for (std::int64_t i = 0; i < group_size; ++i) out[i] += s[i];
    }
  }
}

double conv2d_weight_grad_work(std::span<const KernelArg> operands) {
  const Shape& x = *operands[0].shape;
  const Shape& grad = *operands[1].shape;
  const Shape& w = *operands[2].shape;
  const std::int64_t groups = w[1] == 0 ? 1 : x[1] / w[1];
  return convolution_nanoseconds(
      {x[0], x[1], x[2], x[3], w[0], w[2], w[3], grad[2], grad[3], groups});
}

// dw is bilinear in x and g: <u, dw> = <conv2d(x, u), g>.
void conv2d_weight_grad_vjp(GradContext& c) {
  const Conv2dGeometry g = conv2d_geometry(c.attrs());
  const Conv2dOptions o = options_of(g);
  const Expr x = c.input(0), grad = c.input(1), u = c.grad_output();
  if (c.wanted(0)) c.set(0, conv2d_input_grad(grad, u, {x.shape()[2], x.shape()[3]}, o));
  if (c.wanted(1)) c.set(1, conv2d(x, u, o));
}

constexpr std::string_view kConvNotes =
    "im2col and OpenBLAS GEMM in tasks fixed by the shapes (an image and group; the weight "
    "gradient sums fixed runs of images in order): the same bits at any thread count";

}  // namespace

const OpDef& op_def_conv2d() {
  static constexpr OpDef def{
      .name = "conv2d",
      .arity = -1,
      .shape = conv2d_shape,
      DAGPROP_KERNELS(conv2d_forward),
      .vjp = conv2d_vjp,
      .work = conv2d_work,
      .forward_doc =
          "y[n, o, i, j] = b[o] + sum_{c, p, q} w[o, c, p, q] x[n, g C/G + c, i s - pad + p d, "
          "j s - pad + q d] (NCHW, zero padding, group g of o)",
      .gradient_doc =
          "dx = conv2d_input_grad(g, w), dw = conv2d_weight_grad(x, g), db = sum of g "
          "over N, H, W",
      .notes_doc = kConvNotes,
      .operand_names = "x, w, bias",
      .attributes = kConv2dAttributes};
  static_assert(op_definition_is_complete(def));
  return def;
}

const OpDef& op_def_conv2d_input_grad() {
  static constexpr OpDef def{
      .name = "conv2d_input_grad",
      .arity = 2,
      .shape = conv2d_input_grad_shape,
      DAGPROP_KERNELS(conv2d_input_grad_forward),
      .vjp = conv2d_input_grad_vjp,
      .work = conv2d_input_grad_work,
      .forward_doc = "dx = the transpose of conv2d(., w) applied to g (col2im of W^T G)",
      .gradient_doc = "dg = conv2d(u, w), dw = conv2d_weight_grad(u, g)",
      .notes_doc = kConvNotes,
      .operand_names = "g, w",
      .attributes = kConv2dInputGradAttributes};
  static_assert(op_definition_is_complete(def));
  return def;
}

const OpDef& op_def_conv2d_weight_grad() {
  static constexpr OpDef def{.name = "conv2d_weight_grad",
                             .arity = 2,
                             .shape = conv2d_weight_grad_shape,
                             DAGPROP_KERNELS(conv2d_weight_grad_forward),
                             .vjp = conv2d_weight_grad_vjp,
                             .work = conv2d_weight_grad_work,
                             .forward_doc = "dw = sum over images of G_n im2col(x_n)^T, per group",
                             .gradient_doc = "dx = conv2d_input_grad(g, u), dg = conv2d(x, u)",
                             .notes_doc = kConvNotes,
                             .operand_names = "x, g",
                             .attributes = kConv2dWeightGradAttributes};
  static_assert(op_definition_is_complete(def));
  return def;
}

}  // namespace ops

Expr conv2d(Expr x, Expr w, const Conv2dOptions& options) {
  return ops::make(OpCode::conv2d, {x, w}, ops::conv2d_attrs(options));
}
Expr conv2d(Expr x, Expr w, Expr bias, const Conv2dOptions& options) {
  return ops::make(OpCode::conv2d, {x, w, bias}, ops::conv2d_attrs(options));
}
Expr conv2d_input_grad(Expr g, Expr w, std::array<std::int64_t, 2> input_hw,
                       const Conv2dOptions& options) {
  return ops::make(OpCode::conv2d_input_grad, {g, w}, ops::conv2d_attrs(options, input_hw));
}
Expr conv2d_weight_grad(Expr x, Expr g, std::array<std::int64_t, 2> kernel_hw,
                        const Conv2dOptions& options) {
  return ops::make(OpCode::conv2d_weight_grad, {x, g}, ops::conv2d_attrs(options, kernel_hw));
}

}  // namespace dagprop
