// Graph files: JSON for the structure (nlohmann-json), base64 of little-endian bytes for tensor
// data. The loader trusts nothing: each field is type-checked, sizes are bounded before anything
// is allocated, and the graph is rebuilt through the public Graph API so shape rules run again.
#include <dagprop/graph_io.hpp>

#include <algorithm>
#include <bit>
#include <cmath>
#include <filesystem>
#include <fstream>
#include <limits>
#include <sstream>

#include <nlohmann/json.hpp>

#include <dagprop/error.hpp>
#include <dagprop/op_def.hpp>
#include <dagprop/ops.hpp>

#include "../graph_internals.hpp"
#include "base64.hpp"

namespace dagprop {
namespace {

using Json = nlohmann::ordered_json;

constexpr std::string_view kFormatName = "dagprop-graph";
// Each scope level interns its whole path in the graph, so a scope's cost grows with its depth
// times its length; both are bounded to keep memory a small multiple of the file's size.
constexpr std::size_t kMaxScopeDepth = 32;
constexpr std::size_t kMaxScopeBytes = 4096;
// OpAttrs::ints holds a handful of geometry numbers (a convolution's stride, padding, dilation).
constexpr std::size_t kMaxIntAttributes = 64;
// The schema nests five levels deep (root, nodes, node, attrs, attrs.shape); deeper input is
// refused while parsing, so nesting cannot cost more memory than the file's own size suggests.
constexpr int kMaxJsonDepth = 16;

// ---------------------------------------------------------------- tensor bytes

// Elements are stored little-endian whatever the host, so files move between machines.
std::vector<std::byte> little_endian_bytes(const TensorView& tensor) {
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

std::string encode_tensor(const TensorView& tensor) {
  return base64::encode(little_endian_bytes(tensor));
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

Json attrs_of(const OpAttrs& attrs) {
  const OpAttrs defaults;
  Json json = Json::object();
  if (std::bit_cast<std::uint64_t>(attrs.scalar) != std::bit_cast<std::uint64_t>(defaults.scalar))
    json["scalar"] = scalar_attribute(attrs.scalar);
  if (attrs.axis != defaults.axis) json["axis"] = attrs.axis;
  if (attrs.axis2 != defaults.axis2) json["axis2"] = attrs.axis2;
  if (attrs.keepdim != defaults.keepdim) json["keepdim"] = attrs.keepdim;
  if (attrs.all_axes != defaults.all_axes) json["all_axes"] = attrs.all_axes;
  if (!(attrs.shape == defaults.shape)) json["shape"] = dims_of(attrs.shape);
  if (!attrs.ints.empty()) json["ints"] = attrs.ints;
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
    Json attrs = attrs_of(graph.attrs_of(id));
    if (!attrs.empty()) json["attrs"] = std::move(attrs);
  }
  if (has_flag(node.flags, NodeFlags::requires_grad)) json["requires_grad"] = true;
  if (has_flag(node.flags, NodeFlags::gradient)) json["gradient"] = true;
  if (graph.is_parameter(id) || graph.is_constant(id)) {
    json["data"] = encode_tensor(graph.value(id));
  }
  return json;
}

// Names are bytes; a file is UTF-8, so invalid sequences become U+FFFD rather than failing.
std::string dump(const Json& json) {
  return json.dump(-1, ' ', false, Json::error_handler_t::replace);
}

Json tensor_entry(NodeId id, const TensorView& tensor) {
  Json json;
  json["node"] = id;
  json["data"] = encode_tensor(tensor);
  return json;
}

// ---------------------------------------------------------------- reading: checked accessors

// Where a field sits, for messages: "node #3 (op add): field 'inputs'".
struct Where {
  std::string text;
  Where field(std::string_view name) const {
    return {text + ": field '" + std::string(name) + "'"};
  }
  Where at(std::size_t i) const { return {text + "[" + std::to_string(i) + "]"}; }
};

[[noreturn]] void fail(const Where& where, const std::string& problem) {
  throw Error(where.text + " " + problem);
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
      fail(where, "has an unknown field '" + key + "' (known: " + list + ")");
    }
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
  fail(where, "is '" + name + "'; use \"float32\" or \"float64\"");
}

// Decodes base64 data into a new tensor of the given shape, after checking its length.
Tensor get_tensor(const Json& value, const Shape& shape, DType dtype, const Where& where) {
  const std::string& text = get_string(value, where);
  const std::size_t nbytes = static_cast<std::size_t>(shape.numel()) * dtype_size(dtype);
  if (text.size() != base64::encoded_length(nbytes)) {
    fail(where, "has " + std::to_string(text.size()) + " base64 characters, but " +
                    std::string(dtype_name(dtype)) + " " + shape.to_string() + " needs " +
                    std::to_string(base64::encoded_length(nbytes)) + " (" + std::to_string(nbytes) +
                    " bytes)");
  }
  Tensor tensor(shape, dtype);
  if (!base64::decode(text, {static_cast<std::byte*>(tensor.view().raw()), nbytes})) {
    fail(where, "is not valid base64 (RFC 4648, standard alphabet, '=' padding)");
  }
  if constexpr (std::endian::native == std::endian::big) {
    const std::vector<std::byte> swapped = little_endian_bytes(tensor.view());
    std::copy(swapped.begin(), swapped.end(), static_cast<std::byte*>(tensor.view().raw()));
  }
  return tensor;
}

OpAttrs get_attrs(const Json& value, const Where& where, std::int64_t max_elements) {
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
  Graph& graph;
  const LoadOptions& options;
  ScopeStack scopes;
  std::size_t index = 0;

  Where where_node(const Json* op) const {
    std::string text = "node #" + std::to_string(index);
    if (op != nullptr && op->is_string()) text += " (op " + op->get<std::string>() + ")";
    return {text};
  }

  void read(const Json& node) {
    const Where where = where_node(node.is_object() ? optional_field(node, "op") : nullptr);
    if (!node.is_object()) fail(where, "must be an object, not " + json_type(node));
    check_keys(node,
               {"id", "op", "name", "scope", "dtype", "shape", "inputs", "attrs", "requires_grad",
                "gradient", "data"},
               where);
    const std::int64_t id = get_integer(require(node, "id", where), where.field("id"), 0,
                                        std::numeric_limits<std::int64_t>::max());
    if (static_cast<std::size_t>(id) != index) {
      fail(where.field("id"),
           "is " + std::to_string(id) + "; nodes must be listed in order, the n-th with id n");
    }
    const std::string& op_text = get_string(require(node, "op", where), where.field("op"));
    const std::optional<OpId> op = OpRegistry::global().find(op_text);
    if (!op) {
      fail(where.field("op"), "names the unknown op '" + op_text +
                                  "'; register it with OpRegistry::global().add() before "
                                  "loading, or check the file's spelling");
    }
    const DType dtype = get_dtype(require(node, "dtype", where), where.field("dtype"));
    const Shape shape =
        get_shape(require(node, "shape", where), where.field("shape"), options.max_elements);
    std::string name;
    if (const Json* v = optional_field(node, "name")) name = get_string(*v, where.field("name"));
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
      if (optional_field(node, "data") != nullptr) {
        fail(where.field("data"),
             "is given, but inputs are fed per run; save their latest value under 'values'");
      }
      if (name.empty()) fail(where, "needs a 'name': inputs are fed by name");
      return graph.input(name, shape, dtype);
    }
    const Tensor value =
        get_tensor(require(node, "data", where), shape, dtype, where.field("data"));
    if (op == op_id(LeafOp::parameter)) {
      if (name.empty()) fail(where, "needs a 'name': optimizers and pictures refer to it");
      return graph.parameter(name, value);
    }
    return graph.constant(value, name);
  }

