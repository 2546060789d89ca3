// What the pooling units share: their geometry in OpAttrs::ints, the pooled shape rule and the
// loop over feature maps. Private to ops/.
#pragma once

#include <cmath>

#include "op_helpers.hpp"

namespace dagprop::ops {

// OpAttrs::ints = {kernel h, w, stride h, w, padding h, w}, and for avg_pool2d_grad two more, the
// extent: the input's height and width.
struct Pool2dGeometry {
  std::int64_t kernel_h = 2, kernel_w = 2, stride_h = 2, stride_w = 2, pad_h = 0, pad_w = 0;
  std::int64_t extent_h = 0, extent_w = 0;
};

inline constexpr std::size_t kPool2dInts = 6;
inline constexpr std::size_t kPool2dGradInts = 8;

// The attributes of every pooling op; avg_pool2d_grad adds its extent.
#define DAGPROP_POOL2D_ATTRIBUTES                                                      \
  {.name = "kernel",                                                                   \
   .kind = AttrKind::integers,                                                         \
   .slot = {.field = AttrField::ints, .first = 0, .count = 2},                         \
   .default_value = 2,                                                                 \
   .doc = "the window's height and width",                                             \
   .min = 1},                                                                          \
      {.name = "stride",                                                               \
       .kind = AttrKind::integers,                                                     \
       .slot = {.field = AttrField::ints, .first = 2, .count = 2},                     \
       .doc = "steps of the window over height and width; 0: the kernel's size",       \
       .min = 0},                                                                      \
  {                                                                                    \
    .name = "padding", .kind = AttrKind::integers,                                     \
    .slot = {.field = AttrField::ints, .first = 4, .count = 2},                        \
    .doc = "rows and columns added on each side, never chosen by the window", .min = 0 \
  }
inline constexpr AttrSpec kPool2dAttributes[] = {DAGPROP_POOL2D_ATTRIBUTES};
inline constexpr AttrSpec kPool2dGradAttributes[] = {
    DAGPROP_POOL2D_ATTRIBUTES,
    {.name = "extent",
     .kind = AttrKind::integers,
     .slot = {.field = AttrField::ints, .first = 6, .count = 2},
     .doc = "the height and width of the input whose gradient this is",
     .min = 0}};
#undef DAGPROP_POOL2D_ATTRIBUTES

inline Pool2dGeometry pool2d_geometry(const OpAttrs& attrs) {
  if (attrs.ints.size() != kPool2dInts && attrs.ints.size() != kPool2dGradInts) {
    throw Error(
        "a pooling node needs 6 integer attributes (kernel h w, stride h w, padding h w), and "
        "avg_pool2d_grad 2 more (extent h w), got " +
        std::to_string(attrs.ints.size()) + "; build it with max_pool2d() or avg_pool2d()");
  }
  const auto& v = attrs.ints;
  const bool extent = v.size() == kPool2dGradInts;
  // A stride of 0 is the kernel's size, as the builders take it.
  return {v[0], v[1], v[2] == 0 ? v[0] : v[2], v[3] == 0 ? v[1] : v[3],
          v[4], v[5], extent ? v[6] : 0,       extent ? v[7] : 0};
}

// A stride of 0 means the kernel size.
inline OpAttrs pool2d_attrs(const Pool2dOptions& o) {
  OpAttrs attrs;
  attrs.ints = {o.kernel[0],
                o.kernel[1],
                o.stride[0] == 0 ? o.kernel[0] : o.stride[0],
                o.stride[1] == 0 ? o.kernel[1] : o.stride[1],
                o.padding[0],
                o.padding[1]};
  return attrs;
}
inline OpAttrs pool2d_attrs(const Pool2dOptions& o, std::array<std::int64_t, 2> extent) {
  OpAttrs attrs = pool2d_attrs(o);
  attrs.ints.insert(attrs.ints.end(), {extent[0], extent[1]});
  return attrs;
}

inline Pool2dOptions pool2d_options(const Pool2dGeometry& g) {
  return {{g.kernel_h, g.kernel_w}, {g.stride_h, g.stride_w}, {g.pad_h, g.pad_w}};
}

// [N, C, H, W] -> [N, C, OH, OW] with OH = (H + 2 pad - kernel) / stride + 1 (floor), or an error
// naming the op `who`, the shape and the geometry.
inline Shape pooled_shape(const std::string& who, const Shape& x, const Pool2dGeometry& g) {
  auto pair = [](std::int64_t a, std::int64_t b) {
    return "(" + std::to_string(a) + ", " + std::to_string(b) + ")";
  };
  const std::string geometry = "kernel " + pair(g.kernel_h, g.kernel_w) + ", stride " +
                               pair(g.stride_h, g.stride_w) + ", padding " + pair(g.pad_h, g.pad_w);
  if (x.rank() != 4) {
    throw Error(who + " takes images [N, C, H, W], got " + x.to_string() +
                "; reshape a single image to [1, C, H, W]");
  }
  if (g.kernel_h < 1 || g.kernel_w < 1 || g.stride_h < 1 || g.stride_w < 1 || g.pad_h < 0 ||
      g.pad_w < 0 || 2 * g.pad_h > g.kernel_h || 2 * g.pad_w > g.kernel_w) {
    throw Error(who + " of " + x.to_string() + " with " + geometry +
                ": kernels and strides must be at least 1 and padding between 0 and half the "
                "kernel (as in PyTorch)");
  }
  if (x[2] + 2 * g.pad_h < g.kernel_h || x[3] + 2 * g.pad_w < g.kernel_w) {
    throw Error(who + " of " + x.to_string() + " with " + geometry +
                ": the window is larger than the padded image; use a smaller kernel or pad more");
  }
  return Shape{x[0], x[1], (x[2] + 2 * g.pad_h - g.kernel_h) / g.stride_h + 1,
               (x[3] + 2 * g.pad_w - g.kernel_w) / g.stride_w + 1};
}

struct PoolDims {
  std::int64_t planes = 0, height = 0, width = 0, out_h = 0, out_w = 0;
  std::int64_t in_plane() const { return height * width; }
  std::int64_t out_plane() const { return out_h * out_w; }
};

inline PoolDims pool_dims(const Shape& x, const Shape& y) {
  return {x[0] * x[1], x[2], x[3], y[2], y[3]};
}

// f(plane) for every feature map; the maps are independent, so the split changes no result.
template <class F>
void for_each_plane(const PoolDims& d, const Pool2dGeometry& g, F&& f) {
  const std::int64_t cost = std::max<std::int64_t>(1, d.out_plane() * g.kernel_h * g.kernel_w);
  for_each_chunk(
      d.planes,
      [&](std::int64_t begin, std::int64_t end) {
        for (std::int64_t p = begin; p < end; ++p) f(p);
      },
      cost);
}

// About a nanosecond per window element, over the larger of the input and output maps.
inline double pool2d_work(std::span<const KernelArg> operands) {
  std::int64_t largest = 0;
  for (const KernelArg& a : operands) largest = std::max(largest, a.numel());
  return static_cast<double>(largest) * 2.0 + 250.0;
}

}  // namespace dagprop::ops
