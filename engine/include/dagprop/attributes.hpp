// Named op attributes: each op declares its parameters (name, kind, default, doc) in a table next
// to its kernels, and says which field of the interned OpAttrs holds each. Kernels keep reading
// plain fields (no lookup on the hot path); graph files, Graph::apply by name, docs/ops.md and
// the Python package go through the table, so an op with a new parameter touches only its unit.
#pragma once

#include <cstdint>
#include <initializer_list>
#include <limits>
#include <span>
#include <string>
#include <string_view>
#include <type_traits>
#include <utility>
#include <variant>
#include <vector>

#include <dagprop/export.hpp>
#include <dagprop/node.hpp>
#include <dagprop/shape.hpp>

DAGPROP_API_BEGIN
namespace dagprop {

// What an attribute's value is.
enum class AttrKind : std::uint8_t {
  number,    // a double (NaN and infinities allowed)
  integer,   // an int64 within [min, max]
  boolean,   //
  shape,     // a Shape (at most Shape::kMaxRank dimensions)
  integers,  // a list of int64, each within [min, max]
};
std::string_view attr_kind_name(AttrKind kind);

// The OpAttrs field that stores an attribute.
enum class AttrField : std::uint8_t { scalar, axis, axis2, keepdim, all_axes, shape, ints };

// Where an attribute lives. `first` and `count` pick entries of OpAttrs::ints: an integer or a
// boolean takes one entry, an integers attribute `count` of them, or with count 0 every entry from
// `first` on (a list whose length the op decides, such as a slice's ranges: it must come last).
struct AttrSlot {
  AttrField field = AttrField::scalar;
  std::uint8_t first = 0;
  std::uint8_t count = 1;
};

// One attribute of an op. `default_value` is the value of a number, integer or boolean, and of
// each entry of a fixed-length integers attribute; shapes and variable-length lists default to
// empty. `min` and `max` bound integers (and each entry of integers).
struct AttrSpec {
  std::string_view name;
  AttrKind kind = AttrKind::number;
  AttrSlot slot;
  double default_value = 0.0;
  std::string_view doc;
  std::int64_t min = std::numeric_limits<std::int64_t>::min();
  std::int64_t max = std::numeric_limits<std::int64_t>::max();
};

// The most entries OpAttrs::ints may hold: a handful of geometry numbers, or a slice's ranges.
inline constexpr std::size_t kMaxAttrIntegers = 64;

// A value of any kind, as a caller gives it: 0.5, 3, true, Shape{2, 3}, {1, 1}.
class AttrValue {
 public:
  using Storage = std::variant<double, std::int64_t, bool, Shape, std::vector<std::int64_t>>;

  AttrValue(double value) : value_(value) {}  // NOLINT(google-explicit-constructor)
  template <class T>
  requires(std::is_integral_v<T> && !std::is_same_v<T, bool>) AttrValue(T value)
      : value_(static_cast<std::int64_t>(value)) {}                         // NOLINT
  AttrValue(bool value) : value_(value) {}                                  // NOLINT
  AttrValue(Shape value) : value_(std::move(value)) {}                      // NOLINT
  AttrValue(std::vector<std::int64_t> value) : value_(std::move(value)) {}  // NOLINT
  AttrValue(std::initializer_list<std::int64_t> values)                     // NOLINT
      : value_(std::vector<std::int64_t>(values)) {}

  const Storage& storage() const { return value_; }
  // The kind this value has as given (an integer given for a number attribute is converted).
  AttrKind kind() const;
  std::string to_string() const;  // "0.5", "3", "true", "[2, 3]"

  friend bool operator==(const AttrValue&, const AttrValue&) = default;

 private:
  Storage value_;
};

// An attribute given by name, for Graph::apply(op_name, inputs, {{"k", 3}, {"temperature", 0.5}}).
struct NamedAttr {
  std::string_view name;
  AttrValue value;
};

using AttrTable = std::span<const AttrSpec>;

const AttrSpec* find_attribute(AttrTable table, std::string_view name);
std::string attribute_names(AttrTable table);  // "transpose_a, transpose_b", or "none"

// The attribute's value as its slot holds it; a list entry the slot does not hold yet reads as the
// default.
AttrValue read_attribute(const OpAttrs& attrs, const AttrSpec& spec);
// Stores a value after checking its kind, range and length; throws Error naming the attribute.
void write_attribute(OpAttrs& attrs, const AttrSpec& spec, const AttrValue& value);
bool is_default(const OpAttrs& attrs, const AttrSpec& spec);
std::string default_text(const AttrSpec& spec);  // the default as docs/ops.md prints it

// Every attribute at its default, every field no attribute uses at OpAttrs' own default.
OpAttrs default_attributes(AttrTable table);
// `attrs` reduced to what the table declares: the same values in the declared slots, every other
// field at its default. Equal to `attrs` exactly when attrs holds nothing the op does not declare.
OpAttrs canonical_attributes(AttrTable table, const OpAttrs& attrs);

// Whether every field of `attrs` that no attribute of the table uses is at OpAttrs' default, and
// ints holds no entry past the declared ones: what a graph file can write without losing anything.
bool holds_only_declared(AttrTable table, const OpAttrs& attrs);

// Checks a table when its op is registered: unique non-empty names, a slot that fits the kind,
// no two attributes sharing storage, defaults within range. Throws Error naming op and attribute.
void check_attribute_table(std::string_view op, AttrTable table);

}  // namespace dagprop
DAGPROP_API_END