  Expr read_op(const Json& node, OpId op, const std::string& name, const Shape& shape, DType dtype,
               const Where& where) {
    if (optional_field(node, "data") != nullptr) {
      fail(where.field("data"),
           "is given, but only parameters and constants hold data; save an op's latest value "
           "under 'values'");
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
    OpAttrs attrs;
    if (const Json* v = optional_field(node, "attrs"))
      attrs = get_attrs(*v, where.field("attrs"), options.max_elements);
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

void read_tensors(const Json& root, std::string_view key, const Graph& graph,
                  std::unordered_map<NodeId, Tensor>& into) {
  const Json* list = optional_field(root, key);
  if (list == nullptr) return;
  const Where where{"field '" + std::string(key) + "'"};
  if (!list->is_array()) fail(where, "must be an array, not " + json_type(*list));
  for (std::size_t i = 0; i < list->size(); ++i) {
    const Json& entry = (*list)[i];
    const Where entry_where = where.at(i);
    if (!entry.is_object()) fail(entry_where, "must be an object, not " + json_type(entry));
    check_keys(entry, {"node", "data"}, entry_where);
    if (graph.size() == 0) fail(entry_where, "refers to a node, but the graph has none");
    const auto id = static_cast<NodeId>(get_integer(require(entry, "node", entry_where),
                                                    entry_where.field("node"), 0,
                                                    static_cast<std::int64_t>(graph.size()) - 1));
    if (into.contains(id)) fail(entry_where, "repeats node #" + std::to_string(id));
    into.emplace(id, get_tensor(require(entry, "data", entry_where), graph.shape_of(id),
                                graph.node(id).dtype, entry_where.field("data")));
  }
}

Json parse_json(std::string_view text) {
  const Json::parser_callback_t limit_depth = [](int depth, Json::parse_event_t, Json&) {
    if (depth > kMaxJsonDepth) {
      throw Error("JSON nested deeper than " + std::to_string(kMaxJsonDepth) +
                  " levels; a graph file needs at most 5");
    }
    return true;
  };
  try {
    return Json::parse(text.begin(), text.end(), limit_depth);
  } catch (const Json::exception& e) {
    throw Error(std::string("not valid JSON (") + e.what() +
                "); the file is truncated or not a dagprop graph file");
  }
}

}  // namespace

// ---------------------------------------------------------------- public functions

std::string write_graph(const Graph& graph, const SaveOptions& options) {
  // One line per node and per tensor entry: readable, and diffs show which node changed.
  std::string text = "{\n \"format\": " + dump(kFormatName) +
                     ",\n \"version\": " + std::to_string(kGraphFileVersion) + ",\n \"nodes\": [";
  for (NodeId id = 0; id < graph.size(); ++id) {
    text += (id == 0 ? "\n  " : ",\n  ") + dump(node_json(graph, id));
  }
  text += "\n ]";
  auto write_list = [&](std::string_view key, auto latest) {
    text += ",\n \"" + std::string(key) + "\": [";
    bool first = true;
    for (NodeId id = 0; id < graph.size(); ++id) {
      if (const std::optional<TensorView> tensor = latest(id)) {
        text += (first ? "\n  " : ",\n  ") + dump(tensor_entry(id, *tensor));
        first = false;
      }
    }
    text += "\n ]";
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
    text += ",\n \"anomaly_node\": " + std::to_string(graph.anomaly_node());
  return text + "\n}\n";
}

void save_graph(const Graph& graph, const std::string& path, const SaveOptions& options) {
  const std::string text = write_graph(graph, options);
  std::ofstream out(path, std::ios::binary);
  if (!out) throw Error("cannot open '" + path + "' to save the graph: check the directory");
  out.write(text.data(), static_cast<std::streamsize>(text.size()));
  out.close();
  if (!out) throw Error("writing the graph to '" + path + "' failed (disk full?)");
}

LoadedGraph read_graph(std::string_view text, const LoadOptions& options) {
  if (text.size() > options.max_file_bytes) {
    throw Error("the graph file has " + std::to_string(text.size()) + " bytes, over the limit of " +
                std::to_string(options.max_file_bytes) + " (LoadOptions::max_file_bytes)");
  }
  const Json root = parse_json(text);
  const Where top{"the file"};
  if (!root.is_object()) fail(top, "must hold a JSON object, not " + json_type(root));
  check_keys(root, {"format", "version", "nodes", "values", "gradients", "anomaly_node"}, top);
  const std::string& format = get_string(require(root, "format", top), top.field("format"));
  if (format != kFormatName) {
    fail(top.field("format"),
         "is '" + format + "'; a dagprop graph file says '" + std::string(kFormatName) + "'");
  }
  const std::int64_t version = get_integer(require(root, "version", top), top.field("version"), 1,
                                           std::numeric_limits<std::int64_t>::max());
  if (version > kGraphFileVersion) {
    throw Error("the graph file has format version " + std::to_string(version) +
                ", newer than this dagprop reads (up to " + std::to_string(kGraphFileVersion) +
                "); upgrade dagprop to load it");
  }
  const Json& nodes = require(root, "nodes", top);
  if (!nodes.is_array()) fail(top.field("nodes"), "must be an array, not " + json_type(nodes));

  LoadedGraph loaded{std::make_unique<Graph>(), {}};
  {
    NodeReader reader{*loaded.graph, options, ScopeStack(*loaded.graph)};
    for (const Json& node : nodes) reader.read(node);
  }
  read_tensors(root, "values", *loaded.graph, loaded.snapshot.values);
  read_tensors(root, "gradients", *loaded.graph, loaded.snapshot.gradients);
  if (const Json* v = optional_field(root, "anomaly_node")) {
    if (loaded.graph->size() == 0) fail(top.field("anomaly_node"), "is set in an empty graph");
    GraphInternals::set_anomaly_node(
        *loaded.graph,
        static_cast<NodeId>(get_integer(*v, top.field("anomaly_node"), 0,
                                        static_cast<std::int64_t>(loaded.graph->size()) - 1)));
  }
  return loaded;
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
  std::ifstream in(path, std::ios::binary);
  if (!in) throw Error("cannot open graph file '" + path + "'");
  std::ostringstream contents;
  contents << in.rdbuf();
  try {
    return read_graph(contents.str(), options);
  } catch (const Error& e) {
    throw Error("graph file '" + path + "': " + e.what());
  }
}

}  // namespace dagprop
