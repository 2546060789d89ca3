// Named op attributes: reading and writing them in their OpAttrs slots, and checking the tables.
#include <dagprop/attributes.hpp>

#include <algorithm>
#include <bit>
#include <charconv>
#include <cmath>
#include <optional>

#include <dagprop/error.hpp>

namespace dagprop {
namespace {

std::string quoted(std::string_view name) {
  return "'" + std::string(name) + "'";
}

std::string list_text(std::span<const std::int64_t> values) {
  std::string text = "[";
  for (std::size_t i = 0; i < values.size(); ++i)
    text += (i == 0 ? "" : ", ") + std::to_string(values[i]);
  return text + "]";
}

std::string number_text(double value) {
  if (std::isnan(value)) return "nan";
  if (std::isinf(value)) return value > 0 ? "inf" : "-inf";
  char buffer[32];
  const auto result = std::to_chars(buffer, buffer + sizeof buffer, value);
  return std::string(buffer, result.ptr);
}

bool is_int_field(AttrField field) {
  return field == AttrField::axis || field == AttrField::axis2;
}

int& int_field(OpAttrs& attrs, AttrField field) {
  return field == AttrField::axis ? attrs.axis : attrs.axis2;
}
int int_field(const OpAttrs& attrs, AttrField field) {
  return field == AttrField::axis ? attrs.axis : attrs.axis2;
}
bool& bool_field(OpAttrs& attrs, AttrField field) {
  return field == AttrField::keepdim ? attrs.keepdim : attrs.all_axes;
}
bool bool_field(const OpAttrs& attrs, AttrField field) {
  return field == AttrField::keepdim ? attrs.keepdim : attrs.all_axes;
}

// The range an integer may take in its slot: the spec's, narrowed to int for axis fields.
std::int64_t lowest(const AttrSpec& spec) {
  return is_int_field(spec.slot.field)
             ? std::max<std::int64_t>(spec.min, std::numeric_limits<int>::min())
             : spec.min;
}
std::int64_t highest(const AttrSpec& spec) {
  return is_int_field(spec.slot.field)
             ? std::min<std::int64_t>(spec.max, std::numeric_limits<int>::max())
             : spec.max;
}

std::int64_t default_integer(const AttrSpec& spec) {
  return static_cast<std::int64_t>(spec.default_value);
}

AttrValue default_of(const AttrSpec& spec) {
  switch (spec.kind) {
    case AttrKind::number:
      return spec.default_value;
    case AttrKind::integer:
      return default_integer(spec);
    case AttrKind::boolean:
      return spec.default_value != 0;
    case AttrKind::shape:
      return Shape{};
    case AttrKind::integers:
      return std::vector<std::int64_t>(spec.slot.count, default_integer(spec));
  }
  return 0.0;
}

// Fits the value to the spec's kind (an integer given for a number becomes a double, a list of
// dimensions given for a shape becomes a Shape), or says why it does not fit.
AttrValue converted(const AttrSpec& spec, const AttrValue& value) {
  const AttrValue::Storage& v = value.storage();
  const auto mismatch = [&]() -> AttrValue {
    throw Error("attribute " + quoted(spec.name) + " is " +
                (spec.kind == AttrKind::integer ? "an " : "a ") +
                std::string(attr_kind_name(spec.kind)) + ", not the " +
                std::string(attr_kind_name(value.kind())) + " " + value.to_string());
  };
  switch (spec.kind) {
    case AttrKind::number:
      if (const auto* i = std::get_if<std::int64_t>(&v)) return static_cast<double>(*i);
      return std::holds_alternative<double>(v) ? value : mismatch();
    case AttrKind::integer:
    case AttrKind::boolean:
    case AttrKind::integers:
      return value.kind() == spec.kind ? value : mismatch();
    case AttrKind::shape:
      if (const auto* list = std::get_if<std::vector<std::int64_t>>(&v)) {
        if (list->size() > static_cast<std::size_t>(Shape::kMaxRank) ||
            std::any_of(list->begin(), list->end(), [](std::int64_t d) { return d < 0; })) {
          throw Error("attribute " + quoted(spec.name) + " is a shape of at most " +
                      std::to_string(Shape::kMaxRank) + " non-negative dimensions, not " +
                      value.to_string());
        }
        return Shape(std::span<const std::int64_t>(*list));
      }
      return std::holds_alternative<Shape>(v) ? value : mismatch();
  }
  return mismatch();
}

void check_range(const AttrSpec& spec, std::int64_t value) {
  if (value < lowest(spec) || value > highest(spec)) {
    throw Error("attribute " + quoted(spec.name) + " must lie in [" + std::to_string(lowest(spec)) +
                ", " + std::to_string(highest(spec)) + "], not " + std::to_string(value));
  }
}

}  // namespace

std::string_view attr_kind_name(AttrKind kind) {
  switch (kind) {
    case AttrKind::number:
      return "number";
    case AttrKind::integer:
      return "integer";
    case AttrKind::boolean:
      return "boolean";
    case AttrKind::shape:
      return "shape";
    case AttrKind::integers:
      return "integers";
  }
  return "?";
}

AttrKind AttrValue::kind() const {
  return std::visit(
      [](const auto& v) {
        using T = std::decay_t<decltype(v)>;
        if constexpr (std::is_same_v<T, double>) {
          return AttrKind::number;
        } else if constexpr (std::is_same_v<T, std::int64_t>) {
          return AttrKind::integer;
        } else if constexpr (std::is_same_v<T, bool>) {
          return AttrKind::boolean;
        } else if constexpr (std::is_same_v<T, Shape>) {
          return AttrKind::shape;
        } else {
          return AttrKind::integers;
        }
      },
      value_);
}

std::string AttrValue::to_string() const {
  return std::visit(
      [](const auto& v) -> std::string {
        using T = std::decay_t<decltype(v)>;
        if constexpr (std::is_same_v<T, double>) {
          return number_text(v);
        } else if constexpr (std::is_same_v<T, std::int64_t>) {
          return std::to_string(v);
        } else if constexpr (std::is_same_v<T, bool>) {
          return v ? "true" : "false";
        } else if constexpr (std::is_same_v<T, Shape>) {
          return v.to_string();
        } else {
          return list_text(v);
        }
      },
      value_);
}

const AttrSpec* find_attribute(AttrTable table, std::string_view name) {
  for (const AttrSpec& spec : table) {
    if (spec.name == name) return &spec;
  }
  return nullptr;
}

std::string attribute_names(AttrTable table) {
  if (table.empty()) return "none";
  std::string names;
  for (const AttrSpec& spec : table) names += (names.empty() ? "" : ", ") + std::string(spec.name);
  return names;
}

AttrValue read_attribute(const OpAttrs& attrs, const AttrSpec& spec) {
  const AttrSlot& slot = spec.slot;
  const auto entry = [&](std::size_t i) {
    return i < attrs.ints.size() ? attrs.ints[i] : default_integer(spec);
  };
  switch (spec.kind) {
    case AttrKind::number:
      return attrs.scalar;
    case AttrKind::integer:
      if (is_int_field(slot.field)) return std::int64_t{int_field(attrs, slot.field)};
      return entry(slot.first);
    case AttrKind::boolean:
      if (slot.field != AttrField::ints) return bool_field(attrs, slot.field);
      return entry(slot.first) != 0;
    case AttrKind::shape:
      return attrs.shape;
    case AttrKind::integers: {
      const std::size_t end = slot.count == 0 ? std::max<std::size_t>(attrs.ints.size(), slot.first)
                                              : std::size_t{slot.first} + slot.count;
      std::vector<std::int64_t> values;
      for (std::size_t i = slot.first; i < end; ++i) values.push_back(entry(i));
      return values;
    }
  }
  return 0.0;
}

void write_attribute(OpAttrs& attrs, const AttrSpec& spec, const AttrValue& given) {
  const AttrValue value = converted(spec, given);
  const AttrSlot& slot = spec.slot;
  const auto entry = [&](std::size_t i) -> std::int64_t& {
    if (attrs.ints.size() <= i) attrs.ints.resize(i + 1, 0);
    return attrs.ints[i];
  };
  switch (spec.kind) {
    case AttrKind::number:
      attrs.scalar = std::get<double>(value.storage());
      return;
    case AttrKind::integer: {
      const std::int64_t v = std::get<std::int64_t>(value.storage());
      check_range(spec, v);
      if (is_int_field(slot.field))
        int_field(attrs, slot.field) = static_cast<int>(v);
      else
        entry(slot.first) = v;
      return;
    }
    case AttrKind::boolean: {
      const bool v = std::get<bool>(value.storage());
      if (slot.field != AttrField::ints)
        bool_field(attrs, slot.field) = v;
      else
        entry(slot.first) = v ? 1 : 0;
      return;
    }
    case AttrKind::shape:
      attrs.shape = std::get<Shape>(value.storage());
      return;
    case AttrKind::integers: {
      const auto& values = std::get<std::vector<std::int64_t>>(value.storage());
      if (slot.count != 0 && values.size() != slot.count) {
        throw Error("attribute " + quoted(spec.name) + " holds " + std::to_string(slot.count) +
                    " integers, not " + std::to_string(values.size()) + " (" + value.to_string() +
                    ")");
      }
      if (slot.first + values.size() > kMaxAttrIntegers) {
        throw Error("attribute " + quoted(spec.name) + " holds at most " +
                    std::to_string(kMaxAttrIntegers - slot.first) + " integers, not " +
                    std::to_string(values.size()));
      }
      for (const std::int64_t v : values) check_range(spec, v);
      if (slot.count == 0) attrs.ints.resize(slot.first);
      for (std::size_t i = 0; i < values.size(); ++i) entry(slot.first + i) = values[i];
      return;
    }
  }
}

bool is_default(const OpAttrs& attrs, const AttrSpec& spec) {
  const AttrValue value = read_attribute(attrs, spec);
  // Bitwise for numbers: -0.0 is not the default 0.0, and a NaN default stays the default.
  if (spec.kind == AttrKind::number) {
    return std::bit_cast<std::uint64_t>(std::get<double>(value.storage())) ==
           std::bit_cast<std::uint64_t>(spec.default_value);
  }
  return value == default_of(spec);
}

std::string default_text(const AttrSpec& spec) {
  if (spec.kind == AttrKind::shape) return "[]";
  if (spec.kind == AttrKind::integers && spec.slot.count == 0) return "[]";
  return default_of(spec).to_string();
}

OpAttrs default_attributes(AttrTable table) {
  OpAttrs attrs;
  for (const AttrSpec& spec : table) write_attribute(attrs, spec, default_of(spec));
  return attrs;
}

OpAttrs canonical_attributes(AttrTable table, const OpAttrs& attrs) {
  OpAttrs canonical = default_attributes(table);
  for (const AttrSpec& spec : table) write_attribute(canonical, spec, read_attribute(attrs, spec));
  return canonical;
}

bool holds_only_declared(AttrTable table, const OpAttrs& attrs) {
  const OpAttrs defaults;
  bool uses[7] = {};
  std::size_t ints_end = 0;  // SIZE_MAX: a list of any length
  for (const AttrSpec& spec : table) {
    uses[static_cast<int>(spec.slot.field)] = true;
    if (spec.slot.field == AttrField::ints) {
      ints_end =
          spec.slot.count == 0
              ? std::numeric_limits<std::size_t>::max()
              : std::max<std::size_t>(ints_end, std::size_t{spec.slot.first} + spec.slot.count);
    }
  }
  const auto unused_or = [&](AttrField field, bool at_default) {
    return uses[static_cast<int>(field)] || at_default;
  };
  return unused_or(AttrField::scalar, std::bit_cast<std::uint64_t>(attrs.scalar) ==
                                          std::bit_cast<std::uint64_t>(defaults.scalar)) &&
         unused_or(AttrField::axis, attrs.axis == defaults.axis) &&
         unused_or(AttrField::axis2, attrs.axis2 == defaults.axis2) &&
         unused_or(AttrField::keepdim, attrs.keepdim == defaults.keepdim) &&
         unused_or(AttrField::all_axes, attrs.all_axes == defaults.all_axes) &&
         unused_or(AttrField::shape, attrs.shape == defaults.shape) &&
         attrs.ints.size() <= ints_end;
}

void check_attribute_table(std::string_view op, AttrTable table) {
  const auto fail = [&](const AttrSpec& spec, const std::string& why) {
    throw Error("op '" + std::string(op) + "': attribute " + quoted(spec.name) + " " + why);
  };
  // Which storage each attribute takes: a field, or a range of ints entries (end 0: unbounded).
  std::vector<std::pair<const AttrSpec*, AttrField>> fields;
  std::vector<std::pair<const AttrSpec*, std::pair<std::size_t, std::size_t>>> ranges;
  for (const AttrSpec& spec : table) {
    if (spec.name.empty())
      throw Error("op '" + std::string(op) + "' has an attribute without a name");
    // Names become JSON keys and Python keyword arguments.
    const bool identifier = (spec.name[0] >= 'a' && spec.name[0] <= 'z') &&
                            std::all_of(spec.name.begin(), spec.name.end(), [](char c) {
                              return (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '_';
                            });
    if (!identifier)
      fail(spec, "needs a name of lowercase letters, digits and '_', starting with a letter");
    if (&spec != find_attribute(table, spec.name)) fail(spec, "is declared twice");
    if (spec.doc.empty()) fail(spec, "needs a doc saying what it means");
    const AttrField field = spec.slot.field;
    const bool in_ints = field == AttrField::ints;
    bool fits = false;
    switch (spec.kind) {
      case AttrKind::number:
        fits = field == AttrField::scalar;
        break;
      case AttrKind::integer:
        fits = is_int_field(field) || (in_ints && spec.slot.count == 1);
        break;
      case AttrKind::boolean:
        fits = field == AttrField::keepdim || field == AttrField::all_axes ||
               (in_ints && spec.slot.count == 1);
        break;
      case AttrKind::shape:
        fits = field == AttrField::shape;
        break;
      case AttrKind::integers:
        fits = in_ints;
        break;
    }
    if (!fits) {
      fail(spec, "is " + std::string(attr_kind_name(spec.kind)) +
                     " but its slot cannot hold one (numbers go in scalar, integers in axis, "
                     "axis2 or one ints entry, booleans in keepdim, all_axes or one ints entry, "
                     "shapes in shape, integers in ints)");
    }
    if (spec.kind == AttrKind::integer || spec.kind == AttrKind::integers ||
        spec.kind == AttrKind::boolean) {
      const double d = spec.default_value;
      if (d != std::floor(d)) fail(spec, "has the default " + number_text(d) + ", not an integer");
    }
    if (spec.kind == AttrKind::integer || spec.kind == AttrKind::integers) {
      if (lowest(spec) > highest(spec)) fail(spec, "has an empty range");
      const double d = spec.default_value;
      if (d < static_cast<double>(lowest(spec)) || d > static_cast<double>(highest(spec)))
        fail(spec, "has the default " + number_text(d) + ", outside its range");
    }
    if (in_ints) {
      const std::size_t first = spec.slot.first;
      const std::size_t end = spec.slot.count == 0 ? 0 : first + spec.slot.count;
      if (end > kMaxAttrIntegers)
        fail(spec, "reaches past the " + std::to_string(kMaxAttrIntegers) + " ints entries");
      for (const auto& [other, range] : ranges) {
        const bool overlap =
            (range.second == 0 || first < range.second) && (end == 0 || range.first < end);
        // A list of any length runs to the end of ints, so it overlaps whatever follows it.
        if (overlap) fail(spec, "shares ints entries with attribute " + quoted(other->name));
      }
      ranges.push_back({&spec, {first, end}});
    } else {
      for (const auto& [other, used] : fields) {
        if (used == field) fail(spec, "shares its slot with attribute " + quoted(other->name));
      }
      fields.push_back({&spec, field});
    }
  }
}

}  // namespace dagprop
