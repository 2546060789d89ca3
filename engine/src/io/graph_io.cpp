// Graph files: JSON for the structure (nlohmann-json), base64 of little-endian bytes for tensor
// data, a CRC-32 per tensor. The loader trusts nothing: it reads the file as a stream of SAX
// events, holding one node at a time rather than the document, so time and memory are linear in
// the file's size; each field is type-checked, sizes are bounded before anything is allocated,
// and the graph is rebuilt through the public Graph API so shape rules run again.
#include <dagprop/graph_io.hpp>

#include <algorithm>
#include <array>
#include <bit>
#include <cerrno>
#include <cmath>
#include <cstdio>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <functional>
#include <limits>
#include <memory>
#include <optional>
#include <type_traits>
#include <variant>

#include <zlib.h>
#include <nlohmann/json.hpp>

#include <dagprop/error.hpp>
#include <dagprop/op_def.hpp>
#include <dagprop/ops.hpp>

#include "../base64.hpp"
#include "../graph_internals.hpp"

namespace dagprop {
namespace {

using Json = nlohmann::ordered_json;

constexpr std::string_view kFormatName = "dagprop-graph";
// Each scope level interns its whole path in the graph, so a scope's cost grows with its depth
// times its length; both are bounded to keep memory a small multiple of the file's size.
constexpr std::size_t kMaxScopeDepth = 32;
constexpr std::size_t kMaxScopeBytes = 4096;
// Files before version 3 stored the raw OpAttrs fields; ints holds a handful of geometry numbers
// (a convolution's stride, padding, dilation).
constexpr std::size_t kMaxIntAttributes = kMaxAttrIntegers;
// The version from which attributes are written by the names their op declares.
constexpr int kFirstVersionWithNamedAttrs = 3;
// The schema nests five levels deep (root, nodes, node, attrs, attrs.shape); deeper input is
// refused while parsing, so nesting cannot cost more memory than the file's own size suggests.
constexpr int kMaxJsonDepth = 16;
// The largest object of the schema (a node) has 12 fields. A bound lets the duplicate-key check
// scan an object's fields without ever becoming quadratic on a hostile object of many keys.
constexpr std::size_t kMaxObjectFields = 16;
// Strings from the file quoted in a message are cut to this many bytes: a hostile 50 MB op name
// must not become a 50 MB message.
constexpr std::size_t kMaxQuotedBytes = 64;
// The version from which every tensor carries a CRC-32 of its bytes.
constexpr int kFirstVersionWithCrc = 2;
// Files are read and written in blocks of this size.
constexpr std::size_t kIoBlockBytes = std::size_t{1} << 20;

// The text itself, or "first 64 bytes... (N bytes)" for a long one.
std::string excerpt(std::string_view text) {
  if (text.size() <= kMaxQuotedBytes) return std::string(text);
  return std::string(text.substr(0, kMaxQuotedBytes)) + "... (" + std::to_string(text.size()) +
         " bytes)";
}
std::string in_quotes(std::string_view text) {
  return "'" + excerpt(text) + "'";
}

// ---------------------------------------------------------------- tensor bytes

// Elements are stored little-endian whatever the host, so files move between machines. Only a
// big-endian host calls this (a little-endian one uses its bytes as they are).
[[maybe_unused]] std::vector<std::byte> little_endian_bytes(const TensorView& tensor) {
  const auto* first = static_cast<const std::byte*>(tensor.raw());
  std::vector<std::byte> bytes(first, first + tensor.nbytes());
  if constexpr (std::endian::native == std::endian::big) {
    const std::size_t width = dtype_size(tensor.dtype());
    for (std::size_t i = 0; i < bytes.size(); i += width) {
      std::reverse(bytes.begin() + static_cast<std::ptrdiff_t>(i),
                   bytes.begin() + static_cast<std::ptrdiff_t>(i + width));
    }
  }
  return bytes;
}

// zlib's CRC-32 (the one of gzip and PNG) of the bytes as the file stores them.
std::uint32_t crc32_of(std::span<const std::byte> bytes) {
  uLong crc = crc32_z(0L, Z_NULL, 0);
  crc = crc32_z(crc, reinterpret_cast<const Bytef*>(bytes.data()), bytes.size());
  return static_cast<std::uint32_t>(crc);
}

struct EncodedTensor {
  std::string base64;
  std::uint32_t crc32 = 0;
};

EncodedTensor encode_tensor(const TensorView& tensor) {
  if constexpr (std::endian::native == std::endian::little) {
    // The host's bytes are the file's: no copy.
    const std::span<const std::byte> bytes(static_cast<const std::byte*>(tensor.raw()),
                                           tensor.nbytes());
    return {base64::encode(bytes), crc32_of(bytes)};
  } else {
    const std::vector<std::byte> bytes = little_endian_bytes(tensor);
    return {base64::encode(bytes), crc32_of(bytes)};
  }
}

// ---------------------------------------------------------------- writing

Json scalar_attribute(double value) {
  if (std::isnan(value)) return "nan";
  if (std::isinf(value)) return value > 0 ? "inf" : "-inf";
  return value;
}

Json dims_of(const Shape& shape) {
  Json dims = Json::array();
  for (const std::int64_t d : shape.dims()) dims.push_back(d);
  return dims;
}

Json attribute_json(const AttrValue& value) {
  return std::visit(
      [](const auto& v) -> Json {
        using T = std::decay_t<decltype(v)>;
        if constexpr (std::is_same_v<T, double>) {
          return scalar_attribute(v);
        } else if constexpr (std::is_same_v<T, Shape>) {
          return dims_of(v);
        } else {
          return v;
        }
      },
      value.storage());
}

// The attributes that differ from their op's declared defaults, by name. A value in storage the op
// does not declare would be lost, so it is refused rather than dropped.
Json attrs_of(const Graph& graph, NodeId id) {
  const OpDef& def = graph.op_of(id);
  const OpAttrs& attrs = graph.attrs_of(id);
  if (!holds_only_declared(def.attributes, attrs)) {
    throw Error(graph.describe(id) + " holds attribute values its op does not declare (its " +
                "attributes: " + attribute_names(def.attributes) +
                "); build it by name, Graph::apply(op, inputs, {{name, value}, ...})");
  }
  Json json = Json::object();
  for (const AttrSpec& spec : def.attributes) {
    if (!is_default(attrs, spec))
      json[std::string(spec.name)] = attribute_json(read_attribute(attrs, spec));
  }
  return json;
}

Json node_json(const Graph& graph, NodeId id) {
  const Node& node = graph.node(id);
  Json json;
  json["id"] = id;
  json["op"] = graph.op_name_of(id);
  if (!graph.local_name_of(id).empty()) json["name"] = graph.local_name_of(id);
  if (!graph.scope_of(id).empty()) json["scope"] = graph.scope_of(id);
  json["dtype"] = dtype_name(node.dtype);
  json["shape"] = dims_of(graph.shape_of(id));
  if (!graph.is_leaf(id)) {
    Json inputs = Json::array();
    for (const NodeId input : graph.inputs_of(id)) inputs.push_back(input);
    json["inputs"] = std::move(inputs);
    Json attrs = attrs_of(graph, id);
    if (!attrs.empty()) json["attrs"] = std::move(attrs);
  }
  if (has_flag(node.flags, NodeFlags::requires_grad)) json["requires_grad"] = true;
  if (const std::int64_t classes = graph.num_classes_of(id); classes > 0) json["classes"] = classes;
  if (has_flag(node.flags, NodeFlags::gradient)) json["gradient"] = true;
  if (graph.is_parameter(id) || graph.is_constant(id)) {
    EncodedTensor encoded = encode_tensor(graph.value(id));
    json["data"] = std::move(encoded.base64);
    json["crc32"] = encoded.crc32;
  }
  return json;
}

// Names are bytes; a file is UTF-8, so invalid sequences become U+FFFD rather than failing.
std::string dump(const Json& json) {
  return json.dump(-1, ' ', false, Json::error_handler_t::replace);
}

Json tensor_entry(NodeId id, const TensorView& tensor) {
  EncodedTensor encoded = encode_tensor(tensor);
  Json json;
  json["node"] = id;
  json["data"] = std::move(encoded.base64);
  json["crc32"] = encoded.crc32;
  return json;
}

// ---------------------------------------------------------------- reading: checked accessors

// Where a field sits, for messages: "node #3 (op add): field 'inputs'[2]". A valid file asks for
// several places per node and prints none, so the text is put together only when a message needs
// it; until then a place is a node's index and op and the names of a few fields, all views of
// text that outlives it (string literals, or the entry being read).
class Where {
 public:
  explicit Where(std::string prefix) : prefix_(std::move(prefix)) {}
  // "node #3 (op add)", "node #3 'w' (op parameter)".
  static Where node(std::size_t index, std::string_view op, std::string_view name) {
    Where where{std::string()};
    where.node_ = true;
    where.index_ = index;
    where.op_ = op;
    where.name_ = name;
    return where;
  }
  Where field(std::string_view name) const { return with({name, kNoIndex}); }
  Where at(std::size_t i) const { return with({{}, i}); }

