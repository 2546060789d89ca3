// A node of the graph arena: op, inputs (a slice of one flat array), shape, dtype, name and scope.
#pragma once

#include <cstdint>
#include <limits>
#include <vector>

#include <dagprop/export.hpp>
#include <dagprop/shape.hpp>

DAGPROP_API_BEGIN
namespace dagprop {

using NodeId = std::uint32_t;
using OpId = std::uint16_t;
inline constexpr NodeId kNoNode = std::numeric_limits<NodeId>::max();

// Attributes of an op instance (slope, axis, target shape...). Nodes without attributes share one.
struct OpAttrs {
  double scalar = 0.0;  // leaky_relu slope, elu alpha, pow exponent, scale factor
  int axis = -1;        // reductions, transpose (with axis2)
  int axis2 = -2;
  bool keepdim = false;
  bool all_axes = true;  // reductions: reduce everything (axis ignored)
  Shape shape;           // reshape, broadcast_to, sum_to, constant fill
  // Integer parameters of ops that take several (conv2d: stride, padding, dilation, groups;
  // pooling windows; slices). Each op's unit gives them names through a typed view of its own.
  std::vector<std::int64_t> ints;

  friend bool operator==(const OpAttrs&, const OpAttrs&) = default;
};

enum class NodeFlags : std::uint8_t {
  none = 0,
  requires_grad = 1,  // an input whose gradient backward() fills
  gradient = 2,       // built by grad(): part of a backward graph
  class_labels = 4,   // an input of class indices (Graph::labels): checked when fed
};
constexpr NodeFlags operator|(NodeFlags a, NodeFlags b) {
  return static_cast<NodeFlags>(static_cast<std::uint8_t>(a) | static_cast<std::uint8_t>(b));
}
constexpr bool has_flag(NodeFlags set, NodeFlags flag) {
  return (static_cast<std::uint8_t>(set) & static_cast<std::uint8_t>(flag)) != 0;
}

// 32 bytes: shapes, names, scopes and attributes are interned, so a chain of ten million scalar
// nodes stays under half a gigabyte.
struct Node {
  OpId op = 0;
  DType dtype = DType::f64;
  NodeFlags flags = NodeFlags::none;
  std::uint32_t shape_id = 0;
  std::uint32_t first_input = 0;  // into Graph's flat input array
  std::uint32_t num_inputs = 0;
  std::uint32_t attrs_id = 0;   // 0: default attributes
  std::uint32_t name_id = 0;    // 0: unnamed
  std::uint32_t scope_id = 0;   // 0: top level
  std::uint32_t leaf_slot = 0;  // leaves: index into the graph's value and gradient slots
};

}  // namespace dagprop
DAGPROP_API_END
