// Shared pieces of the op units: common shape rules, elementwise and broadcasting kernels, and a
// builder shortcut. Private to ops/.
#pragma once

#include <algorithm>
#include <array>
#include <cmath>
#include <cstdint>
#include <initializer_list>
#include <string>
#include <type_traits>

#include <dagprop/error.hpp>
#include <dagprop/graph.hpp>
#include <dagprop/kernel_loops.hpp>
#include <dagprop/op_def.hpp>
#include <dagprop/ops.hpp>

namespace dagprop::ops {

// Each built-in op's definition, one per unit; the registry (registry.cpp) collects them in
// DAGPROP_BUILTIN_OPS order. Internal: users reach ops through the registry.
#define DAGPROP_OP_DECL(name) const OpDef& op_def_##name();
DAGPROP_BUILTIN_OPS(DAGPROP_OP_DECL)
#undef DAGPROP_OP_DECL

// Accumulator type of reductions: float sums are carried in double, so the result is accurate and
// does not depend on how the loop is split.
template <class T>
using Accumulator = double;

// ---- building
Expr make(OpCode op, std::initializer_list<Expr> inputs, const OpAttrs& attrs = {});
Expr scalar_like(Expr like, double value);  // a scalar constant of like's dtype

// ---- shape rules
Shape same_shape_as_first(const ShapeQuery& q);
Shape scalar_shape(const ShapeQuery& q);
// numpy broadcasting of all inputs; the error names both shapes and the axis that disagrees.
Shape broadcast_shapes(const Shape& a, const Shape& b);
Shape broadcast_inputs(const ShapeQuery& q);
// Two inputs that must have the same shape (fused gradients, losses).
Shape equal_shapes(const ShapeQuery& q);

// ---- kernels

// f(begin, end) over [0, n) for elementwise loops: chunks of at least kChunkWork elements, and no
// more than 64 of them, so that a 16M-element tensor is cut into 64 pieces of 1 MiB rather than
// 1024 of 64 KiB (at 2 threads that per-chunk overhead cost W5's sigmoid ~8 % of its bandwidth),
// while a 64K-element activation still splits for every thread. Elements are independent, so the
// split changes no result.
template <class F>
void for_each_element_chunk(std::int64_t n, F&& f) {
  constexpr std::int64_t kMaxChunks = 64;
  const std::int64_t chunk = std::max(kChunkWork, (n + kMaxChunks - 1) / kMaxChunks);
  for_each_chunk(
      (n + chunk - 1) / chunk,
      [&](std::int64_t first, std::int64_t last) { f(first * chunk, std::min(n, last * chunk)); },
      chunk);
}

// y = map(x) over a float tensor, split like the other elementwise kernels; `map` is a loop over a
// range, vectorized for this CPU (vector_math.hpp's FloatMap).
template <class Map>
void map_float_kernel(const KernelCall& call, Map map) {
  const float* x = call.inputs[0].as<float>();
  float* y = call.output.as<float>();
  for_each_element_chunk(call.output.numel(), [=](std::int64_t begin, std::int64_t end) {
    map(x + begin, y + begin, end - begin);
  });
}

template <class T, class F>
void unary_kernel(const KernelCall& call, F f) {
  const T* x = call.inputs[0].as<T>();
  T* y = call.output.as<T>();
  for_each_element_chunk(call.output.numel(), [&](std::int64_t begin, std::int64_t end) {
    for (std::int64_t i = begin; i < end; ++i) y[i] = f(x[i]);
  });
}

// Element offsets of an input broadcast to the output shape: stride 0 along broadcast axes.
std::array<std::int64_t, Shape::kMaxRank> broadcast_strides(const Shape& input,
                                                            const Shape& output);

template <class T, class F>
void binary_kernel(const KernelCall& call, F f) {
  const Shape& out = *call.output.shape;
  const Shape& sa = *call.inputs[0].shape;
  const Shape& sb = *call.inputs[1].shape;
  const T* a = call.inputs[0].as<T>();
  const T* b = call.inputs[1].as<T>();
  T* y = call.output.as<T>();
  const std::int64_t n = out.numel();
  if (sa == out && sb == out) {
    for_each_element_chunk(n, [&](std::int64_t begin, std::int64_t end) {
      for (std::int64_t i = begin; i < end; ++i) y[i] = f(a[i], b[i]);
    });
    return;
  }
  if (sb.numel() == 1 && sa == out) {
    const T bv = b[0];
    for_each_element_chunk(n, [&](std::int64_t begin, std::int64_t end) {
      for (std::int64_t i = begin; i < end; ++i) y[i] = f(a[i], bv);
    });
    return;
  }
  if (sa.numel() == 1 && sb == out) {
    const T av = a[0];
    for_each_element_chunk(n, [&](std::int64_t begin, std::int64_t end) {
      for (std::int64_t i = begin; i < end; ++i) y[i] = f(av, b[i]);
    });
    return;
  }
  // General case: walk the output rows; each row is a strided run through a and b.
  const auto stride_a = broadcast_strides(sa, out);
  const auto stride_b = broadcast_strides(sb, out);
  const int rank = out.rank();
  const std::int64_t inner = rank == 0 ? 1 : out[rank - 1];
  const std::int64_t ia = rank == 0 ? 0 : stride_a[static_cast<std::size_t>(rank - 1)];
  const std::int64_t ib = rank == 0 ? 0 : stride_b[static_cast<std::size_t>(rank - 1)];
  const std::int64_t rows = inner == 0 ? 0 : n / inner;
  for_each_chunk(
      rows,
      [&](std::int64_t row_begin, std::int64_t row_end) {
        for (std::int64_t row = row_begin; row < row_end; ++row) {
          std::int64_t off_a = 0, off_b = 0, rest = row;
          for (int d = rank - 2; d >= 0; --d) {
            const std::int64_t index = rest % out[d];
            rest /= out[d];
            off_a += index * stride_a[static_cast<std::size_t>(d)];
            off_b += index * stride_b[static_cast<std::size_t>(d)];
          }
          T* y_row = y + row * inner;
          for (std::int64_t j = 0; j < inner; ++j)
            y_row[j] = f(a[off_a + j * ia], b[off_b + j * ib]);
        }
      },
      inner);
}

// cost_per_element of the reductions that accumulate in float64 in fixed chunks (sum, mean,
// sum_to): measured at 0.6 ns per float, against 0.3 for tanh (cost 8).
inline constexpr double kFloat64AccumulationCost = 16;

// Instantiates a kernel template for both dtypes.
#define DAGPROP_KERNELS(kernel) .forward_f32 = &kernel<float>, .forward_f64 = &kernel<double>

}  // namespace dagprop::ops