  std::string text() const {
    std::string text = prefix_;
    if (node_) {
      text = "node #" + std::to_string(index_);
      if (!name_.empty()) text += " " + in_quotes(name_);
      if (!op_.empty()) text += " (op " + excerpt(op_) + ")";
    }
    for (std::size_t i = 0; i < depth_; ++i) {
      text += steps_[i].index == kNoIndex ? ": field '" + std::string(steps_[i].field) + "'"
                                          : "[" + std::to_string(steps_[i].index) + "]";
    }
    return text;
  }

 private:
  struct Step {
    std::string_view field;
    std::size_t index;
  };
  static constexpr std::size_t kNoIndex = std::numeric_limits<std::size_t>::max();

  Where with(Step step) const {
    Where where = *this;
    if (where.depth_ == where.steps_.size()) where = Where(text());  // deeper than any schema path
    where.steps_[where.depth_++] = step;
    return where;
  }

  std::string prefix_;
  bool node_ = false;
  std::size_t index_ = 0;
  std::string_view op_, name_;
  std::array<Step, 4> steps_{};
  std::size_t depth_ = 0;
};

[[noreturn]] void fail(const Where& where, const std::string& problem) {
  throw Error(where.text() + " " + problem);
}

std::string json_type(const Json& value) {
  if (value.is_number_integer()) return "an integer";
  if (value.is_number()) return "a number";
  if (value.is_null()) return "null";
  const std::string type = value.type_name();
  return (type == "object" || type == "array" ? "an " : "a ") + type;
}

const Json& require(const Json& object, std::string_view key, const Where& where) {
  const auto it = object.find(key);
  if (it == object.end()) fail(where, "is missing the field '" + std::string(key) + "'");
  return *it;
}

const Json* optional_field(const Json& object, std::string_view key) {
  const auto it = object.find(key);
  return it == object.end() ? nullptr : &*it;
}

std::int64_t get_integer(const Json& value, const Where& where, std::int64_t min,
                         std::int64_t max) {
  std::int64_t result = 0;
  if (value.is_number_unsigned()) {
    const auto u = value.get<std::uint64_t>();
    if (u > static_cast<std::uint64_t>(std::numeric_limits<std::int64_t>::max()))
      fail(where, "is " + std::to_string(u) + ", out of range");
    result = static_cast<std::int64_t>(u);
  } else if (value.is_number_integer()) {
    result = value.get<std::int64_t>();
  } else {
    fail(where, "must be an integer, not " + json_type(value));
  }
  if (result < min || result > max) {
    fail(where, "is " + std::to_string(result) + " but must lie in [" + std::to_string(min) + ", " +
                    std::to_string(max) + "]");
  }
  return result;
}

const std::string& get_string(const Json& value, const Where& where) {
  if (!value.is_string()) fail(where, "must be a string, not " + json_type(value));
  return value.get_ref<const std::string&>();
}

bool get_bool(const Json& value, const Where& where) {
  if (!value.is_boolean()) fail(where, "must be true or false, not " + json_type(value));
  return value.get<bool>();
}

double get_scalar(const Json& value, const Where& where) {
  if (value.is_number()) return value.get<double>();
  if (value.is_string()) {
    const std::string& text = value.get_ref<const std::string&>();
    if (text == "nan") return std::numeric_limits<double>::quiet_NaN();
    if (text == "inf") return std::numeric_limits<double>::infinity();
    if (text == "-inf") return -std::numeric_limits<double>::infinity();
  }
  fail(where, "must be a number or one of \"nan\", \"inf\", \"-inf\", not " + json_type(value));
}

void check_keys(const Json& object, std::initializer_list<std::string_view> known,
                const Where& where) {
  for (const auto& [key, value] : object.items()) {
    if (std::find(known.begin(), known.end(), key) == known.end()) {
      std::string list;
      for (const std::string_view k : known) list += (list.empty() ? "" : ", ") + std::string(k);
      fail(where, "has an unknown field " + in_quotes(key) + " (known: " + list + ")");
    }
  }
}

// Version 1 files have no checksums: a 'crc32' there is as unknown as it was to the dagprop that
// wrote version 1.
void check_no_crc_before_version_2(const Json& object, int version, const Where& where) {
  if (version < kFirstVersionWithCrc && object.contains("crc32")) {
    fail(where, "has the field 'crc32', which is new in format version " +
                    std::to_string(kFirstVersionWithCrc) + ", but the file says version " +
                    std::to_string(version));
  }
}

// Refuses a shape of more than max_elements elements, counting without overflow. Applied to the
// shapes a file states and to those op rules compute (broadcasting can multiply sizes).
void check_size(const Shape& shape, const Where& where, std::int64_t max_elements) {
  std::int64_t numel = 1;
  for (const std::int64_t d : shape.dims()) {
    if (d != 0 && numel > max_elements / d) {
      fail(where, "is " + shape.to_string() + ", more than the limit of " +
                      std::to_string(max_elements) +
                      " elements (LoadOptions::max_elements); the file is corrupt or the limit "
                      "too low");
    }
    numel *= d;
  }
}

Shape get_shape(const Json& value, const Where& where, std::int64_t max_elements) {
  if (!value.is_array()) fail(where, "must be an array of dimensions, not " + json_type(value));
  if (value.size() > static_cast<std::size_t>(Shape::kMaxRank)) {
    fail(where, "has " + std::to_string(value.size()) + " dimensions; at most " +
                    std::to_string(Shape::kMaxRank) + " are supported");
  }
  std::vector<std::int64_t> dims;
  for (std::size_t i = 0; i < value.size(); ++i)
    dims.push_back(get_integer(value[i], where.at(i), 0, max_elements));
  const Shape shape{std::span<const std::int64_t>(dims)};
  check_size(shape, where, max_elements);
  return shape;
}

DType get_dtype(const Json& value, const Where& where) {
  const std::string& name = get_string(value, where);
  if (name == dtype_name(DType::f32)) return DType::f32;
  if (name == dtype_name(DType::f64)) return DType::f64;
  fail(where, "is " + in_quotes(name) + "; use \"float32\" or \"float64\"");
}

// Decodes the base64 'data' of `holder` (a node or a values/gradients entry) into a new tensor of
// the given shape, after checking its length, and from version 2 on checks its 'crc32'. `tensor`
// names the tensor in a checksum error ("node #3 'w' (op parameter)").
Tensor get_tensor(const Json& holder, const Shape& shape, DType dtype, const Where& where,
                  int version, const std::string& tensor) {
  const Where data_where = where.field("data");
  const std::string& text = get_string(require(holder, "data", where), data_where);
  const std::size_t nbytes = static_cast<std::size_t>(shape.numel()) * dtype_size(dtype);
  if (text.size() != base64::encoded_length(nbytes)) {
    fail(data_where, "has " + std::to_string(text.size()) + " base64 characters, but " +
                         std::string(dtype_name(dtype)) + " " + shape.to_string() + " needs " +
                         std::to_string(base64::encoded_length(nbytes)) + " (" +
                         std::to_string(nbytes) + " bytes)");
  }
  std::optional<std::uint32_t> expected_crc;
  if (version >= kFirstVersionWithCrc) {
    expected_crc = static_cast<std::uint32_t>(
        get_integer(require(holder, "crc32", where), where.field("crc32"), 0,
                    std::numeric_limits<std::uint32_t>::max()));
  }
  Tensor tensor_value(shape, dtype);
  const std::span<std::byte> bytes(static_cast<std::byte*>(tensor_value.view().raw()), nbytes);
  if (!base64::decode(text, bytes)) {
    fail(data_where, "is not valid base64 (RFC 4648, standard alphabet, '=' padding)");
  }
  if (expected_crc) {
    const std::uint32_t actual = crc32_of(bytes);
    if (actual != *expected_crc) {
      char numbers[64];
      std::snprintf(numbers, sizeof numbers, "0x%08x, the data gives 0x%08x", *expected_crc,
                    actual);
      throw Error("the data of " + tensor + " does not match its CRC-32 (the file says " + numbers +
                  "): the file was changed or damaged after it was saved; save it again");
    }
  }
  if constexpr (std::endian::native == std::endian::big) {
    const std::vector<std::byte> swapped = little_endian_bytes(tensor_value.view());
    std::copy(swapped.begin(), swapped.end(), bytes.begin());
  }
  return tensor_value;
}

// Attributes of a file before version 3: the raw OpAttrs fields.
OpAttrs get_raw_attrs(const Json& value, const Where& where, std::int64_t max_elements) {
  if (!value.is_object()) fail(where, "must be an object, not " + json_type(value));
  check_keys(value, {"scalar", "axis", "axis2", "keepdim", "all_axes", "shape", "ints"}, where);
  OpAttrs attrs;
  constexpr std::int64_t kIntMin = std::numeric_limits<int>::min();
  constexpr std::int64_t kIntMax = std::numeric_limits<int>::max();
  if (const Json* v = optional_field(value, "scalar"))
    attrs.scalar = get_scalar(*v, where.field("scalar"));
  if (const Json* v = optional_field(value, "axis"))
    attrs.axis = static_cast<int>(get_integer(*v, where.field("axis"), kIntMin, kIntMax));
  if (const Json* v = optional_field(value, "axis2"))
    attrs.axis2 = static_cast<int>(get_integer(*v, where.field("axis2"), kIntMin, kIntMax));
  if (const Json* v = optional_field(value, "keepdim"))
    attrs.keepdim = get_bool(*v, where.field("keepdim"));
  if (const Json* v = optional_field(value, "all_axes"))
    attrs.all_axes = get_bool(*v, where.field("all_axes"));
  if (const Json* v = optional_field(value, "shape"))
    attrs.shape = get_shape(*v, where.field("shape"), max_elements);
  if (const Json* v = optional_field(value, "ints")) {
    const Where ints = where.field("ints");
    if (!v->is_array()) fail(ints, "must be an array of integers, not " + json_type(*v));
    if (v->size() > kMaxIntAttributes) {
      fail(ints, "has " + std::to_string(v->size()) + " entries; at most " +
                     std::to_string(kMaxIntAttributes) + " are accepted");
    }
    for (std::size_t i = 0; i < v->size(); ++i) {
      attrs.ints.push_back(get_integer((*v)[i], ints.at(i),
                                       std::numeric_limits<std::int64_t>::min(),
                                       std::numeric_limits<std::int64_t>::max()));
    }
  }
  return attrs;
}

// One attribute of a version 3 file, decoded as its declaration's kind says.
AttrValue get_attribute(const Json& value, const AttrSpec& spec, const Where& where,
                        std::int64_t max_elements) {
  switch (spec.kind) {
    case AttrKind::number:
      return get_scalar(value, where);
    case AttrKind::integer:
      return get_integer(value, where, spec.min, spec.max);
    case AttrKind::boolean:
      return get_bool(value, where);
    case AttrKind::shape:
      return get_shape(value, where, max_elements);
    case AttrKind::integers: {
      if (!value.is_array()) fail(where, "must be an array of integers, not " + json_type(value));
      if (value.size() > kMaxAttrIntegers) {
        fail(where, "has " + std::to_string(value.size()) + " entries; at most " +
                        std::to_string(kMaxAttrIntegers) + " are accepted");
      }
      std::vector<std::int64_t> values;
      for (std::size_t i = 0; i < value.size(); ++i)
        values.push_back(get_integer(value[i], where.at(i), spec.min, spec.max));
      return values;
    }
  }
  fail(where, "has an attribute kind this dagprop does not know");
}

// The attributes of an op node: from version 3 by the names the op declares (the defaults, then
// each given value), before it the raw fields, converted by the op where it has moved a value
// since (OpDef::upgrade_attrs) and reduced to what the op declares. An op that declares nothing
// (a user op from before attribute tables) keeps the raw fields rather than losing them silently;
// saving it again asks for a declaration.
OpAttrs get_attrs(const Json* value, const OpDef& def, const Where& where, int version,
                  std::int64_t max_elements) {
  if (version < kFirstVersionWithNamedAttrs) {
    OpAttrs raw = value != nullptr ? get_raw_attrs(*value, where, max_elements) : OpAttrs{};
    try {
      if (def.upgrade_attrs != nullptr) raw = def.upgrade_attrs(raw);
      return def.attributes.empty() ? raw : canonical_attributes(def.attributes, raw);
    } catch (const Error& e) {
      fail(where, std::string("does not fit op ") + std::string(def.name) + ": " + e.what());
    }
  }
  OpAttrs attrs = default_attributes(def.attributes);
  if (value == nullptr) return attrs;
  if (!value->is_object()) fail(where, "must be an object, not " + json_type(*value));
  for (const auto& [key, item] : value->items()) {
    const AttrSpec* spec = find_attribute(def.attributes, key);
    if (spec == nullptr) {
      fail(where, "names the attribute " + in_quotes(key) + ", which op " + std::string(def.name) +
                      " does not have; its attributes: " + attribute_names(def.attributes));
    }
    const Where at = where.field(spec->name);
    const AttrValue decoded = get_attribute(item, *spec, at, max_elements);
    try {
      write_attribute(attrs, *spec, decoded);
    } catch (const Error& e) {
      fail(at, e.what());
    }
  }
  return attrs;
}

// ---------------------------------------------------------------- reading: scopes

// Opens and closes Graph::Scope objects so that nodes are built in the scope the file names.
// Scopes must close innermost first, which a plain vector's destructor does not promise.
class ScopeStack {
 public:
  explicit ScopeStack(Graph& graph) : graph_(graph) {}
  ~ScopeStack() { close_to(0); }
  ScopeStack(const ScopeStack&) = delete;
  ScopeStack& operator=(const ScopeStack&) = delete;

