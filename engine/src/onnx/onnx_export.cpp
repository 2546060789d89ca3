// ONNX export: the forward nodes that the outputs need, in node-id order (which is topological),
// each written as the ONNX nodes that the importer reads back into the same dagprop ops, so that a
// model survives the round trip bit for bit (gelu as the Div/Erf/Add/Mul/Mul pattern; a
// transposed 2-D matmul as Gemm).
#include <cmath>
#include <fstream>
#include <unordered_set>
#include <variant>

#include <dagprop/attributes.hpp>
#include <dagprop/error.hpp>
#include <dagprop/onnx.hpp>
#include <dagprop/op_def.hpp>

#include "onnx_tensor.hpp"

namespace dagprop {
namespace {

class Exporter {
 public:
  Exporter(const Graph& graph, onnx::GraphProto& out) : g_(graph), out_(out) {}

  void run(const std::vector<Expr>& outputs, const OnnxExportOptions& options);

 private:
  template <class T>
  T attr(NodeId id, std::string_view name) const {
    return std::get<T>(g_.attribute(id, name).storage());
  }
  std::string unique(std::string base) {
    if (base.empty()) base = "v";
    std::string name = base;
    for (int k = 1; !used_.insert(name).second; ++k) name = base + "." + std::to_string(k);
    return name;
  }
  const std::string& name_of(NodeId id) const { return names_[id]; }
  std::string node_base(NodeId id) const {
    const std::string full = g_.full_name_of(id);
    return full.empty() ? std::string(g_.op_name_of(id)) + std::to_string(id) : full;
  }
  onnx::NodeProto& add_node(const std::string& op, std::vector<std::string> inputs,
                            const std::string& output, NodeId id) {
    auto* n = out_.add_node();
    n->set_op_type(op);
    n->set_name(unique(node_base(id) + "/" + op));
    for (auto& i : inputs) n->add_input(std::move(i));
    n->add_output(output);
    return *n;
  }
  std::string temp(NodeId id, const std::string& what) {
    return unique(node_base(id) + "." + what);
  }
  // A scalar of the node's dtype, or an int64 vector, as an initializer.
  // Constants are Constant nodes: initializers are what the importer makes parameters.
  onnx::TensorProto& constant_node(const std::string& name) {
    auto* n = out_.add_node();
    n->set_op_type("Constant");
    n->set_name(unique(name + "/Constant"));
    n->add_output(name);
    auto* a = n->add_attribute();
    a->set_name("value");
    a->set_type(onnx::AttributeProto::TENSOR);
    return *a->mutable_t();
  }
  std::string scalar(NodeId id, double value, const std::string& what) {
    const std::string name = temp(id, what);
    onnx_io::write_tensor(Tensor::scalar(value, g_.node(id).dtype), name, constant_node(name));
    return name;
  }
  std::string int64s(NodeId id, const std::vector<std::int64_t>& values, const std::string& what,
                     bool as_scalar = false) {
    const std::string name = temp(id, what);
    auto* t = &constant_node(name);
    t->set_name(name);
    t->set_data_type(onnx::TensorProto::INT64);
    if (!as_scalar) t->add_dims(static_cast<std::int64_t>(values.size()));
    for (const auto v : values) t->add_int64_data(v);
    return name;
  }
  static void set_int(onnx::NodeProto& n, const std::string& name, std::int64_t v) {
    auto* a = n.add_attribute();
    a->set_name(name);
    a->set_type(onnx::AttributeProto::INT);
    a->set_i(v);
  }
  static void set_float(onnx::NodeProto& n, const std::string& name, double v) {
    auto* a = n.add_attribute();
    a->set_name(name);
    a->set_type(onnx::AttributeProto::FLOAT);
    a->set_f(static_cast<float>(v));
  }
  static void set_ints(onnx::NodeProto& n, const std::string& name,
                       const std::vector<std::int64_t>& v) {
    auto* a = n.add_attribute();
    a->set_name(name);
    a->set_type(onnx::AttributeProto::INTS);
    for (const auto x : v) a->add_ints(x);
  }
  static void value_info(onnx::ValueInfoProto& info, const std::string& name, const Shape& shape,
                         DType dtype) {
    info.set_name(name);
    auto* t = info.mutable_type()->mutable_tensor_type();
    t->set_elem_type(dtype == DType::f32 ? onnx::TensorProto::FLOAT : onnx::TensorProto::DOUBLE);
    auto* s = t->mutable_shape();
    for (const auto d : shape.dims()) s->add_dim()->set_dim_value(d);
  }
  [[noreturn]] void unsupported(NodeId id, const std::string& why) const {
    throw Error("cannot export " + g_.describe(id) + " to ONNX: " + why);
  }
  void export_op(NodeId id);
  void export_pool(NodeId id, const std::string& op, const std::string& x, const std::string& y);

