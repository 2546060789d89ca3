// dropout(x, step): zeroes each element with probability p and scales the others by 1 / (1 - p).
// The mask is counter-based: element i keeps its value when the i-th draw of SplitMix64 keyed by
// (seed, step) is at least p, so it depends only on the seed, the step and the position -- never
// on how the kernel is split over threads. The gradient is dropout of g with the same seed and
// step: the same mask.
#include <cmath>

#include "op_helpers.hpp"

namespace dagprop {
namespace ops {
namespace {

// dropout's attributes: scalar = p, ints = {seed}.
constexpr AttrSpec kDropoutAttributes[] = {
    {.name = "p",
     .kind = AttrKind::number,
     .slot = {.field = AttrField::scalar},
     .default_value = 0.5,
     .doc = "the probability of zeroing an element, in [0, 1)"},
    {.name = "seed",
     .kind = AttrKind::integer,
     .slot = {.field = AttrField::ints, .first = 0},
     .doc = "keys the mask with the step; a uint64 seed is stored as the int64 of its bits"}};

struct DropoutParams {
  double p;
  std::uint64_t seed;
  static DropoutParams of(const OpAttrs& attrs) {
    return {attrs.scalar, static_cast<std::uint64_t>(attrs.ints.at(0))};
  }
};

constexpr std::uint64_t kGolden = 0x9E3779B97F4A7C15ULL;

std::uint64_t mix64(std::uint64_t z) {
  z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ULL;
  z = (z ^ (z >> 27)) * 0x94D049BB133111EBULL;
  return z ^ (z >> 31);
}

Shape dropout_shape(const ShapeQuery& q) {
  if (!q.inputs[1].is_scalar()) {
    throw Error("dropout needs a scalar step counter as its second input, got " +
                q.inputs[1].to_string());
  }
  if (!(q.attrs.scalar >= 0 && q.attrs.scalar < 1)) {
    throw Error("dropout probability " + std::to_string(q.attrs.scalar) +
                " is outside [0, 1); use a probability below 1");
  }
  if (q.attrs.ints.size() != 1) {
    throw Error(
        "dropout needs its seed (attribute 'seed') as the one integer of OpAttrs::ints, got " +
        std::to_string(q.attrs.ints.size()) + " integers");
  }
  return q.inputs[0];
}

template <class T>
void dropout_forward(const KernelCall& c) {
  const DropoutParams params = DropoutParams::of(c.attrs);
  const T step = c.inputs[1].as<T>()[0];
  if (!(step >= T(0)) || step != std::floor(step)) {
    throw Error("dropout step " + std::to_string(static_cast<double>(step)) +
                " is not a whole number >= 0; the step counter counts training steps");
  }
  // The key of this (seed, step): the stream element i of SplitMix64(key) is mix64(key + (i+1) k).
  const std::uint64_t key = mix64(params.seed ^ mix64(static_cast<std::uint64_t>(step) + kGolden));
  const T* x = c.inputs[0].as<T>();
  T* y = c.output.as<T>();
  const T keep_scale = static_cast<T>(1.0 / (1.0 - params.p));
  const double p = params.p;
  for_each_element_chunk(c.output.numel(), [&](std::int64_t begin, std::int64_t end) {
    for (std::int64_t i = begin; i < end; ++i) {
      const std::uint64_t bits = mix64(key + static_cast<std::uint64_t>(i + 1) * kGolden);
      const double u = static_cast<double>(bits >> 11) * 0x1.0p-53;
      y[i] = u >= p ? x[i] * keep_scale : T(0);
    }
  });
}

void dropout_vjp(GradContext& c) {
  c.set(0, make(OpCode::dropout, {c.grad_output(), c.input(1)}, c.attrs()));
}

}  // namespace

const OpDef& op_def_dropout() {
  static constexpr OpDef def{
      .name = "dropout",
      .arity = 2,
      .shape = dropout_shape,
      DAGPROP_KERNELS(dropout_forward),
      .vjp = dropout_vjp,
      .nondifferentiable_inputs = 0b10,
      .cost_per_element = 4,
      .forward_doc = "y = mask x / (1 - p), mask_i = (draw_i(seed, step) >= p)",
      .gradient_doc = "dx = dropout(g, step): the same mask and scale",
      .notes_doc =
          "p in [0, 1); the mask depends on seed, "
          "step and position only (the same at any thread count); the step input is a "
          "whole number that the Dropout layer advances per training step",
      .operand_names = "x, step",
      .attributes = kDropoutAttributes};
  static_assert(op_definition_is_complete(def));
  return def;
}

}  // namespace ops

Expr dropout(Expr x, Expr step, double p, std::uint64_t seed) {
  OpAttrs attrs;
  attrs.scalar = p;
  // Stored as int64 (the graph file's integers); the bits round-trip.
  attrs.ints = {static_cast<std::int64_t>(seed)};
  return ops::make(OpCode::dropout, {x, step}, attrs);
}

}  // namespace dagprop