  void enter(std::string_view path, const Where& where) {
    if (path.size() > kMaxScopeBytes) {
      fail(where, "is " + std::to_string(path.size()) + " bytes long; at most " +
                      std::to_string(kMaxScopeBytes) + " are accepted");
    }
    std::vector<std::string_view> parts;
    while (!path.empty()) {
      const std::size_t slash = path.find('/');
      const std::string_view part = path.substr(0, slash);
      if (part.empty()) fail(where, "has an empty scope name between '/' separators");
      parts.push_back(part);
      if (parts.size() > kMaxScopeDepth) {
        fail(where, "nests more than " + std::to_string(kMaxScopeDepth) +
                        " scopes deep, the most a file may hold");
      }
      path = slash == std::string_view::npos ? std::string_view{} : path.substr(slash + 1);
      if (slash != std::string_view::npos && path.empty())
        fail(where, "ends with '/'; scope names are separated by '/' and are non-empty");
    }
    std::size_t common = 0;
    while (common < parts.size() && common < names_.size() && names_[common] == parts[common])
      ++common;
    close_to(common);
    for (std::size_t i = common; i < parts.size(); ++i) {
      scopes_.push_back(std::make_unique<Graph::Scope>(graph_, parts[i]));
      names_.emplace_back(parts[i]);
    }
  }