  const Graph& g_;
  onnx::GraphProto& out_;
  std::vector<std::string> names_;
  std::unordered_set<std::string> used_;
};

std::vector<std::int64_t> pair_attr(const Graph& g, NodeId id, std::string_view name) {
  return std::get<std::vector<std::int64_t>>(g.attribute(id, name).storage());
}

void Exporter::export_pool(NodeId id, const std::string& op, const std::string& x,
                           const std::string& y) {
  auto kernel = pair_attr(g_, id, "kernel"), stride = pair_attr(g_, id, "stride"),
       pad = pair_attr(g_, id, "padding");
  for (int k = 0; k < 2; ++k) {
    if (stride[static_cast<std::size_t>(k)] == 0)
      stride[static_cast<std::size_t>(k)] = kernel[static_cast<std::size_t>(k)];
  }
  auto& n = add_node(op, {x}, y, id);
  set_ints(n, "kernel_shape", kernel);
  set_ints(n, "strides", stride);
  set_ints(n, "pads", {pad[0], pad[1], pad[0], pad[1]});
  if (op == "AveragePool") set_int(n, "count_include_pad", 1);
}

void Exporter::export_op(NodeId id) {
  const std::string_view op = g_.op_name_of(id);
  const auto inputs = g_.inputs_of(id);
  std::vector<std::string> in;
  for (const NodeId i : inputs) in.push_back(name_of(i));
  const std::string& y = name_of(id);
  static const std::unordered_map<std::string_view, std::string_view> elementwise = {
      {"add", "Add"},
      {"sub", "Sub"},
      {"mul", "Mul"},
      {"div", "Div"},
      {"neg", "Neg"},
      {"exp", "Exp"},
      {"log", "Log"},
      {"sqrt", "Sqrt"},
      {"abs", "Abs"},
      {"relu", "Relu"},
      {"sigmoid", "Sigmoid"},
      {"tanh", "Tanh"},
      {"softplus", "Softplus"},
      {"concat", "Concat"},
      {"stop_gradient", "Identity"},
      {"softmax", "Softmax"},
      {"log_softmax", "LogSoftmax"}};
  if (const auto it = elementwise.find(op); it != elementwise.end()) {
    auto& n = add_node(std::string(it->second), in, y, id);
    if (op == "concat") set_int(n, "axis", attr<std::int64_t>(id, "axis"));
    if (op == "softmax" || op == "log_softmax") set_int(n, "axis", -1);
    return;
  }
  if (op == "scale") {
    add_node("Mul", {in[0], scalar(id, attr<double>(id, "factor"), "factor")}, y, id);
  } else if (op == "pow") {
    add_node("Pow", {in[0], scalar(id, attr<double>(id, "exponent"), "exponent")}, y, id);
  } else if (op == "leaky_relu") {
    set_float(add_node("LeakyRelu", in, y, id), "alpha", attr<double>(id, "slope"));
  } else if (op == "elu") {
    set_float(add_node("Elu", in, y, id), "alpha", attr<double>(id, "alpha"));
  } else if (op == "gelu") {
    // The pattern PyTorch exports, which the importer reads as one gelu.
    const std::string d = temp(id, "div"), e = temp(id, "erf"), a = temp(id, "add"),
                      m = temp(id, "mul");
    add_node("Div", {in[0], scalar(id, std::sqrt(2.0), "sqrt2")}, d, id);
    add_node("Erf", {d}, e, id);
    add_node("Add", {e, scalar(id, 1.0, "one")}, a, id);
    add_node("Mul", {in[0], a}, m, id);
    add_node("Mul", {m, scalar(id, 0.5, "half")}, y, id);
  } else if (op == "sum" || op == "mean") {
    const bool all = attr<bool>(id, "all_axes");
    const bool keep = attr<bool>(id, "keepdim");
    const std::int64_t axis = attr<std::int64_t>(id, "axis");
    onnx::NodeProto* n = nullptr;
    if (op == "sum") {
      n = all ? &add_node("ReduceSum", in, y, id)
              : &add_node("ReduceSum", {in[0], int64s(id, {axis}, "axes")}, y, id);
    } else {
      n = &add_node("ReduceMean", in, y, id);
      if (!all) set_ints(*n, "axes", {axis});
    }
    set_int(*n, "keepdims", all ? 0 : (keep ? 1 : 0));
  } else if (op == "reshape") {
    const Shape& s = g_.shape_of(id);
    add_node("Reshape", {in[0], int64s(id, {s.dims().begin(), s.dims().end()}, "shape")}, y, id);
  } else if (op == "transpose") {
    const int rank = g_.shape_of(inputs[0]).rank();
    std::vector<std::int64_t> perm;
    for (int k = 0; k < rank; ++k) perm.push_back(k);
    const auto norm = [rank](std::int64_t a) {
      return static_cast<std::size_t>(a < 0 ? a + rank : a);
    };
    std::swap(perm[norm(attr<std::int64_t>(id, "axis_a"))],
              perm[norm(attr<std::int64_t>(id, "axis_b"))]);
    set_ints(add_node("Transpose", in, y, id), "perm", perm);
  } else if (op == "matmul") {
    const bool ta = attr<bool>(id, "transpose_a"), tb = attr<bool>(id, "transpose_b");
    const bool two_d = g_.shape_of(inputs[0]).rank() == 2 && g_.shape_of(inputs[1]).rank() == 2;
    if (two_d && (ta || tb)) {
      auto& n = add_node("Gemm", in, y, id);
      if (ta) set_int(n, "transA", 1);
      if (tb) set_int(n, "transB", 1);
    } else if (ta || tb) {
      unsupported(id,
                  "a batched matmul with a transposed operand has no ONNX form that reads back to "
                  "the same op");
    } else {
      add_node("MatMul", in, y, id);
    }
  } else if (op == "slice") {
    const auto ranges = attr<std::vector<std::int64_t>>(id, "ranges");
    std::vector<std::int64_t> starts, ends, axes, steps;
    for (std::size_t k = 0; 3 * k + 2 < ranges.size(); ++k) {
      starts.push_back(ranges[3 * k]);
      ends.push_back(ranges[3 * k + 1]);
      steps.push_back(ranges[3 * k + 2]);
      axes.push_back(static_cast<std::int64_t>(k));
    }
    add_node("Slice",
             {in[0], int64s(id, starts, "starts"), int64s(id, ends, "ends"),
              int64s(id, axes, "axes"), int64s(id, steps, "steps")},
             y, id);
  } else if (op == "index_select") {
    // dagprop's indices are whole numbers in the data's dtype; ONNX's Gather reads integers.
    const std::string cast = temp(id, "indices");
    set_int(add_node("Cast", {in[1]}, cast, id), "to", onnx::TensorProto::INT64);
    set_int(add_node("Gather", {in[0], cast}, y, id), "axis", attr<std::int64_t>(id, "axis"));
  } else if (op == "conv2d") {
    auto& n = add_node("Conv", in, y, id);
    const auto w = g_.shape_of(inputs[1]);
    const auto pad = pair_attr(g_, id, "padding");
    set_ints(n, "kernel_shape", {w[2], w[3]});
    set_ints(n, "strides", pair_attr(g_, id, "stride"));
    set_ints(n, "dilations", pair_attr(g_, id, "dilation"));
    set_ints(n, "pads", {pad[0], pad[1], pad[0], pad[1]});
    set_int(n, "group", attr<std::int64_t>(id, "groups"));
  } else if (op == "max_pool2d") {
    export_pool(id, "MaxPool", in[0], y);
  } else if (op == "avg_pool2d") {
    export_pool(id, "AveragePool", in[0], y);
  } else if (op == "global_avg_pool2d") {
    const std::string pooled = temp(id, "pooled");
    add_node("GlobalAveragePool", in, pooled, id);
    const Shape& s = g_.shape_of(id);
    add_node("Reshape", {pooled, int64s(id, {s[0], s[1]}, "shape")}, y, id);
  } else if (op == "batch_norm") {
    // moments [2, C] -> mean, var: Gather rows 0 and 1 (folded again on import when constant).
    const std::string mean = temp(id, "mean"), var = temp(id, "var");
    add_node("Gather", {in[1], int64s(id, {0}, "row0", true)}, mean, id);
    add_node("Gather", {in[1], int64s(id, {1}, "row1", true)}, var, id);
    auto& n = add_node("BatchNormalization", {in[0], in[2], in[3], mean, var}, y, id);
    set_float(n, "epsilon", attr<double>(id, "eps"));
  } else if (op == "layer_norm") {
    auto& n = add_node("LayerNormalization", in, y, id);
    set_int(n, "axis", -1);
    set_float(n, "epsilon", attr<double>(id, "eps"));
  } else {
    unsupported(
        id,
        "the exporter writes add, sub, mul, div, neg, scale, pow, exp, log, sqrt, abs, relu, "
        "leaky_relu, elu, gelu, sigmoid, tanh, softplus, stop_gradient, softmax, log_softmax, "
        "sum, mean, reshape, transpose, matmul, concat, slice, index_select (embedding), "
        "conv2d, max_pool2d, avg_pool2d, global_avg_pool2d, batch_norm and layer_norm");
  }
}

void Exporter::run(const std::vector<Expr>& outputs, const OnnxExportOptions& options) {
  if (outputs.empty()) throw Error("write_onnx needs at least one output");
  if (!options.output_names.empty() && options.output_names.size() != outputs.size()) {
    throw Error("write_onnx: " + std::to_string(options.output_names.size()) +
                " output names for " + std::to_string(outputs.size()) + " outputs");
  }
  // The nodes the outputs need, by an explicit stack (no recursion over the graph).
  std::vector<char> needed(g_.size(), 0);
  std::vector<NodeId> stack;
  for (const Expr& o : outputs) {
    if (&o.graph() != &g_) throw Error("write_onnx: an output belongs to another graph");
    stack.push_back(o.id());
  }
  while (!stack.empty()) {
    const NodeId id = stack.back();
    stack.pop_back();
    if (needed[id]) continue;
    needed[id] = 1;
    for (const NodeId i : g_.inputs_of(id)) stack.push_back(i);
  }
  names_.assign(g_.size(), {});
  for (NodeId id = 0; id < g_.size(); ++id) {
    if (!needed[id]) continue;
    names_[id] = unique(node_base(id));
    if (g_.is_input(id)) {
      value_info(*out_.add_input(), names_[id], g_.shape_of(id), g_.node(id).dtype);
    } else if (g_.is_parameter(id)) {
      onnx_io::write_tensor(g_.value(id), names_[id], *out_.add_initializer());
    } else if (g_.is_constant(id)) {
      onnx_io::write_tensor(g_.value(id), names_[id], constant_node(names_[id]));
    } else {
      export_op(id);
    }
  }
  for (std::size_t k = 0; k < outputs.size(); ++k) {
    const NodeId id = outputs[k].id();
    std::string name =
        options.output_names.empty() ? "output" + std::to_string(k) : options.output_names[k];
    if (!used_.insert(name).second) name = unique(name);
    auto& n = *out_.add_node();
    n.set_op_type("Identity");
    n.set_name(unique(name + "/Identity"));
    n.add_input(name_of(id));
    n.add_output(name);
    value_info(*out_.add_output(), name, g_.shape_of(id), g_.node(id).dtype);
  }
}

}  // namespace

std::string write_onnx(const Graph& graph, const std::vector<Expr>& outputs,
                       const OnnxExportOptions& options) {
  onnx::ModelProto model;
  model.set_ir_version(8);
  model.set_producer_name("dagprop");
  auto* opset = model.add_opset_import();
  opset->set_domain("");
  opset->set_version(kOnnxExportOpset);
  auto* g = model.mutable_graph();
  g->set_name(options.graph_name);
  Exporter(graph, *g).run(outputs, options);
  return model.SerializeAsString();
}

void save_onnx(const Graph& graph, const std::vector<Expr>& outputs, const std::string& path,
               const OnnxExportOptions& options) {
  const std::string bytes = write_onnx(graph, outputs, options);
  std::ofstream file(path, std::ios::binary);
  if (!file.write(bytes.data(), static_cast<std::streamsize>(bytes.size())) || !file.flush()) {
    throw Error("cannot write ONNX file '" + path + "'");
  }
}

}  // namespace dagprop
