// ONNX import: the model's nodes, in the file's (topological) order, become dagprop nodes through
// one table of operators (kRules: name, opset range, attributes, builder). Values known at import
// time (initializers, Constant nodes, the Shape/Gather/Concat arithmetic PyTorch emits around
// Reshape) are folded here, so the graph holds only what depends on the inputs and parameters.
#include <algorithm>
#include <charconv>
#include <cmath>
#include <fstream>
#include <functional>
#include <limits>
#include <memory>
#include <optional>
#include <sstream>
#include <unordered_map>
#include <unordered_set>

#include <dagprop/error.hpp>
#include <dagprop/onnx.hpp>
#include <dagprop/ops.hpp>

#include "onnx_tensor.hpp"

namespace dagprop {
namespace {

using onnx_io::HostTensor;
using Known = std::shared_ptr<const HostTensor>;

constexpr std::int64_t kMinOpset = 13;
constexpr std::int64_t kMaxOpset = 17;

// A name of the model, as dagprop holds it: scopes are dagprop's '/', so ONNX's "/fc1/Gemm"
// becomes "fc1.Gemm".
std::string dagprop_name(std::string_view onnx_name) {
  std::string out;
  for (const char c : onnx_name) {
    if (c == '/') {
      if (!out.empty()) out += '.';
    } else {
      out += c;
    }
  }
  return out;
}

// A value of the model: a graph node, a tensor known at import time, or both (an initializer
// read as a parameter and as a constant).
struct Value {
  Expr expr;
  Known known;
  bool initializer = false;
  std::string unavailable;  // why this output cannot be used (Dropout's mask)
  bool integer = false;     // a float node cast to an integer type: only Gather's indices read it
};

class Importer;
using Builder = void (*)(Importer&, const onnx::NodeProto&);

struct Rule {
  OnnxOpSupport support;
  std::string_view attributes;  // the attributes it reads, comma-separated
  Builder build;
};

extern const std::vector<Rule>& rules();

class Importer {
 public:
  Importer(const onnx::ModelProto& model, const OnnxImportOptions& options)
      : model_(model),
        options_(options),
        result_{std::make_unique<Graph>(), {}, {}, {}, {}, 0, {}} {}

  OnnxModel run();

  // ---- what the builders use
  Graph& graph() { return *result_.graph; }
  std::int64_t opset() const { return result_.opset; }
  const onnx::NodeProto& node() const { return *node_; }
  std::int64_t max_elements() const { return options_.max_elements; }

  [[noreturn]] void fail(const std::string& problem) const {
    throw Error("ONNX node " + describe(*node_) + ": " + problem);
  }
  std::string describe(const onnx::NodeProto& n) const {
    return "'" + n.name() + "' (" + n.op_type() + ", opset " + std::to_string(result_.opset) + ")";
  }

  bool has_input(int i) const { return i < node_->input_size() && !node_->input(i).empty(); }
  const Value& value(int i) {
    if (!has_input(i)) fail("needs input " + std::to_string(i));
    return lookup(node_->input(i));
  }
  bool is_known(int i) { return value(i).known != nullptr; }
  // Known, and no parameter: folding a float initializer would cut its gradient off.
  bool foldable(int i) {
    const Value& v = value(i);
    return v.known != nullptr && !(v.initializer && !v.known->is_integer());
  }
  const HostTensor& known(int i, std::string_view what) {
    const Value& v = value(i);
    if (!v.known) {
      fail("its " + std::string(what) + " (input " + std::to_string(i) + ", '" + node_->input(i) +
           "') must be known when the model is imported (a constant or "
           "initializer, or shape arithmetic on static shapes); it depends on the graph's inputs");
    }
    return *v.known;
  }
  std::vector<std::int64_t> known_ints(int i, std::string_view what) {
    const HostTensor& t = known(i, what);
    std::vector<std::int64_t> out;
    for (std::int64_t k = 0; k < t.numel(); ++k) out.push_back(int_of(t, k));
    return out;
  }
  double known_scalar(int i, std::string_view what) {
    const HostTensor& t = known(i, what);
    if (t.numel() != 1)
      fail("its " + std::string(what) + " must be one number, got " + std::to_string(t.numel()));
    return t.real_at(0);
  }
  std::int64_t int_of(const HostTensor& t, std::int64_t k) {
    try {
      return t.int_at(k);
    } catch (const Error& e) {
      fail(e.what());
    }
  }
  // Input i as a graph node; a known value becomes a parameter (a float initializer) or a
  // constant, integers in the dtype `like` (dagprop's indices are whole numbers in the data's
  // dtype).
  Expr expr(int i, std::optional<DType> like = std::nullopt);
  DType dtype_of_first_node_input();

  void set_output(int i, Expr e) { define(i, Value{e, nullptr, false, {}, false}); }
  void set_known(int i, HostTensor t) {
    define(i, Value{{}, std::make_shared<const HostTensor>(std::move(t)), false, {}, false});
  }
  void set_value(int i, Value v) { define(i, std::move(v)); }
  void set_unavailable(int i, std::string why) {
    define(i, Value{{}, nullptr, false, std::move(why), false});
  }

  // ---- attributes
  const onnx::AttributeProto* attribute(std::string_view name) const {
    for (const auto& a : node_->attribute()) {
      if (a.name() == name) return &a;
    }
    return nullptr;
  }
  std::int64_t attr_int(std::string_view name, std::int64_t fallback) const {
    const auto* a = attribute(name);
    if (!a) return fallback;
    if (a->type() != onnx::AttributeProto::INT)
      fail("attribute '" + std::string(name) + "' must be an integer");
    return a->i();
  }
  // ONNX stores float attributes in float32: 1e-5 arrives as 9.99999974738e-06. The shortest
  // decimal that gives the same float (1e-05, as Python prints it) is what the exporter meant, so
  // it is read as that double: a float64 model keeps PyTorch's eps and slopes exactly.
  double attr_float(std::string_view name, double fallback) const {
    const auto* a = attribute(name);
    if (!a) return fallback;
    if (a->type() != onnx::AttributeProto::FLOAT)
      fail("attribute '" + std::string(name) + "' must be a float");
    char text[64];
    const auto written = std::to_chars(text, text + sizeof text, a->f());
    double value = a->f();
    std::from_chars(text, written.ptr, value);
    return value;
  }
  std::string attr_string(std::string_view name, std::string fallback) const {
    const auto* a = attribute(name);
    if (!a) return fallback;
    if (a->type() != onnx::AttributeProto::STRING)
      fail("attribute '" + std::string(name) + "' must be a string");
    return a->s();
  }
  std::optional<std::vector<std::int64_t>> attr_ints(std::string_view name) const {
    const auto* a = attribute(name);
    if (!a) return std::nullopt;
    if (a->type() != onnx::AttributeProto::INTS)
      fail("attribute '" + std::string(name) + "' must be a list of integers");
    return std::vector<std::int64_t>(a->ints().begin(), a->ints().end());
  }
  [[noreturn]] void unsupported_attribute(std::string_view name, const std::string& value,
                                          std::string_view supported) const {
    fail("attribute " + std::string(name) + " = " + value + " is not supported (dagprop imports " +
         std::string(supported) + ")");
  }
  int axis_of(std::int64_t axis, int rank) const {
    if (axis < -rank || axis >= std::max(rank, 1)) {
      fail("axis " + std::to_string(axis) + " is outside [" + std::to_string(-rank) + ", " +
           std::to_string(rank) + ")");
    }
    return static_cast<int>(axis < 0 ? axis + rank : axis);
  }

  // GELU fusion: the final Mul of an erf pattern, and the x it applies to.
  std::unordered_map<const onnx::NodeProto*, std::string> gelu_of;
  std::unordered_set<const onnx::NodeProto*> fused;