 private:
  void close_to(std::size_t depth) {
    while (scopes_.size() > depth) {
      scopes_.pop_back();
      names_.pop_back();
    }
  }
  Graph& graph_;
  std::vector<std::unique_ptr<Graph::Scope>> scopes_;
  std::vector<std::string> names_;
};

// ---------------------------------------------------------------- reading: nodes

struct NodeReader {
  NodeReader(Graph& graph_to_fill, const LoadOptions& load_options, int file_version)
      : graph(graph_to_fill), options(load_options), version(file_version), scopes(graph) {}

  Graph& graph;
  const LoadOptions& options;
  int version;
  ScopeStack scopes;
  std::size_t index = 0;

  // "node #3 (op add)", and with a name "node #3 'w' (op parameter)"; op and name are views of
  // the node being read.
  Where where_node(const Json* op, std::string_view name = {}) const {
    const bool has_op = op != nullptr && op->is_string();
    return Where::node(index, has_op ? std::string_view(op->get_ref<const std::string&>()) : "",
                       name);
  }

  void read(const Json& node) {
    const Where where = where_node(node.is_object() ? optional_field(node, "op") : nullptr);
    if (!node.is_object()) fail(where, "must be an object, not " + json_type(node));
    check_keys(node,
               {"id", "op", "name", "scope", "dtype", "shape", "inputs", "attrs", "requires_grad",
                "classes", "gradient", "data", "crc32"},
               where);
    check_no_crc_before_version_2(node, version, where);
    const std::int64_t id = get_integer(require(node, "id", where), where.field("id"), 0,
                                        std::numeric_limits<std::int64_t>::max());
    if (static_cast<std::size_t>(id) != index) {
      fail(where.field("id"),
           "is " + std::to_string(id) + "; nodes must be listed in order, the n-th with id n");
    }
    const std::string& op_text = get_string(require(node, "op", where), where.field("op"));
    const std::optional<OpId> op = OpRegistry::global().find(op_text);
    if (!op) {
      fail(where.field("op"), "names the unknown op " + in_quotes(op_text) +
                                  "; register it with OpRegistry::global().add() before "
                                  "loading, or check the file's spelling");
    }
    const DType dtype = get_dtype(require(node, "dtype", where), where.field("dtype"));
    const Shape shape =
        get_shape(require(node, "shape", where), where.field("shape"), options.max_elements);
    std::string name;
    if (const Json* v = optional_field(node, "name")) {
      const std::string& text = get_string(*v, where.field("name"));
      // Checked before the name costs anything: a graph interns it, pictures draw it.
      if (text.size() > options.max_name_bytes) {
        fail(where.field("name"), "is " + std::to_string(text.size()) + " bytes long; at most " +
                                      std::to_string(options.max_name_bytes) +
                                      " are accepted (LoadOptions::max_name_bytes)");
      }
      name = text;
    }
    std::string scope;
    if (const Json* v = optional_field(node, "scope")) scope = get_string(*v, where.field("scope"));
    scopes.enter(scope, where.field("scope"));

    const bool leaf = OpRegistry::global()[*op].grad_kind == GradKind::leaf;
    const Expr built = leaf ? read_leaf(node, *op, name, shape, dtype, where)
                            : read_op(node, *op, name, shape, dtype, where);
    if (const Json* v = optional_field(node, "requires_grad");
        v != nullptr && get_bool(*v, where.field("requires_grad"))) {
      if (*op != op_id(LeafOp::input))
        fail(where.field("requires_grad"), "is set, but only input nodes carry it");
      graph.set_requires_grad(built);
    }
    if (const Json* v = optional_field(node, "classes")) {
      const Where classes = where.field("classes");
      if (*op != op_id(LeafOp::input) || shape.rank() != 1)
        fail(classes, "is set, but only inputs of class labels (rank 1) carry it");
      GraphInternals::set_class_labels(graph, built.id(),
                                       get_integer(*v, classes, 1, std::int64_t{1} << 24));
    }
    if (const Json* v = optional_field(node, "gradient");
        v != nullptr && get_bool(*v, where.field("gradient"))) {
      GraphInternals::mark_gradient(graph, built);
    }
    ++index;
  }

