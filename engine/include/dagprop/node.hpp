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

// The storage of an op instance's attributes, interned per graph (nodes without attributes share
// one). What a field means is not fixed here: each op declares its attributes by name, kind and
// slot (OpDef::attributes, <dagprop/attributes.hpp>), and reads only the fields it declares.
struct OpAttrs {
  double scalar = 0.0;  // one number (leaky_relu's slope, elu's alpha, pow's exponent)
  int axis = -1;        // up to two axes (a reduction's, transpose's pair)
  int axis2 = -2;
  bool keepdim = false;
  bool all_axes = true;
  Shape shape;  // a target shape (reshape, broadcast_to, sum_to)
  // Integers and booleans of ops that take several (conv2d: stride, padding, dilation, groups;
  // pooling windows; slices; matmul's transposes; one_hot's class count).
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