 private:
  const Value& lookup(const std::string& name) {
    const auto it = values_.find(name);
    if (it == values_.end()) {
      fail("its input '" + name +
           "' is defined by no earlier node, initializer or graph input "
           "(nodes must come in topological order: the model has a cycle, a node out of order, or "
           "a missing initializer)");
    }
    if (!it->second.unavailable.empty()) fail("its input '" + name + "' " + it->second.unavailable);
    return it->second;
  }
  void define(int i, Value v) {
    if (i >= node_->output_size() || node_->output(i).empty()) return;  // an unused optional output
    const std::string& name = node_->output(i);
    // A node's result is named after the ONNX node ("/fc1/Gemm" -> "fc1.Gemm"), for pictures.
    if (v.expr.valid() && !graph().is_leaf(v.expr.id()) &&
        graph().full_name_of(v.expr.id()).empty()) {
      const std::string label =
          dagprop_name(node_->output_size() == 1 && !node_->name().empty() ? node_->name() : name);
      if (!label.empty()) graph().set_name(v.expr, label);
    }
    if (!values_.emplace(name, std::move(v)).second) {
      fail("its output '" + name +
           "' is already defined by another node or an initializer (each "
           "name of an ONNX graph is defined once)");
    }
  }
  void read_initializers();
  void read_inputs();
  void find_gelu_patterns();
  void import_node(const onnx::NodeProto& n);
  std::optional<double> scalar_constant(const std::string& name);