  Expr read_leaf(const Json& node, OpId op, const std::string& name, const Shape& shape,
                 DType dtype, const Where& where) {
    for (const char* field : {"inputs", "attrs"}) {
      if (optional_field(node, field) != nullptr)
        fail(where.field(field), "is given, but leaves have no inputs or attributes");
    }
    if (op == op_id(LeafOp::input)) {
      for (const char* field : {"data", "crc32"}) {
        if (optional_field(node, field) != nullptr) {
          fail(where.field(field),
               "is given, but inputs are fed per run; save their latest value under 'values'");
        }
      }
      if (name.empty()) fail(where, "needs a 'name': inputs are fed by name");
      return graph.input(name, shape, dtype);
    }
    const Tensor value = get_tensor(node, shape, dtype, where, version,
                                    where_node(optional_field(node, "op"), name).text());
    if (op == op_id(LeafOp::parameter)) {
      if (name.empty()) fail(where, "needs a 'name': optimizers and pictures refer to it");
      return graph.parameter(name, value);
    }
    return graph.constant(value, name);
  }

  Expr read_op(const Json& node, OpId op, const std::string& name, const Shape& shape, DType dtype,
               const Where& where) {
    for (const char* field : {"data", "crc32"}) {
      if (optional_field(node, field) != nullptr) {
        fail(where.field(field),
             "is given, but only parameters and constants hold data; save an op's latest value "
             "under 'values'");
      }
    }
    const Json& inputs_json = require(node, "inputs", where);
    if (!inputs_json.is_array())
      fail(where.field("inputs"), "must be an array of node ids, not " + json_type(inputs_json));
    std::vector<Expr> inputs;
    for (std::size_t i = 0; i < inputs_json.size(); ++i) {
      const Where slot = where.field("inputs").at(i);
      const std::int64_t input =
          get_integer(inputs_json[i], slot, 0, std::numeric_limits<std::int64_t>::max());
      if (static_cast<std::size_t>(input) >= index) {
        fail(slot, "refers to node #" + std::to_string(input) +
                       ", which is not listed before this one; a node's inputs must come "
                       "first (a later or missing node would make a cycle)");
      }
      inputs.push_back(graph.expr(static_cast<NodeId>(input)));
    }
    // Attribute messages name the node by its name too: "node #3 'logits' (op matmul)".
    const OpAttrs attrs = get_attrs(optional_field(node, "attrs"), OpRegistry::global()[op],
                                    where_node(optional_field(node, "op"), name).field("attrs"),
                                    version, options.max_elements);
    Expr built;
    try {
      built = graph.apply(op, inputs, attrs, name);
    } catch (const Error& e) {
      fail(where, std::string("does not build: ") + e.what());
    }
    check_size(built.shape(), where, options.max_elements);
    if (!(built.shape() == shape) || built.dtype() != dtype) {
      fail(where, "is " + std::string(dtype_name(dtype)) + " " + shape.to_string() +
                      " in the file, but its inputs give " +
                      std::string(dtype_name(built.dtype())) + " " + built.shape().to_string() +
                      "; the file is inconsistent");
    }
    return built;
  }
};

// ---------------------------------------------------------------- reading: the file as a stream

// The top-level fields, in the order write_graph gives them.
constexpr std::array<std::string_view, 6> kTopFields = {"format", "version",   "nodes",
                                                        "values", "gradients", "anomaly_node"};
enum class TopField { format, version, nodes, values, gradients, anomaly_node };

std::string known_top_fields() {
  std::string list;
  for (const std::string_view k : kTopFields) list += (list.empty() ? "" : ", ") + std::string(k);
  return list;
}

// Reads a graph file from nlohmann's SAX events (nlohmann::json::sax_parse). The top-level object
// and its lists ('nodes', 'values', 'gradients') are followed event by event; each entry of a
// list is collected into a small Json value and read as soon as it closes, then dropped. So the
// document is never built: time is linear in the file's size and memory holds the graph and one
// entry. Along the way it enforces what a DOM parser would not: a nesting limit that costs one
// comparison per container, no duplicate keys, and a bound on the fields of any object.
class GraphFileReader {
 public:
  explicit GraphFileReader(const LoadOptions& options)
      : options_(options), loaded_{std::make_unique<Graph>(), {}} {}

  LoadedGraph finish() {
    if (state_ != State::done) throw Error("not valid JSON: the graph file ended early");
    return std::move(loaded_);
  }

  // ---- nlohmann's SAX interface; every refusal throws dagprop::Error.
  bool null() { return scalar(nullptr); }
  bool boolean(bool value) { return scalar(value); }
  bool number_integer(Json::number_integer_t value) { return scalar(value); }
  bool number_unsigned(Json::number_unsigned_t value) { return scalar(value); }
  bool number_float(Json::number_float_t value, const Json::string_t&) { return scalar(value); }
  bool string(Json::string_t& value) { return scalar(std::move(value)); }
  bool binary(Json::binary_t&) { return scalar(nullptr); }  // not produced by JSON text
  bool start_object(std::size_t) { return open(Json::object()); }
  bool start_array(std::size_t) { return open(Json::array()); }
  bool end_object() { return close(); }
  bool end_array() { return close(); }

  bool key(Json::string_t& key) {
    if (!building()) return top_key(key);
    Json& object = *open_.back();
    if (object.contains(key)) fail(where_building(), "has the field " + in_quotes(key) + " twice");
    if (object.size() >= kMaxObjectFields) {
      fail(where_building(), "has more than " + std::to_string(kMaxObjectFields) +
                                 " fields; no object of a graph file has as many");
    }
    key_ = std::move(key);
    return true;
  }

  bool parse_error(std::size_t, const std::string&, const nlohmann::detail::exception& e) {
    throw Error("not valid JSON (" + excerpt(e.what()) +
                "); the file is truncated or not a dagprop graph file");
  }

 private:
  // Where the reader stands between events that are not inside a collected value.
  enum class State { start, top, top_value, list, done };

  bool building() const { return !open_.empty(); }

  // ---- containers
  bool open(Json container) {
    if (++depth_ > kMaxJsonDepth) {
      throw Error("JSON nested deeper than " + std::to_string(kMaxJsonDepth) +
                  " levels; a graph file needs at most 5");
    }
    const bool is_array = container.is_array();
    switch (building() ? State::list : state_) {
      case State::start:
        if (is_array) fail(top_, "must hold a JSON object, not an array");
        state_ = State::top;
        return true;
      case State::top_value:
        if (is_array && (field_ == TopField::nodes || field_ == TopField::values ||
                         field_ == TopField::gradients)) {
          begin_list();
          return true;
        }
        break;
      case State::list:
        // Inside a collected value, an array holds numbers only (shapes, inputs, ints).
        if (building() && open_.back()->is_array()) {
          fail(where_building(), "holds " + std::string(is_array ? "an array" : "an object") +
                                     "; arrays in a graph file hold numbers");
        }
        break;
      default:
        break;
    }
    // An object's fields are a vector of pairs with const keys, which grow by copying: room for
    // the most any object may hold is made once.
    if (!is_array) container.get_ref<Json::object_t&>().reserve(kMaxObjectFields);
    open_.push_back(place(std::move(container)));
    return true;
  }

  bool close() {
    --depth_;
    if (building()) {
      open_.pop_back();
      if (!building()) value_done();
      return true;
    }
    if (state_ == State::list) {
      end_list();
    } else {
      end_top();  // only the top-level object closes outside a value or list
    }
    return true;
  }

  // ---- values: scalars, and containers being collected
  template <typename T>
  bool scalar(T&& value) {
    if (state_ == State::start) {
      fail(top_, "must hold a JSON object, not " + json_type(Json(std::forward<T>(value))));
    }
    place(Json(std::forward<T>(value)));
    if (!building()) value_done();
    return true;
  }

  // Puts a value where the event stream says: the value itself, an array's next element or the
  // field of the last key. Only the innermost open container grows, so pointers to the outer ones
  // stay valid.
  Json* place(Json&& value) {
    if (!building()) {
      value_ = std::move(value);
      return &value_;
    }
    Json& parent = *open_.back();
    if (parent.is_array()) {
      parent.push_back(std::move(value));
      return &parent.back();
    }
    // key() has refused a repeated key, so the field is appended without another search.
    auto& fields = parent.get_ref<Json::object_t&>();
    fields.emplace_back(std::move(key_), std::move(value));
    return &fields.back().second;
  }

  // A value is complete: a top-level field's value or a list's entry.
  void value_done() {
    if (state_ == State::list) {
      read_entry(value_);
      ++entry_;
    } else {
      read_top_value(value_);
      state_ = State::top;
    }
    value_ = Json();
  }

  // Where the innermost open container of the value being collected stands, for messages about
  // its keys or nesting: "node #3 (op sum): field 'attrs'".
  Where where_building() const {
    Where where = list_where();
    if (state_ == State::list && field_ == TopField::nodes) {
      where = node_reader_->where_node(value_.is_object() ? optional_field(value_, "op") : nullptr);
    } else if (state_ == State::list) {
      where = where.at(entry_);
    }
    // Each open container is the last element of the one that holds it.
    for (std::size_t i = 1; i < open_.size(); ++i) {
      const Json& parent = *open_[i - 1];
      where = parent.is_array() ? where.at(parent.size() - 1)
                                : where.field(parent.get_ref<const Json::object_t&>().back().first);
    }
    return where;
  }