  const onnx::ModelProto& model_;
  OnnxImportOptions options_;
  OnnxModel result_;
  const onnx::NodeProto* node_ = nullptr;
  std::unordered_map<std::string, Value> values_;
  std::unordered_map<std::string, const onnx::NodeProto*> producer_;
  std::unordered_map<std::string, int> uses_;
  DType float_dtype_ = DType::f32;
};

Expr Importer::expr(int i, std::optional<DType> like) {
  const Value& v = value(i);
  const std::string& name = node_->input(i);
  if (v.integer) {
    fail("its input '" + name +
         "' is a graph node cast to an integer type, which dagprop reads "
         "only as Gather's indices (its graphs hold one float dtype)");
  }
  if (v.expr.valid()) return v.expr;
  const HostTensor& t = *v.known;
  Value& stored = values_.at(name);
  const DType dtype = like.value_or(float_dtype_);
  if (v.initializer && !t.is_integer()) {
    stored.expr = graph().parameter(dagprop_name(name), t.to_tensor(dtype));
  } else {
    stored.expr = graph().constant(t.to_tensor(dtype), dagprop_name(name));
  }
  return stored.expr;
}

DType Importer::dtype_of_first_node_input() {
  for (int i = 0; i < node_->input_size(); ++i) {
    if (!has_input(i)) continue;
    const Value& v = value(i);
    if (v.expr.valid()) return v.expr.dtype();
    if (!v.known->is_integer())
      return v.known->elem_type == onnx::TensorProto::FLOAT ? DType::f32 : DType::f64;
  }
  return float_dtype_;
}

void Importer::read_initializers() {
  if (model_.graph().sparse_initializer_size() > 0) {
    throw Error("the ONNX graph has sparse initializers, which dagprop does not read");
  }
  bool have_dtype = false;
  for (const auto& init : model_.graph().initializer()) {
    auto t = onnx_io::read_tensor(init, options_.max_elements, "initializer '" + init.name() + "'");
    if (!have_dtype && !t.is_integer()) {
      float_dtype_ = t.elem_type == onnx::TensorProto::FLOAT ? DType::f32 : DType::f64;
      have_dtype = true;
    }
    Value v{{}, std::make_shared<const HostTensor>(std::move(t)), true, {}, false};
    if (init.name().empty()) throw Error("an initializer of the ONNX graph has no name");
    if (!values_.emplace(init.name(), std::move(v)).second) {
      throw Error("initializer '" + init.name() + "' is defined twice");
    }
  }
}

void Importer::read_inputs() {
  for (const auto& in : model_.graph().input()) {
    if (values_.contains(in.name())) continue;  // an initializer also listed as an input
    const std::string what = "graph input '" + in.name() + "'";
    if (!in.type().has_tensor_type())
      throw Error(what + " is not a tensor; dagprop reads tensor inputs only");
    const auto& tt = in.type().tensor_type();
    const std::int32_t elem = tt.elem_type();
    DType dtype = float_dtype_;
    if (elem == onnx::TensorProto::FLOAT)
      dtype = DType::f32;
    else if (elem == onnx::TensorProto::DOUBLE)
      dtype = DType::f64;
    else if (elem != onnx::TensorProto::INT64 && elem != onnx::TensorProto::INT32) {
      throw Error(what + " has elements of type " + onnx_io::elem_type_name(elem) +
                  "; dagprop reads FLOAT, DOUBLE and (as indices) INT64 and INT32 inputs");
    }
    if (!tt.has_shape()) throw Error(what + " has no shape; export it with a static shape");
    std::vector<std::int64_t> dims;
    for (const auto& d : tt.shape().dim()) {
      if (d.has_dim_value()) {
        dims.push_back(d.dim_value());
      } else {
        const auto it = options_.dim_values.find(d.dim_param());
        if (it == options_.dim_values.end()) {
          throw Error(what + " has the symbolic dimension '" + d.dim_param() +
                      "': give its value (OnnxImportOptions::dim_values, or --dim " +
                      d.dim_param() + "=N on the command line)");
        }
        dims.push_back(it->second);
      }
    }
    onnx_io::checked_numel(dims, options_.max_elements, what);
    Expr x =
        graph().input(dagprop_name(in.name()), Shape(std::span<const std::int64_t>(dims)), dtype);
    values_.emplace(in.name(), Value{x, nullptr, false, {}, false});
    result_.inputs.push_back(x);
    result_.index_inputs.push_back(elem == onnx::TensorProto::INT64 ||
                                   elem == onnx::TensorProto::INT32);
  }
}

// A one-element constant that a name is bound to before any node runs: an initializer or the
// value of a Constant node.
std::optional<double> Importer::scalar_constant(const std::string& name) {
  const auto v = values_.find(name);
  if (v != values_.end() && v->second.known && v->second.known->numel() == 1) {
    return v->second.known->real_at(0);
  }
  const auto p = producer_.find(name);
  if (p == producer_.end() || p->second->op_type() != "Constant") return std::nullopt;
  for (const auto& a : p->second->attribute()) {
    if (a.name() == "value" && a.type() == onnx::AttributeProto::TENSOR) {
      const HostTensor t =
          onnx_io::read_tensor(a.t(), options_.max_elements, "Constant '" + name + "'");
      if (t.numel() == 1) return t.real_at(0);
    }
    if (a.name() == "value_float" && a.type() == onnx::AttributeProto::FLOAT) return a.f();
  }
  return std::nullopt;
}

// PyTorch exports GELU (opsets below 20) as x * (1 + erf(x / sqrt 2)) * 0.5: Div, Erf, Add, Mul,
// Mul. dagprop has gelu but no erf, so the five nodes become one gelu when every intermediate is
// read by the pattern only.
void Importer::find_gelu_patterns() {
  const auto& nodes = model_.graph().node();
  std::unordered_map<std::string, const onnx::NodeProto*> consumer;  // the only reader of a name
  for (const auto& n : nodes) {
    for (const auto& in : n.input()) {
      ++uses_[in];
      consumer[in] = &n;
    }
    for (const auto& out : n.output()) producer_[out] = &n;
  }
  for (const auto& out : model_.graph().output()) uses_[out.name()] += 2;  // never fused away
  const auto only_reader = [&](const onnx::NodeProto& n) -> const onnx::NodeProto* {
    if (n.output_size() != 1 || uses_[n.output(0)] != 1) return nullptr;
    return consumer[n.output(0)];
  };
  const auto near = [](std::optional<double> v, double want) {
    return v && std::abs(*v - want) <= 1e-6 * want;
  };
  // The operand of a binary node that is not `name`.
  const auto other = [](const onnx::NodeProto& n, const std::string& name) -> std::string {
    if (n.input_size() != 2) return {};
    if (n.input(0) == name) return n.input(1);
    if (n.input(1) == name) return n.input(0);
    return {};
  };
  for (const auto& erf : nodes) {
    if (erf.op_type() != "Erf" || erf.input_size() != 1) continue;
    const auto p = producer_.find(erf.input(0));
    if (p == producer_.end()) continue;
    const onnx::NodeProto& div = *p->second;
    if (div.op_type() != "Div" || div.input_size() != 2 || only_reader(div) != &erf) continue;
    if (!near(scalar_constant(div.input(1)), std::sqrt(2.0))) continue;
    const std::string& x = div.input(0);
    const onnx::NodeProto* add = only_reader(erf);
    if (!add || add->op_type() != "Add" || !near(scalar_constant(other(*add, erf.output(0))), 1.0))
      continue;
    const onnx::NodeProto* m1 = only_reader(*add);
    if (!m1 || m1->op_type() != "Mul") continue;
    const onnx::NodeProto* m2 = only_reader(*m1);
    if (!m2 || m2->op_type() != "Mul") continue;
    const std::string m1_other = other(*m1, add->output(0));
    if (m1_other == x && near(scalar_constant(other(*m2, m1->output(0))), 0.5)) {
      // (x * (1 + erf)) * 0.5, as PyTorch writes it
    } else {
      continue;
    }
    fused.insert({&div, &erf, add, m1});
    gelu_of[m2] = x;
  }
}

std::string supported_list() {
  std::string out;
  for (const Rule& r : rules()) {
    if (!out.empty()) out += ", ";
    out += r.support.onnx_op;
  }
  return out;
}

void Importer::import_node(const onnx::NodeProto& n) {
  node_ = &n;
  if (fused.contains(&n)) return;
  if (const auto g = gelu_of.find(&n); g != gelu_of.end()) {
    const Expr x = lookup(g->second).expr.valid() ? lookup(g->second).expr : Expr{};
    if (!x.valid()) fail("the GELU pattern's input '" + g->second + "' must be a graph node");
    set_output(0, gelu(x));
    return;
  }
  if (!n.domain().empty() && n.domain() != "ai.onnx") {
    fail("its domain '" + n.domain() +
         "' is not the standard one; dagprop imports operators of "
         "the default domain (ai.onnx): " +
         supported_list());
  }
  const auto& all = rules();
  const auto rule = std::find_if(all.begin(), all.end(),
                                 [&](const Rule& r) { return r.support.onnx_op == n.op_type(); });
  if (rule == all.end()) {
    if (n.op_type() == "Erf") {
      fail(
          "Erf is imported only inside the erf form of GELU that PyTorch exports, x * (1 + "
          "erf(x / sqrt(2))) * 0.5 (dagprop has gelu, not erf); supported: " +
          supported_list());
    }
    fail("the operator is not supported; dagprop imports: " + supported_list());
  }
  if (result_.opset < rule->support.min_opset || result_.opset > rule->support.max_opset) {
    fail("dagprop imports " + n.op_type() + " at opsets " +
         std::to_string(rule->support.min_opset) + " to " +
         std::to_string(rule->support.max_opset) + "; re-export with another opset_version");
  }
  for (const auto& a : n.attribute()) {
    bool known_attribute = false;
    std::string_view list = rule->attributes;
    while (!list.empty()) {
      const auto comma = list.find(',');
      if (list.substr(0, comma) == a.name()) known_attribute = true;
      list = comma == std::string_view::npos ? std::string_view{} : list.substr(comma + 1);
    }
    if (!known_attribute) {
      fail("attribute '" + a.name() + "' is not supported; dagprop reads " +
           (rule->attributes.empty() ? std::string("none") : std::string(rule->attributes)) +
           " of " + n.op_type());
    }
  }
  try {
    rule->build(*this, n);
  } catch (const Error& e) {
    const std::string message = e.what();
    if (message.rfind("ONNX node ", 0) == 0) throw;
    fail(message);
  }
}

OnnxModel Importer::run() {
  for (const auto& op : model_.opset_import()) {
    if (op.domain().empty() || op.domain() == "ai.onnx") result_.opset = op.version();
  }
  if (result_.opset < kMinOpset || result_.opset > kMaxOpset) {
    throw Error("the ONNX model is at opset " + std::to_string(result_.opset) +
                " of the default domain; dagprop imports opsets " + std::to_string(kMinOpset) +
                " to " + std::to_string(kMaxOpset) +
                " (re-export with torch.onnx.export(..., opset_version=17))");
  }
  result_.producer = model_.producer_name() +
                     (model_.producer_version().empty() ? "" : " " + model_.producer_version());
  if (static_cast<std::size_t>(model_.graph().node_size()) > options_.max_nodes) {
    throw Error("the ONNX graph has " + std::to_string(model_.graph().node_size()) +
                " nodes, more than OnnxImportOptions::max_nodes (" +
                std::to_string(options_.max_nodes) + ")");
  }
  read_initializers();
  read_inputs();
  find_gelu_patterns();
  for (const auto& n : model_.graph().node()) import_node(n);
  node_ = nullptr;
  for (const auto& out : model_.graph().output()) {
    const auto it = values_.find(out.name());
    if (it == values_.end() || !it->second.unavailable.empty()) {
      throw Error("graph output '" + out.name() + "' is produced by no node of the ONNX graph");
    }
    Value& v = it->second;
    if (!v.expr.valid())
      v.expr = graph().constant(v.known->to_tensor(float_dtype_), dagprop_name(out.name()));
    result_.outputs.push_back(v.expr);
    result_.output_names.push_back(out.name());
  }
  return std::move(result_);
}

// ---- helpers of the builders

Shape shape_of(const std::vector<std::int64_t>& dims) {
  return Shape(std::span<const std::int64_t>(dims));
}

std::vector<std::int64_t> dims_of(const Shape& s) {
  return {s.dims().begin(), s.dims().end()};
}

// The dims of input i, known or not.
std::vector<std::int64_t> input_dims(Importer& im, int i) {
  const Value& v = im.value(i);
  return v.expr.valid() ? dims_of(v.expr.shape()) : v.known->dims;
}

// x with its axes permuted (out axis k = x axis perm[k]), as swaps of two axes.
Expr permute(Expr x, std::vector<std::int64_t> perm) {
  const int rank = x.shape().rank();
  std::vector<std::int64_t> current(static_cast<std::size_t>(rank));
  for (int k = 0; k < rank; ++k) current[static_cast<std::size_t>(k)] = k;
  for (int k = 0; k < rank; ++k) {
    const auto want = perm[static_cast<std::size_t>(k)];
    const auto at = std::find(current.begin() + k, current.end(), want) - current.begin();
    if (at != k) {
      x = transpose(x, k, static_cast<int>(at));
      std::swap(current[static_cast<std::size_t>(k)], current[static_cast<std::size_t>(at)]);
    }
  }
  return x;
}

// Applies f to the last axis after moving `axis` there (softmax, log_softmax).
Expr along_axis(Expr x, int axis, Expr (*f)(Expr)) {
  const int last = x.shape().rank() - 1;
  if (axis == last) return f(x);
  return transpose(f(transpose(x, axis, last)), axis, last);
}

HostTensor known_like(const HostTensor& src, std::vector<std::int64_t> dims) {
  HostTensor t;
  t.elem_type = src.elem_type;
  t.dims = std::move(dims);
  return t;
}

// Element `from` of src appended to t (same element kind).
void append_element(HostTensor& t, const HostTensor& src, std::int64_t from) {
  if (src.is_integer())
    t.ints.push_back(src.ints[static_cast<std::size_t>(from)]);
  else
    t.reals.push_back(src.reals[static_cast<std::size_t>(from)]);
}

// A known tensor of out_dims whose element at each multi-index is src's element
// source_of(index), visited in row-major order (folded Transpose and Slice).
template <class SourceOf>
HostTensor rearranged(const HostTensor& src, const std::vector<std::int64_t>& out_dims,
                      SourceOf source_of) {
  HostTensor t = known_like(src, out_dims);
  const auto rank = out_dims.size();
  std::int64_t n = 1;
  for (const auto d : out_dims) n *= d;
  std::vector<std::int64_t> index(rank, 0);
  for (std::int64_t i = 0; i < n; ++i) {
    append_element(t, src, source_of(index));
    for (std::size_t k = rank; k-- > 0;) {
      if (++index[k] < out_dims[k]) break;
      index[k] = 0;
    }
  }
  return t;
}

// Elementwise arithmetic on two known tensors (shape arithmetic: same shapes, or one element).
bool fold_binary(Importer& im, char op) {
  if (!im.foldable(0) || !im.foldable(1)) return false;
  const HostTensor& a = im.known(0, "operand");
  const HostTensor& b = im.known(1, "operand");
  if (a.numel() != b.numel() && a.numel() != 1 && b.numel() != 1) return false;
  HostTensor out =
      known_like(a.numel() >= b.numel() ? a : b, a.numel() >= b.numel() ? a.dims : b.dims);
  out.elem_type =
      a.is_integer() && b.is_integer() ? a.elem_type : (a.is_integer() ? b.elem_type : a.elem_type);
  const std::int64_t n = std::max(a.numel(), b.numel());
  for (std::int64_t i = 0; i < n; ++i) {
    const std::int64_t ia = a.numel() == 1 ? 0 : i, ib = b.numel() == 1 ? 0 : i;
    if (out.is_integer()) {
      const std::int64_t x = a.int_at(ia), y = b.int_at(ib);
      std::int64_t r = 0;
      bool overflow = false;
      if (op == '+') overflow = __builtin_add_overflow(x, y, &r);
      if (op == '-') overflow = __builtin_sub_overflow(x, y, &r);
      if (op == '*') overflow = __builtin_mul_overflow(x, y, &r);
      if (op == '/') {
        if (y == 0) im.fail("divides by zero in shape arithmetic");
        overflow = x == std::numeric_limits<std::int64_t>::min() && y == -1;
        if (!overflow) r = x / y;
      }
      if (overflow) im.fail("overflows int64 in shape arithmetic");
      out.ints.push_back(r);
    } else {
      const double x = a.real_at(ia), y = b.real_at(ib);
      out.reals.push_back(op == '+' ? x + y : op == '-' ? x - y : op == '*' ? x * y : x / y);
    }
  }
  im.set_known(0, std::move(out));
  return true;
}

template <Expr (*F)(Expr, Expr), char Op>
void build_binary(Importer& im, const onnx::NodeProto&) {
  if (fold_binary(im, Op)) return;
  const DType dtype = im.dtype_of_first_node_input();
  im.set_output(0, F(im.expr(0, dtype), im.expr(1, dtype)));
}

template <Expr (*F)(Expr)>
void build_unary(Importer& im, const onnx::NodeProto&) {
  im.set_output(0, F(im.expr(0)));
}

void build_identity(Importer& im, const onnx::NodeProto&) {
  im.set_value(0, im.value(0));
}

void build_neg(Importer& im, const onnx::NodeProto&) {
  if (im.foldable(0)) {
    HostTensor t = im.known(0, "operand");
    for (auto& v : t.reals) v = -v;
    for (auto& v : t.ints) {
      if (v == std::numeric_limits<std::int64_t>::min())
        im.fail("overflows int64 in shape arithmetic");
      v = -v;
    }
    im.set_known(0, std::move(t));
    return;
  }
  im.set_output(0, neg(im.expr(0)));
}

void build_pow(Importer& im, const onnx::NodeProto&) {
  im.set_output(0, pow(im.expr(0), im.known_scalar(1, "exponent")));
}

void build_leaky_relu(Importer& im, const onnx::NodeProto&) {
  im.set_output(0, leaky_relu(im.expr(0), im.attr_float("alpha", 0.01)));
}

void build_elu(Importer& im, const onnx::NodeProto&) {
  im.set_output(0, elu(im.expr(0), im.attr_float("alpha", 1.0)));
}

template <Expr (*F)(Expr)>
void build_softmax(Importer& im, const onnx::NodeProto&) {
  const Expr x = im.expr(0);
  im.set_output(0, along_axis(x, im.axis_of(im.attr_int("axis", -1), x.shape().rank()), F));
}

void build_gemm(Importer& im, const onnx::NodeProto&) {
  const DType dtype = im.dtype_of_first_node_input();
  const Expr a = im.expr(0, dtype), b = im.expr(1, dtype);
  if (a.shape().rank() != 2 || b.shape().rank() != 2) {
    im.fail("Gemm needs 2-D operands, got " + a.shape().to_string() + " and " +
            b.shape().to_string());
  }
  const double alpha = im.attr_float("alpha", 1.0), beta = im.attr_float("beta", 1.0);
  Expr y = matmul(a, b, {.a = im.attr_int("transA", 0) != 0, .b = im.attr_int("transB", 0) != 0});
  if (alpha != 1.0) y = scale(y, alpha);
  if (im.has_input(2)) {
    Expr c = im.expr(2, dtype);
    if (beta != 1.0) c = scale(c, beta);
    y = y + c;
  }
  im.set_output(0, y);
}

void build_matmul(Importer& im, const onnx::NodeProto&) {
  const DType dtype = im.dtype_of_first_node_input();
  Expr a = im.expr(0, dtype), b = im.expr(1, dtype);
  const bool a_vector = a.shape().rank() == 1, b_vector = b.shape().rank() == 1;
  if (a_vector) a = reshape(a, {1, a.shape()[0]});
  if (b_vector) b = reshape(b, {b.shape()[0], 1});
  Expr y = matmul(a, b);
  if (a_vector || b_vector) {
    std::vector<std::int64_t> dims = dims_of(y.shape());
    if (b_vector) dims.pop_back();
    if (a_vector) dims.erase(dims.end() - (b_vector ? 1 : 2));
    y = reshape(y, dims);
  }
  im.set_output(0, y);
}

// Reshape and its relatives: the output dims of a known input become the known's dims.
void set_reshaped(Importer& im, const std::vector<std::int64_t>& dims) {
  if (im.foldable(0)) {
    HostTensor t = im.known(0, "data");
    onnx_io::checked_numel(dims, im.max_elements(), "the reshaped tensor");
    t.dims = dims;
    im.set_known(0, std::move(t));
  } else {
    im.set_output(0, reshape(im.expr(0), dims));
  }
}

void build_reshape(Importer& im, const onnx::NodeProto&) {
  const auto in = input_dims(im, 0);
  auto dims = im.known_ints(1, "shape");
  if (im.attr_int("allowzero", 0) != 0) im.unsupported_attribute("allowzero", "1", "allowzero = 0");
  std::int64_t known = 1, infer = -1;
  for (std::size_t k = 0; k < dims.size(); ++k) {
    if (dims[k] == 0) {
      if (k >= in.size())
        im.fail("shape entry " + std::to_string(k) + " is 0 (copy) but the input has rank " +
                std::to_string(in.size()));
      dims[k] = in[k];
    }
    if (dims[k] == -1) {
      if (infer >= 0) im.fail("the shape has two -1 entries");
      infer = static_cast<std::int64_t>(k);
    } else if (dims[k] < 0) {
      im.fail("the shape has a negative entry " + std::to_string(dims[k]));
    } else {
      known *= std::max<std::int64_t>(dims[k], 1);
      if (known > im.max_elements()) im.fail("the shape has too many elements");
    }
  }
  std::int64_t numel = 1;
  for (const auto d : in) numel *= d;
  if (infer >= 0) dims[static_cast<std::size_t>(infer)] = known == 0 ? 0 : numel / known;
  std::int64_t out_numel = 1;
  for (const auto d : dims) out_numel *= d;
  if (out_numel != numel) {
    im.fail("cannot reshape " + shape_of(in).to_string() + " (" + std::to_string(numel) +
            " elements) to " + std::to_string(out_numel) + " elements");
  }
  set_reshaped(im, dims);
}

void build_flatten(Importer& im, const onnx::NodeProto&) {
  const auto in = input_dims(im, 0);
  const int rank = static_cast<int>(in.size());
  const std::int64_t raw_axis = im.attr_int("axis", 1);
  if (raw_axis < -rank || raw_axis > rank)
    im.fail("axis " + std::to_string(raw_axis) + " is outside [-rank, rank]");
  const int axis = static_cast<int>(raw_axis < 0 ? raw_axis + rank : raw_axis);
  std::int64_t outer = 1, inner = 1;
  for (int k = 0; k < rank; ++k) (k < axis ? outer : inner) *= in[static_cast<std::size_t>(k)];
  set_reshaped(im, {outer, inner});
}

std::vector<std::int64_t> axes_input_or_attribute(Importer& im, int input) {
  if (im.has_input(input)) return im.known_ints(input, "axes");
  if (auto a = im.attr_ints("axes")) return *a;
  return {};
}

void build_unsqueeze(Importer& im, const onnx::NodeProto&) {
  auto dims = input_dims(im, 0);
  auto axes = im.known_ints(1, "axes");
  if (dims.size() + axes.size() > static_cast<std::size_t>(Shape::kMaxRank)) {
    im.fail("the result would have more than " + std::to_string(Shape::kMaxRank) + " axes");
  }
  const int rank = static_cast<int>(dims.size() + axes.size());
  for (auto& a : axes) a = im.axis_of(a, rank);
  std::sort(axes.begin(), axes.end());
  if (std::adjacent_find(axes.begin(), axes.end()) != axes.end()) im.fail("axes repeat an axis");
  for (const auto a : axes) dims.insert(dims.begin() + a, 1);
  set_reshaped(im, dims);
}

void build_squeeze(Importer& im, const onnx::NodeProto&) {
  const auto in = input_dims(im, 0);
  const int rank = static_cast<int>(in.size());
  auto axes = axes_input_or_attribute(im, 1);
  std::vector<bool> drop(in.size(), false);
  if (axes.empty()) {
    for (int k = 0; k < rank; ++k)
      drop[static_cast<std::size_t>(k)] = in[static_cast<std::size_t>(k)] == 1;
  }
  for (const auto a : axes) {
    const int k = im.axis_of(a, rank);
    if (in[static_cast<std::size_t>(k)] != 1)
      im.fail("cannot squeeze axis " + std::to_string(a) + " of size " +
              std::to_string(in[static_cast<std::size_t>(k)]));
    drop[static_cast<std::size_t>(k)] = true;
  }
  std::vector<std::int64_t> dims;
  for (int k = 0; k < rank; ++k) {
    if (!drop[static_cast<std::size_t>(k)]) dims.push_back(in[static_cast<std::size_t>(k)]);
  }
  set_reshaped(im, dims);
}

void build_transpose(Importer& im, const onnx::NodeProto&) {
  const auto in = input_dims(im, 0);
  const int rank = static_cast<int>(in.size());
  std::vector<std::int64_t> perm;
  if (auto p = im.attr_ints("perm")) {
    perm = *p;
  } else {
    for (int k = rank - 1; k >= 0; --k) perm.push_back(k);
  }
  std::vector<std::int64_t> sorted = perm;
  std::sort(sorted.begin(), sorted.end());
  for (int k = 0; k < rank; ++k) {
    if (sorted.size() != in.size() || sorted[static_cast<std::size_t>(k)] != k) {
      im.fail("perm is not a permutation of the input's " + std::to_string(rank) + " axes");
    }
  }
  if (im.foldable(0)) {
    const HostTensor& src = im.known(0, "data");
    std::vector<std::int64_t> dims;
    for (const auto p : perm) dims.push_back(in[static_cast<std::size_t>(p)]);
    const auto in_strides = strides_of(shape_of(in));
    HostTensor t = rearranged(src, dims, [&](const std::vector<std::int64_t>& index) {
      std::int64_t from = 0;
      for (std::size_t k = 0; k < index.size(); ++k)
        from += index[k] * in_strides[static_cast<std::size_t>(perm[k])];
      return from;
    });
    im.set_known(0, std::move(t));
    return;
  }
  im.set_output(0, permute(im.expr(0), perm));
}

void build_concat(Importer& im, const onnx::NodeProto& n) {
  const int count = n.input_size();
  if (count == 0) im.fail("has no inputs");
  const int rank = static_cast<int>(input_dims(im, 0).size());
  const int axis = im.axis_of(im.attr_int("axis", 0), rank);
  bool all_known = true;
  for (int i = 0; i < count; ++i) all_known = all_known && im.foldable(i);
  if (all_known) {
    // Shape arithmetic: concatenation of known tensors, along any axis, in row-major blocks.
    std::vector<std::int64_t> dims = input_dims(im, 0);
    std::int64_t total = 0;
    for (int i = 0; i < count; ++i) {
      const auto d = input_dims(im, i);
      if (d.size() != dims.size()) im.fail("inputs of different ranks");
      for (int k = 0; k < rank; ++k) {
        if (k != axis && d[static_cast<std::size_t>(k)] != dims[static_cast<std::size_t>(k)])
          im.fail("inputs whose shapes differ off the axis");
      }
      total += d[static_cast<std::size_t>(axis)];
    }
    dims[static_cast<std::size_t>(axis)] = total;
    onnx_io::checked_numel(dims, im.max_elements(), "the concatenation");
    HostTensor out = known_like(im.known(0, "input"), dims);
    std::int64_t outer = 1;
    for (int k = 0; k < axis; ++k) outer *= dims[static_cast<std::size_t>(k)];
    for (std::int64_t o = 0; o < outer; ++o) {
      for (int i = 0; i < count; ++i) {
        const HostTensor& t = im.known(i, "input");
        const std::int64_t block = outer == 0 ? 0 : t.numel() / outer;
        for (std::int64_t j = 0; j < block; ++j) {
          if (out.is_integer())
            out.ints.push_back(t.int_at(o * block + j));
          else
            out.reals.push_back(t.real_at(o * block + j));
        }
      }
    }
    im.set_known(0, std::move(out));
    return;
  }
  const DType dtype = im.dtype_of_first_node_input();
  std::vector<Expr> parts;
  for (int i = 0; i < count; ++i) parts.push_back(im.expr(i, dtype));
  im.set_output(0, concat(parts, axis));
}

// Pad in constant mode, as concatenation with constant blocks on each side of each axis (PyTorch
// writes AvgPool2d's count_include_pad padding as Pad, then AveragePool).
void build_pad(Importer& im, const onnx::NodeProto&) {
  const std::string mode = im.attr_string("mode", "constant");
  if (mode != "constant") im.unsupported_attribute("mode", mode, "mode = constant");
  Expr x = im.expr(0);
  const int rank = x.shape().rank();
  const auto pads = im.known_ints(1, "pads");
  const double fill = im.has_input(2) ? im.known_scalar(2, "constant_value") : 0.0;
  std::vector<std::int64_t> axes;
  if (im.has_input(3)) {
    for (const auto a : im.known_ints(3, "axes")) axes.push_back(im.axis_of(a, rank));
  } else {
    for (int k = 0; k < rank; ++k) axes.push_back(k);
  }
  if (pads.size() != 2 * axes.size())
    im.fail("pads has " + std::to_string(pads.size()) + " entries for " +
            std::to_string(axes.size()) + " axes");
  for (std::size_t k = 0; k < axes.size(); ++k) {
    const std::int64_t before = pads[k], after = pads[k + axes.size()];
    if (before < 0 || after < 0) im.fail("negative pads (cropping) are not supported");
    if (before == 0 && after == 0) continue;
    std::vector<Expr> parts;
    const int axis = static_cast<int>(axes[k]);
    for (const std::int64_t width : {before, std::int64_t{-1}, after}) {
      if (width == -1) {
        parts.push_back(x);
      } else if (width > 0) {
        Shape block = x.shape();
        block[axis] = width;
        onnx_io::checked_numel(dims_of(block), im.max_elements(), "the padding");
        parts.push_back(im.graph().constant(Tensor::full(block, fill, x.dtype())));
      }
    }
    x = concat(parts, axis);
  }
  im.set_output(0, x);
}

void build_constant(Importer& im, const onnx::NodeProto& n) {
  if (n.attribute_size() != 1) im.fail("needs exactly one value attribute");
  const auto& a = n.attribute(0);
  HostTensor t;
  if (a.name() == "value") {
    t = onnx_io::read_tensor(a.t(), im.max_elements(), "the value of Constant '" + n.name() + "'");
  } else if (a.name() == "value_float") {
    t.elem_type = onnx::TensorProto::FLOAT;
    t.reals = {a.f()};
  } else if (a.name() == "value_int") {
    t.elem_type = onnx::TensorProto::INT64;
    t.ints = {a.i()};
  } else if (a.name() == "value_floats") {
    t.elem_type = onnx::TensorProto::FLOAT;
    t.reals.assign(a.floats().begin(), a.floats().end());
    t.dims = {static_cast<std::int64_t>(t.reals.size())};
  } else if (a.name() == "value_ints") {
    t.elem_type = onnx::TensorProto::INT64;
    t.ints.assign(a.ints().begin(), a.ints().end());
    t.dims = {static_cast<std::int64_t>(t.ints.size())};
  } else {
    im.unsupported_attribute(a.name(), "(given)", "value, value_float(s), value_int(s)");
  }
  im.set_known(0, std::move(t));
}

void build_shape(Importer& im, const onnx::NodeProto&) {
  const auto dims = input_dims(im, 0);
  const auto rank = static_cast<std::int64_t>(dims.size());
  const auto clamp = [&](std::int64_t v) {
    return std::clamp(v < 0 ? v + rank : v, std::int64_t{0}, rank);
  };
  const std::int64_t start = clamp(im.attr_int("start", 0)), end = clamp(im.attr_int("end", rank));
  HostTensor t;
  t.elem_type = onnx::TensorProto::INT64;
  for (std::int64_t k = start; k < end; ++k) t.ints.push_back(dims[static_cast<std::size_t>(k)]);
  t.dims = {static_cast<std::int64_t>(t.ints.size())};
  im.set_known(0, std::move(t));
}

void build_cast(Importer& im, const onnx::NodeProto&) {
  const std::int64_t to = im.attr_int("to", 0);
  const bool to_float = to == onnx::TensorProto::FLOAT || to == onnx::TensorProto::DOUBLE;
  const bool to_int = to == onnx::TensorProto::INT64 || to == onnx::TensorProto::INT32 ||
                      to == onnx::TensorProto::BOOL;
  if (!to_float && !to_int)
    im.unsupported_attribute("to", onnx_io::elem_type_name(static_cast<std::int32_t>(to)),
                             "casts to FLOAT, DOUBLE, INT64, INT32, BOOL");
  if (im.foldable(0)) {
    const HostTensor& src = im.known(0, "input");
    HostTensor t = known_like(src, src.dims);
    t.elem_type = static_cast<std::int32_t>(to);
    for (std::int64_t i = 0; i < src.numel(); ++i) {
      if (to_float)
        t.reals.push_back(to == onnx::TensorProto::FLOAT ? static_cast<float>(src.real_at(i))
                                                         : src.real_at(i));
      else if (to == onnx::TensorProto::BOOL)
        t.ints.push_back(src.real_at(i) != 0 ? 1 : 0);
      else
        t.ints.push_back(im.int_of(src, i));
    }
    im.set_known(0, std::move(t));
    return;
  }
  const Expr x = im.expr(0);
  if (to_int && to != onnx::TensorProto::BOOL) {
    // Indices computed in the graph (dagprop's are whole numbers in the data's dtype).
    im.set_value(0, Value{x, nullptr, false, {}, true});
    return;
  }
  const DType want = to == onnx::TensorProto::FLOAT ? DType::f32 : DType::f64;
  if (!to_float || want != x.dtype()) {
    im.fail("casts a graph node of " + std::string(dtype_name(x.dtype())) + " to " +
            onnx_io::elem_type_name(static_cast<std::int32_t>(to)) +
            "; dagprop graphs keep one float dtype "
            "(export the model in one precision)");
  }
  im.set_output(0, x);
}

void build_gather(Importer& im, const onnx::NodeProto&) {
  const auto data_dims = input_dims(im, 0);
  const int rank = static_cast<int>(data_dims.size());
  const int axis = im.axis_of(im.attr_int("axis", 0), rank);
  const auto index_dims = input_dims(im, 1);
  std::vector<std::int64_t> out_dims(data_dims.begin(), data_dims.begin() + axis);
  out_dims.insert(out_dims.end(), index_dims.begin(), index_dims.end());
  out_dims.insert(out_dims.end(), data_dims.begin() + axis + 1, data_dims.end());
  onnx_io::checked_numel(out_dims, im.max_elements(), "the gathered tensor");
  const std::int64_t size = data_dims[static_cast<std::size_t>(axis)];
  if (im.is_known(1)) {
    auto indices = im.known_ints(1, "indices");
    for (auto& i : indices) {
      if (i < -size || i >= size)
        im.fail("index " + std::to_string(i) + " is outside [" + std::to_string(-size) + ", " +
                std::to_string(size) + ")");
      if (i < 0) i += size;
    }
    if (im.foldable(0)) {
      const HostTensor& src = im.known(0, "data");
      HostTensor t = known_like(src, out_dims);
      std::int64_t outer = 1, inner = 1;
      for (int k = 0; k < axis; ++k) outer *= data_dims[static_cast<std::size_t>(k)];
      for (int k = axis + 1; k < rank; ++k) inner *= data_dims[static_cast<std::size_t>(k)];
      for (std::int64_t o = 0; o < outer; ++o) {
        for (const auto i : indices) {
          for (std::int64_t j = 0; j < inner; ++j) {
            append_element(t, src, (o * size + i) * inner + j);
          }
        }
      }
      im.set_known(0, std::move(t));
      return;
    }
    const Expr x = im.expr(0);
    std::vector<double> values(indices.begin(), indices.end());
    const Expr index = im.graph().constant(
        Tensor::from(values, Shape{static_cast<std::int64_t>(values.size())}, x.dtype()));
    im.set_output(0, reshape(index_select(x, axis, index), out_dims));
    return;
  }
  const Expr x = im.expr(0);
  const Expr indices = im.value(1).integer ? im.value(1).expr : im.expr(1, x.dtype());
  if (axis == 0 && rank == 2) {
    im.set_output(0, embedding(x, indices));  // nn.Embedding
  } else {
    im.set_output(0, reshape(index_select(x, axis, reshape(indices, {-1})), out_dims));
  }
}

void build_slice(Importer& im, const onnx::NodeProto&) {
  const auto dims = input_dims(im, 0);
  const int rank = static_cast<int>(dims.size());
  const auto starts = im.known_ints(1, "starts"), ends = im.known_ints(2, "ends");
  std::vector<std::int64_t> axes, steps;
  if (im.has_input(3)) {
    axes = im.known_ints(3, "axes");
  } else {
    for (std::size_t k = 0; k < starts.size(); ++k) axes.push_back(static_cast<std::int64_t>(k));
  }
  if (im.has_input(4))
    steps = im.known_ints(4, "steps");
  else
    steps.assign(starts.size(), 1);
  if (ends.size() != starts.size() || axes.size() != starts.size() ||
      steps.size() != starts.size()) {
    im.fail("starts, ends, axes and steps differ in length");
  }
  std::vector<SliceRange> ranges(static_cast<std::size_t>(rank));
  for (std::size_t k = 0; k < starts.size(); ++k) {
    if (steps[k] <= 0)
      im.fail("step " + std::to_string(steps[k]) + ": dagprop slices with positive steps only");
    ranges[static_cast<std::size_t>(im.axis_of(axes[k], rank))] = {starts[k], ends[k], steps[k]};
  }
  if (im.foldable(0)) {
    // Python's normalization, as dagprop's slice does it.
    const HostTensor& src = im.known(0, "data");
    std::vector<std::int64_t> out_dims, first(static_cast<std::size_t>(rank));
    for (int k = 0; k < rank; ++k) {
      const std::int64_t d = dims[static_cast<std::size_t>(k)];
      auto norm = [d](std::int64_t v) { return std::clamp(v < 0 ? v + d : v, std::int64_t{0}, d); };
      const SliceRange& r = ranges[static_cast<std::size_t>(k)];
      const std::int64_t s = norm(r.start), e = std::max(norm(r.stop), s);
      first[static_cast<std::size_t>(k)] = s;
      out_dims.push_back(e > s ? 1 + (e - s - 1) / r.step : 0);  // no overflow for any step
    }
    const auto in_strides = strides_of(shape_of(dims));
    onnx_io::checked_numel(out_dims, im.max_elements(), "the slice");
    HostTensor t = rearranged(src, out_dims, [&](const std::vector<std::int64_t>& index) {
      std::int64_t from = 0;
      for (std::size_t k = 0; k < index.size(); ++k)
        from += (first[k] + index[k] * ranges[k].step) * in_strides[k];
      return from;
    });
    im.set_known(0, std::move(t));
    return;
  }
  im.set_output(0, slice(im.expr(0), ranges));
}

// ReduceMean, ReduceSum: one dagprop reduction per axis, from the last axis down.
template <bool Mean>
void build_reduce(Importer& im, const onnx::NodeProto&) {
  Expr x = im.expr(0);
  const int rank = x.shape().rank();
  const bool keepdims = im.attr_int("keepdims", 1) != 0;
  auto axes = Mean ? im.attr_ints("axes").value_or(std::vector<std::int64_t>{})
                   : axes_input_or_attribute(im, 1);
  if (axes.empty()) {
    if (!Mean && im.attr_int("noop_with_empty_axes", 0) != 0) {
      im.set_output(0, x);
      return;
    }
    const Expr all = Mean ? mean(x) : sum(x);
    im.set_output(
        0, keepdims ? reshape(all, std::vector<std::int64_t>(static_cast<std::size_t>(rank), 1))
                    : all);
    return;
  }
  std::vector<int> normalized;
  for (const auto a : axes) normalized.push_back(im.axis_of(a, rank));
  std::sort(normalized.rbegin(), normalized.rend());
  if (std::adjacent_find(normalized.begin(), normalized.end()) != normalized.end())
    im.fail("axes repeat an axis");
  for (const int a : normalized) x = Mean ? mean(x, a, keepdims) : sum(x, a, keepdims);
  im.set_output(0, x);
}

// The (height, width) pair of a 2-D attribute, or its default.
std::array<std::int64_t, 2> pair_of(Importer& im, std::string_view name, std::int64_t fallback) {
  const auto v = im.attr_ints(name);
  if (!v) return {fallback, fallback};
  if (v->size() != 2)
    im.fail("attribute " + std::string(name) + " has " + std::to_string(v->size()) +
            " entries; dagprop imports 2-D convolution and pooling (NCHW)");
  return {(*v)[0], (*v)[1]};
}

std::array<std::int64_t, 2> symmetric_pads(Importer& im) {
  const std::string auto_pad = im.attr_string("auto_pad", "NOTSET");
  if (auto_pad != "NOTSET" && auto_pad != "VALID")
    im.unsupported_attribute("auto_pad", auto_pad, "NOTSET and VALID (explicit pads)");
  const auto v = im.attr_ints("pads");
  if (!v) return {0, 0};
  if (v->size() != 4)
    im.fail("attribute pads has " + std::to_string(v->size()) + " entries; 2-D needs 4");
  if ((*v)[0] != (*v)[2] || (*v)[1] != (*v)[3]) {
    im.fail("pads [" + std::to_string((*v)[0]) + ", " + std::to_string((*v)[1]) + ", " +
            std::to_string((*v)[2]) + ", " + std::to_string((*v)[3]) +
            "] differ between the two sides; dagprop pads both sides alike");
  }
  return {(*v)[0], (*v)[1]};
}

void check_image(Importer& im, Expr x) {
  if (x.shape().rank() != 4)
    im.fail("needs an NCHW image [N, C, H, W], got " + x.shape().to_string() +
            "; dagprop imports 2-D convolution and pooling");
}

void build_conv(Importer& im, const onnx::NodeProto&) {
  const DType dtype = im.dtype_of_first_node_input();
  const Expr x = im.expr(0, dtype), w = im.expr(1, dtype);
  check_image(im, x);
  if (const auto k = im.attr_ints("kernel_shape");
      k && (k->size() != 2 || w.shape().rank() != 4 || (*k)[0] != w.shape()[2] ||
            (*k)[1] != w.shape()[3])) {
    im.fail("kernel_shape does not match the weights " + w.shape().to_string());
  }
  Conv2dOptions options{.stride = pair_of(im, "strides", 1),
                        .padding = symmetric_pads(im),
                        .dilation = pair_of(im, "dilations", 1),
                        .groups = im.attr_int("group", 1)};
  im.set_output(0,
                im.has_input(2) ? conv2d(x, w, im.expr(2, dtype), options) : conv2d(x, w, options));
}

template <bool Max>
void build_pool(Importer& im, const onnx::NodeProto& n) {
  const Expr x = im.expr(0);
  check_image(im, x);
  if (im.attr_int("ceil_mode", 0) != 0) im.unsupported_attribute("ceil_mode", "1", "ceil_mode = 0");
  const auto d = pair_of(im, "dilations", 1);
  if (d[0] != 1 || d[1] != 1)
    im.unsupported_attribute("dilations",
                             "[" + std::to_string(d[0]) + ", " + std::to_string(d[1]) + "]",
                             "dilations [1, 1]");
  if (im.attr_int("storage_order", 0) != 0)
    im.unsupported_attribute("storage_order", "1", "storage_order = 0");
  if (!im.attribute("kernel_shape")) im.fail("needs kernel_shape");
  Pool2dOptions options{.kernel = pair_of(im, "kernel_shape", 1),
                        .stride = pair_of(im, "strides", 1),
                        .padding = symmetric_pads(im)};
  if (!Max && (options.padding[0] > 0 || options.padding[1] > 0) &&
      im.attr_int("count_include_pad", 0) == 0) {
    im.unsupported_attribute("count_include_pad", "0 with padding",
                             "count_include_pad = 1 where there is padding (PyTorch's default)");
  }
  if (Max && n.output_size() > 1 && !n.output(1).empty())
    im.set_unavailable(1, "is MaxPool's Indices output, which dagprop does not compute");
  im.set_output(0, Max ? max_pool2d(x, options) : avg_pool2d(x, options));
}

void build_global_average_pool(Importer& im, const onnx::NodeProto&) {
  const Expr x = im.expr(0);
  check_image(im, x);
  im.set_output(0, reshape(global_avg_pool2d(x), {x.shape()[0], x.shape()[1], 1, 1}));
}

void build_batch_norm(Importer& im, const onnx::NodeProto& n) {
  if (im.attr_int("training_mode", 0) != 0)
    im.unsupported_attribute("training_mode", "1",
                             "inference form, training_mode = 0 (export in eval mode)");
  for (int i = 1; i < n.output_size(); ++i) {
    if (!n.output(i).empty())
      im.set_unavailable(
          i, "is a training output of BatchNormalization, which dagprop does not compute");
  }
  const DType dtype = im.dtype_of_first_node_input();
  const Expr x = im.expr(0, dtype);
  if (x.shape().rank() < 2) im.fail("needs an input [N, C, ...], got " + x.shape().to_string());
  const std::int64_t c = x.shape()[1];
  Expr moments;
  if (im.is_known(3) && im.is_known(4)) {
    // The running statistics are buffers, not parameters: one constant [2, C].
    const HostTensor& m = im.known(3, "mean");
    const HostTensor& v = im.known(4, "var");
    if (m.numel() != c || v.numel() != c)
      im.fail("mean and var must have C = " + std::to_string(c) + " elements");
    std::vector<double> values;
    for (std::int64_t k = 0; k < c; ++k) values.push_back(m.real_at(k));
    for (std::int64_t k = 0; k < c; ++k) values.push_back(v.real_at(k));
    moments = im.graph().constant(Tensor::from(values, Shape{2, c}, dtype),
                                  dagprop_name(n.input(3)) + "+" + dagprop_name(n.input(4)));
  } else {
    moments = concat({reshape(im.expr(3, dtype), {1, c}), reshape(im.expr(4, dtype), {1, c})}, 0);
  }
  im.set_output(0, batch_norm(x, moments, im.expr(1, dtype), im.expr(2, dtype),
                              im.attr_float("epsilon", 1e-5)));
}

void build_layer_norm(Importer& im, const onnx::NodeProto& n) {
  const DType dtype = im.dtype_of_first_node_input();
  const Expr x = im.expr(0, dtype);
  if (im.axis_of(im.attr_int("axis", -1), x.shape().rank()) != x.shape().rank() - 1) {
    im.unsupported_attribute("axis", std::to_string(im.attr_int("axis", -1)),
                             "normalization over the last axis (axis = -1)");
  }
  for (int i = 1; i < n.output_size(); ++i) {
    if (!n.output(i).empty())
      im.set_unavailable(
          i, "is a training output of LayerNormalization, which dagprop does not compute");
  }
  const Expr gamma = im.expr(1, dtype);
  const Expr beta =
      im.has_input(2) ? im.expr(2, dtype) : im.graph().constant(Tensor(gamma.shape(), dtype));
  im.set_output(0, layer_norm(x, gamma, beta, im.attr_float("epsilon", 1e-5)));
}

void build_dropout(Importer& im, const onnx::NodeProto& n) {
  if (im.has_input(2) && im.known_scalar(2, "training_mode") != 0)
    im.fail(
        "training_mode is true; dagprop imports Dropout in inference form (export in eval mode)");
  if (n.output_size() > 1 && !n.output(1).empty())
    im.set_unavailable(1, "is Dropout's mask, which dagprop does not compute in inference form");
  im.set_value(0, im.value(0));
}

constexpr std::string_view kPoolAttributes =
    "auto_pad,ceil_mode,dilations,kernel_shape,pads,storage_order,strides";

const std::vector<Rule> kRules = {
    {{"Abs", 13, 17, "abs", ""}, "", build_unary<abs>},
    {{"Add", 13, 17, "add", "numpy broadcasting; known operands are folded"},
     "",
     build_binary<add, '+'>},
    {{"AveragePool", 13, 17, "avg_pool2d",
      "2-D; symmetric pads; ceil_mode 0; count_include_pad 1 where padded"},
     "auto_pad,ceil_mode,count_include_pad,kernel_shape,pads,strides",
     build_pool<false>},
    {{"BatchNormalization", 13, 17, "batch_norm",
      "inference form (training_mode 0); known mean and var become one constant [2, C]"},
     "epsilon,momentum,training_mode",
     build_batch_norm},
    {{"Cast", 13, 17, "(folded) or nothing",
      "known values; a graph node only to its own float type"},
     "to",
     build_cast},
    {{"Concat", 13, 17, "concat", "known inputs are folded"}, "axis", build_concat},
    {{"Constant", 13, 17, "(known value)", "value, value_float(s), value_int(s)"},
     "value,value_float,value_floats,value_int,value_ints",
     build_constant},
    {{"Conv", 13, 17, "conv2d", "2-D, NCHW; symmetric pads; strides, dilations, group"},
     "auto_pad,dilations,group,kernel_shape,pads,strides",
     build_conv},
    {{"Div", 13, 17, "div",
      "numpy broadcasting; known operands are folded; part of the GELU pattern"},
     "",
     build_binary<div, '/'>},
    {{"Dropout", 13, 17, "(identity)", "inference form; the mask output is not available"},
     "seed",
     build_dropout},
    {{"Elu", 13, 17, "elu", "alpha"}, "alpha", build_elu},
    {{"Exp", 13, 17, "exp", ""}, "", build_unary<exp>},
    {{"Flatten", 13, 17, "reshape", "axis"}, "axis", build_flatten},
    {{"Gather", 13, 17, "embedding, index_select + reshape, or (folded)",
      "known indices and data are folded; a [V, D] table along axis 0 is an embedding"},
     "axis",
     build_gather},
    {{"Gemm", 13, 17, "matmul (+ scale, add)", "alpha, beta, transA, transB"},
     "alpha,beta,transA,transB",
     build_gemm},
    {{"GlobalAveragePool", 13, 17, "global_avg_pool2d + reshape", "NCHW"},
     "",
     build_global_average_pool},
    {{"Identity", 13, 17, "(identity)", ""}, "", build_identity},
    {{"LayerNormalization", 17, 17, "layer_norm", "over the last axis (axis -1)"},
     "axis,epsilon,stash_type",
     build_layer_norm},
    {{"LeakyRelu", 13, 17, "leaky_relu", "alpha"}, "alpha", build_leaky_relu},
    {{"Log", 13, 17, "log", ""}, "", build_unary<log>},
    {{"LogSoftmax", 13, 17, "log_softmax (+ transposes)", "any axis"},
     "axis",
     build_softmax<log_softmax>},
    {{"MatMul", 13, 17, "matmul", "batched; 1-D operands"}, "", build_matmul},
    {{"MaxPool", 13, 17, "max_pool2d",
      "2-D; symmetric pads; ceil_mode 0; dilations 1; no Indices output"},
     kPoolAttributes,
     build_pool<true>},
    {{"Mul", 13, 17, "mul",
      "numpy broadcasting; known operands are folded; part of the GELU pattern"},
     "",
     build_binary<mul, '*'>},
    {{"Neg", 13, 17, "neg", ""}, "", build_neg},
    {{"Pad", 13, 17, "concat with constant blocks",
      "mode constant, known non-negative pads and value"},
     "mode",
     build_pad},
    {{"Pow", 13, 17, "pow", "a known scalar exponent"}, "", build_pow},
    {{"ReduceMean", 13, 17, "mean", "axes (attribute), keepdims"},
     "axes,keepdims",
     build_reduce<true>},
    {{"ReduceSum", 13, 17, "sum", "axes (input), keepdims, noop_with_empty_axes"},
     "keepdims,noop_with_empty_axes",
     build_reduce<false>},
    {{"Relu", 13, 17, "relu", ""}, "", build_unary<relu>},
    {{"Reshape", 13, 17, "reshape", "a known shape (0 copies, -1 infers); allowzero 0"},
     "allowzero",
     build_reshape},
    {{"Shape", 13, 17, "(folded)", "start, end"}, "end,start", build_shape},
    {{"Sigmoid", 13, 17, "sigmoid", ""}, "", build_unary<sigmoid>},
    {{"Slice", 13, 17, "slice", "known starts, ends, axes, positive steps"}, "", build_slice},
    {{"Softmax", 13, 17, "softmax (+ transposes)", "any axis"}, "axis", build_softmax<softmax>},
    {{"Softplus", 13, 17, "softplus", ""}, "", build_unary<softplus>},
    {{"Sqrt", 13, 17, "sqrt", ""}, "", build_unary<sqrt>},
    {{"Squeeze", 13, 17, "reshape", "known axes"}, "", build_squeeze},
    {{"Sub", 13, 17, "sub", "numpy broadcasting; known operands are folded"},
     "",
     build_binary<sub, '-'>},
    {{"Tanh", 13, 17, "tanh", ""}, "", build_unary<tanh>},
    {{"Transpose", 13, 17, "transpose (one per swap)", "perm"}, "perm", build_transpose},
    {{"Unsqueeze", 13, 17, "reshape", "known axes"}, "", build_unsqueeze},
};

const std::vector<Rule>& rules() {
  return kRules;
}

}  // namespace

OnnxModel read_onnx(std::string_view bytes, const OnnxImportOptions& options) {
  if (bytes.size() > options.max_file_bytes) {
    throw Error("the ONNX file has " + std::to_string(bytes.size()) +
                " bytes, more than "
                "OnnxImportOptions::max_file_bytes (" +
                std::to_string(options.max_file_bytes) + ")");
  }
  if (bytes.size() > static_cast<std::size_t>(std::numeric_limits<int>::max())) {
    throw Error("the ONNX file is over 2 GiB, which protobuf cannot parse in one piece");
  }
  onnx::ModelProto model;
  if (!model.ParseFromArray(bytes.data(), static_cast<int>(bytes.size()))) {
    throw Error(
        "the file is not an ONNX model (protobuf could not parse it: truncated or corrupt)");
  }
  if (!model.has_graph()) throw Error("the ONNX model has no graph");
  return Importer(model, options).run();
}

OnnxModel load_onnx(const std::string& path, const OnnxImportOptions& options) {
  std::ifstream file(path, std::ios::binary | std::ios::ate);
  if (!file) throw Error("cannot open ONNX file '" + path + "'");
  const auto size = static_cast<std::size_t>(file.tellg());
  if (size > options.max_file_bytes) {
    throw Error("ONNX file '" + path + "' has " + std::to_string(size) +
                " bytes, more than OnnxImportOptions::max_file_bytes (" +
                std::to_string(options.max_file_bytes) + ")");
  }
  std::string bytes(size, '\0');
  file.seekg(0);
  if (!file.read(bytes.data(), static_cast<std::streamsize>(size)))
    throw Error("cannot read ONNX file '" + path + "'");
  try {
    return read_onnx(bytes, options);
  } catch (const Error& e) {
    throw Error(path + ": " + e.what());
  }
}

std::span<const OnnxOpSupport> onnx_supported_ops() {
  static const std::vector<OnnxOpSupport> table = [] {
    std::vector<OnnxOpSupport> out;
    for (const Rule& r : kRules) out.push_back(r.support);
    return out;
  }();
  return table;
}

std::string onnx_ops_markdown() {
  std::ostringstream out;
  out << "| ONNX operator | opsets | dagprop ops | notes |\n|---|---|---|---|\n";
  for (const OnnxOpSupport& op : onnx_supported_ops()) {
    out << "| `" << op.onnx_op << "` | " << op.min_opset << "-" << op.max_opset << " | "
        << op.dagprop_ops << " | " << op.notes << " |\n";
  }
  out << "| `Erf` | 13-17 | gelu | only as x * (1 + erf(x / sqrt(2))) * 0.5 (Div, Erf, Add, Mul, "
         "Mul), the GELU PyTorch exports |\n";
  return out.str();
}

}  // namespace dagprop