  Where list_where() const { return top_.field(kTopFields[static_cast<std::size_t>(field_)]); }

  // ---- the top-level object
  bool top_key(const std::string& key) {
    const auto it = std::find(kTopFields.begin(), kTopFields.end(), key);
    if (it == kTopFields.end()) {
      fail(top_, "has an unknown field " + in_quotes(key) + " (known: " + known_top_fields() + ")");
    }
    field_ = static_cast<TopField>(it - kTopFields.begin());
    const auto bit = std::size_t{1} << static_cast<std::size_t>(field_);
    if ((seen_ & bit) != 0) fail(top_, "has the field '" + key + "' twice");
    seen_ |= bit;
    state_ = State::top_value;
    return true;
  }

  bool seen(TopField field) const {
    return (seen_ & (std::size_t{1} << static_cast<std::size_t>(field))) != 0;
  }

  void read_top_value(const Json& value) {
    const Where where = top_.field(kTopFields[static_cast<std::size_t>(field_)]);
    switch (field_) {
      case TopField::format: {
        const std::string& format = get_string(value, where);
        if (format != kFormatName) {
          fail(where, "is " + in_quotes(format) + "; a dagprop graph file says '" +
                          std::string(kFormatName) + "'");
        }
        break;
      }
      case TopField::version: {
        const std::int64_t version =
            get_integer(value, where, 1, std::numeric_limits<std::int64_t>::max());
        if (version > kGraphFileVersion) {
          throw Error("the graph file has format version " + std::to_string(version) +
                      ", newer than this dagprop reads (up to " +
                      std::to_string(kGraphFileVersion) + "); upgrade dagprop to load it");
        }
        version_ = static_cast<int>(version);
        break;
      }
      case TopField::anomaly_node:
        anomaly_node_ = value;  // checked once the nodes are known
        break;
      default:  // the lists, given as something other than an array
        fail(where, "must be an array, not " + json_type(value));
    }
  }

  void end_top() {
    for (const TopField field : {TopField::format, TopField::version, TopField::nodes}) {
      if (!seen(field)) {
        fail(top_, "is missing the field '" +
                       std::string(kTopFields[static_cast<std::size_t>(field)]) + "'");
      }
    }
    if (!anomaly_node_.is_null()) {
      const Where where = top_.field("anomaly_node");
      if (loaded_.graph->size() == 0) fail(where, "is set in an empty graph");
      GraphInternals::set_anomaly_node(
          *loaded_.graph,
          static_cast<NodeId>(get_integer(anomaly_node_, where, 0,
                                          static_cast<std::int64_t>(loaded_.graph->size()) - 1)));
    }
    state_ = State::done;
  }

  // ---- the lists
  void begin_list() {
    if (field_ == TopField::nodes) {
      // The version decides what a node may hold, so it must be known before the first one.
      for (const TopField field : {TopField::format, TopField::version}) {
        if (!seen(field)) {
          fail(top_, "is missing the field '" +
                         std::string(kTopFields[static_cast<std::size_t>(field)]) +
                         "' before 'nodes' (a graph file starts with its format and version)");
        }
      }
      node_reader_.emplace(*loaded_.graph, options_, version_);
    } else if (!nodes_done_) {
      fail(list_where(), "comes before 'nodes'; a graph file lists its nodes first");
    }
    state_ = State::list;
    entry_ = 0;
  }

  void end_list() {
    if (field_ == TopField::nodes) {
      node_reader_.reset();  // closes the scopes the last nodes were built in
      nodes_done_ = true;
    }
    state_ = State::top;
  }

  void read_entry(const Json& entry) {
    if (field_ == TopField::nodes) {
      node_reader_->read(entry);
      return;
    }
    const Where where = list_where().at(entry_);
    const Graph& graph = *loaded_.graph;
    if (!entry.is_object()) fail(where, "must be an object, not " + json_type(entry));
    check_keys(entry, {"node", "data", "crc32"}, where);
    check_no_crc_before_version_2(entry, version_, where);
    if (graph.size() == 0) fail(where, "refers to a node, but the graph has none");
    const auto id =
        static_cast<NodeId>(get_integer(require(entry, "node", where), where.field("node"), 0,
                                        static_cast<std::int64_t>(graph.size()) - 1));
    auto& into = field_ == TopField::values ? loaded_.snapshot.values : loaded_.snapshot.gradients;
    if (into.contains(id)) fail(where, "repeats node #" + std::to_string(id));
    const std::string tensor =
        std::string(field_ == TopField::values ? "the value" : "the gradient") + " of node " +
        graph.describe(id) + " (field '" +
        std::string(kTopFields[static_cast<std::size_t>(field_)]) + "'[" + std::to_string(entry_) +
        "])";
    into.emplace(
        id, get_tensor(entry, graph.shape_of(id), graph.node(id).dtype, where, version_, tensor));
  }

  const LoadOptions& options_;
  LoadedGraph loaded_;
  const Where top_{"the file"};
  State state_ = State::start;
  int depth_ = 0;
  std::size_t seen_ = 0;  // a bit per TopField
  TopField field_ = TopField::format;
  int version_ = 1;
  bool nodes_done_ = false;
  Json anomaly_node_;
  std::optional<NodeReader> node_reader_;
  std::size_t entry_ = 0;
  // The value being collected, its open containers (innermost last) and the last key read.
  Json value_;
  std::vector<Json*> open_;
  std::string key_;
};

// A file read in blocks, seen by the parser through BlockIterator: parsing from memory is faster
// than through std::istream (about a tenth of a load's time went to its per-character calls), and
// the file's text is never held whole.
class FileBlocks {
 public:
  explicit FileBlocks(std::FILE* file) : file_(file), buffer_(kIoBlockBytes) {}
  bool at_end() {
    if (position_ < size_) return false;
    position_ = 0;
    size_ = std::fread(buffer_.data(), 1, buffer_.size(), file_);
    if (size_ == 0 && std::ferror(file_) != 0) read_error_ = errno;
    return size_ == 0;
  }
  const char& current() const { return buffer_[position_]; }
  void next() { ++position_; }
  int read_error() const { return read_error_; }

 private:
  std::FILE* file_;
  std::vector<char> buffer_;
  std::size_t position_ = 0, size_ = 0;
  int read_error_ = 0;
};

// An input iterator over FileBlocks, compared only with the end (a null one), which is what
// nlohmann's iterator input adapter does.
class BlockIterator {
 public:
  using iterator_category = std::input_iterator_tag;
  using value_type = char;
  using difference_type = std::ptrdiff_t;
  using pointer = const char*;
  using reference = const char&;

  BlockIterator() = default;
  explicit BlockIterator(FileBlocks& blocks) : blocks_(&blocks) {}
  reference operator*() const { return blocks_->current(); }
  BlockIterator& operator++() {
    blocks_->next();
    return *this;
  }
  friend bool operator==(const BlockIterator& a, const BlockIterator& b) {
    return a.at_end() == b.at_end();
  }

 private:
  bool at_end() const { return blocks_ == nullptr || blocks_->at_end(); }
  FileBlocks* blocks_ = nullptr;
};

LoadedGraph read_stream(const char* first, const char* last, const LoadOptions& options) {
  GraphFileReader reader(options);
  // strict: nothing but white space may follow the object.
  Json::sax_parse(first, last, &reader, nlohmann::json::input_format_t::json, /*strict=*/true);
  return reader.finish();
}

LoadedGraph read_stream(FileBlocks& blocks, const LoadOptions& options) {
  GraphFileReader reader(options);
  Json::sax_parse(BlockIterator(blocks), BlockIterator(), &reader,
                  nlohmann::json::input_format_t::json, /*strict=*/true);
  return reader.finish();
}

// ---------------------------------------------------------------- writing: the stream

// Writes the file in blocks to `emit` (a string, or a file), so that saving holds one block and
// one node's text rather than the whole file.
void write_graph_blocks(const Graph& graph, const SaveOptions& options,
                        const std::function<void(std::string_view)>& emit) {
  std::string block;
  auto add = [&](std::string_view text) {
    block += text;
    if (block.size() >= kIoBlockBytes) {
      emit(block);
      block.clear();
    }
  };
  // One line per node and per tensor entry: readable, and diffs show which node changed.
  add("{\n \"format\": " + dump(kFormatName) +
      ",\n \"version\": " + std::to_string(kGraphFileVersion) + ",\n \"nodes\": [");
  for (NodeId id = 0; id < graph.size(); ++id) {
    add(id == 0 ? "\n  " : ",\n  ");
    add(dump(node_json(graph, id)));
  }
  add("\n ]");
  auto write_list = [&](std::string_view key, auto latest) {
    add(",\n \"" + std::string(key) + "\": [");
    bool first = true;
    for (NodeId id = 0; id < graph.size(); ++id) {
      if (const std::optional<TensorView> tensor = latest(id)) {
        add(first ? "\n  " : ",\n  ");
        add(dump(tensor_entry(id, *tensor)));
        first = false;
      }
    }
    add("\n ]");
  };
  if (options.values) {
    write_list("values", [&](NodeId id) -> std::optional<TensorView> {
      // Parameters and constants carry their value in the node itself.
      if (graph.is_parameter(id) || graph.is_constant(id)) return std::nullopt;
      return latest_value(graph, options.snapshot, id);
    });
  }
  if (options.gradients) {
    write_list("gradients",
               [&](NodeId id) { return latest_gradient(graph, options.snapshot, id); });
  }
  if (graph.anomaly_node() != kNoNode)
    add(",\n \"anomaly_node\": " + std::to_string(graph.anomaly_node()));
  add("\n}\n");
  if (!block.empty()) emit(block);
}

struct FileCloser {
  void operator()(std::FILE* file) const { std::fclose(file); }
};

}  // namespace

// ---------------------------------------------------------------- public functions

std::string write_graph(const Graph& graph, const SaveOptions& options) {
  std::string text;
  write_graph_blocks(graph, options, [&](std::string_view block) { text += block; });
  return text;
}

void save_graph(const Graph& graph, const std::string& path, const SaveOptions& options) {
  std::unique_ptr<std::FILE, FileCloser> file(std::fopen(path.c_str(), "wb"));
  if (!file) {
    throw Error("cannot open '" + path + "' to save the graph: " + std::strerror(errno) +
                "; check that the directory exists and is writable");
  }
  auto failed = [&](int error) {
    return Error("writing the graph to '" + path + "' failed: " + std::strerror(error) +
                 "; the file is incomplete (free space, or choose another place, and save again)");
  };
  write_graph_blocks(graph, options, [&](std::string_view block) {
    if (std::fwrite(block.data(), 1, block.size(), file.get()) != block.size()) throw failed(errno);
  });
  // Buffered bytes reach the device here; a full disk often shows only now.
  if (std::fflush(file.get()) != 0) throw failed(errno);
  if (std::fclose(file.release()) != 0) throw failed(errno);
}

LoadedGraph read_graph(std::string_view text, const LoadOptions& options) {
  if (text.size() > options.max_file_bytes) {
    throw Error("the graph file has " + std::to_string(text.size()) + " bytes, over the limit of " +
                std::to_string(options.max_file_bytes) + " (LoadOptions::max_file_bytes)");
  }
  return read_stream(text.data(), text.data() + text.size(), options);
}

LoadedGraph load_graph(const std::string& path, const LoadOptions& options) {
  std::error_code error;
  const std::uintmax_t size = std::filesystem::file_size(path, error);
  if (error) throw Error("cannot read graph file '" + path + "': " + error.message());
  if (size > options.max_file_bytes) {
    throw Error("graph file '" + path + "' has " + std::to_string(size) +
                " bytes, over the limit of " + std::to_string(options.max_file_bytes) +
                " (LoadOptions::max_file_bytes)");
  }
  std::unique_ptr<std::FILE, FileCloser> file(std::fopen(path.c_str(), "rb"));
  if (!file) throw Error("cannot open graph file '" + path + "': " + std::strerror(errno));
  FileBlocks blocks(file.get());
  try {
    return read_stream(blocks, options);
  } catch (const Error& e) {
    // A read error looks like the end of the file to the parser; say what it really was.
    if (blocks.read_error() != 0) {
      throw Error("reading graph file '" + path +
                  "' failed: " + std::strerror(blocks.read_error()));
    }
    throw Error("graph file '" + path + "': " + e.what());
  }
}

}  // namespace dagprop
