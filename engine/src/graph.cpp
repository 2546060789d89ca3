// The node arena: building nodes, interning shapes and names, leaf storage, values and runs.
#include <dagprop/graph.hpp>

#include <algorithm>
#include <cmath>
#include <cstdlib>
#include <cstring>
#include <sstream>

#include <boost/container/small_vector.hpp>

#include <dagprop/error.hpp>
#include <dagprop/op_def.hpp>
#include "plan.hpp"

#include "backward_graph.hpp"

namespace dagprop {
namespace {

constexpr std::size_t kLeafBlockBytes = std::size_t{1} << 20;

std::string shape_key(const Shape& shape) {
  return std::string(reinterpret_cast<const char*>(shape.dims().data()),
                     shape.dims().size_bytes()) +
         static_cast<char>(shape.rank());
}

int default_num_threads() {
  if (const char* env = std::getenv("DAGPROP_NUM_THREADS")) {
    char* end = nullptr;
    const long n = std::strtol(env, &end, 10);
    if (end == env || *end != '\0' || n < 0 || n > 1024) {
      throw Error("DAGPROP_NUM_THREADS='" + std::string(env) +
                  "' is not a thread count: use 0 for the serial executor or 1..1024 threads");
    }
    return static_cast<int>(n);
  }
  return 0;
}

}  // namespace

std::unique_ptr<Executor> make_executor(int num_threads);  // executor.cpp

// ---------------------------------------------------------------- Expr

Graph& Expr::graph() const {
  if (graph_ == nullptr) throw Error("an empty Expr was used; build it from a Graph first");
  return *graph_;
}
const Shape& Expr::shape() const {
  return graph().shape_of(id_);
}
DType Expr::dtype() const {
  return graph().node(id_).dtype;
}
std::string Expr::name() const {
  return graph().full_name_of(id_);
}
std::string_view Expr::op_name() const {
  return graph().op_name_of(id_);
}
TensorView Expr::value() const {
  return graph().value(*this);
}
TensorView Expr::grad() const {
  return graph().grad(*this);
}

// ---------------------------------------------------------------- Graph

Graph::Graph() : num_threads_(default_num_threads()), executor_(make_executor(num_threads_)) {
  OpRegistry::global();  // built-in ops registered before the first node
  strings_.emplace_back();
  string_index_.emplace("", 0);
  attrs_.emplace_back();
  shapes_.emplace_back();
  shape_index_.emplace(shape_key(Shape{}), 0);
}

Graph::~Graph() = default;

std::uint32_t Graph::intern_string(std::string_view s) {
  auto [it, inserted] =
      string_index_.try_emplace(std::string(s), static_cast<std::uint32_t>(strings_.size()));
  if (inserted) strings_.emplace_back(s);
  return it->second;
}

std::uint32_t Graph::intern_shape(const Shape& shape) {
  // Consecutive nodes mostly share a shape (chains, layers): check the last one before hashing.
  if (shapes_[last_shape_id_] == shape) return last_shape_id_;
  auto [it, inserted] =
      shape_index_.try_emplace(shape_key(shape), static_cast<std::uint32_t>(shapes_.size()));
  if (inserted) shapes_.push_back(shape);
  last_shape_id_ = it->second;
  return it->second;
}

std::uint32_t Graph::intern_attrs(const OpAttrs& attrs) {
  if (attrs == attrs_.front()) return 0;
  // Consecutive nodes often share attributes (a chain of leaky_relu); reuse the last entry.
  if (attrs_.size() > 1 && attrs_.back() == attrs)
    return static_cast<std::uint32_t>(attrs_.size() - 1);
  attrs_.push_back(attrs);
  return static_cast<std::uint32_t>(attrs_.size() - 1);
}

NodeId Graph::add_node(OpId op, DType dtype, const Shape& shape, std::span<const NodeId> inputs,
                       const OpAttrs& attrs, std::string_view name, NodeFlags flags) {
  if (nodes_.size() >= kNoNode - 1) throw Error("the graph is full: at most 2^32 - 2 nodes");
  Node node;
  node.op = op;
  node.dtype = dtype;
  node.flags = flags;
  node.shape_id = intern_shape(shape);
  node.first_input = static_cast<std::uint32_t>(inputs_.size());
  node.num_inputs = static_cast<std::uint32_t>(inputs.size());
  node.attrs_id = intern_attrs(attrs);
  node.name_id = name.empty() ? 0 : intern_string(name);
  node.scope_id = current_scope_;
  inputs_.insert(inputs_.end(), inputs.begin(), inputs.end());
  nodes_.push_back(node);
  return static_cast<NodeId>(nodes_.size() - 1);
}

std::byte* Graph::allocate_leaf_bytes(std::size_t nbytes) {
  const std::size_t aligned = (std::max<std::size_t>(nbytes, 1) + 63) / 64 * 64;
  // Small leaves (scalars) are packed 8-byte aligned into shared blocks; large ones get 64.
  const std::size_t alignment = nbytes >= 64 ? 64 : 8;
  const std::size_t size = nbytes >= 64 ? aligned : (std::max<std::size_t>(nbytes, 1) + 7) / 8 * 8;
  std::size_t start = (block_used_ + alignment - 1) / alignment * alignment;
  if (leaf_blocks_.empty() || start + size > block_size_) {
    block_size_ = std::max(kLeafBlockBytes, size);
    auto* block = static_cast<std::byte*>(std::aligned_alloc(64, (block_size_ + 63) / 64 * 64));
    if (block == nullptr)
      throw Error("out of memory: a leaf block of " + std::to_string(block_size_) + " bytes");
    leaf_blocks_.emplace_back(block);
    start = 0;
  }
  block_used_ = start + size;
  std::byte* bytes = leaf_blocks_.back().get() + start;
  std::memset(bytes, 0, size);
  return bytes;
}

Expr Graph::add_leaf(OpId op, std::string_view name, const TensorView& value) {
  const NodeId next = static_cast<NodeId>(nodes_.size());
  if (op == op_id(LeafOp::parameter) && !name.empty()) {
    // Optimizers, graph files and find() tell parameters apart by their full name. (Unnamed ones
    // are named after their node id, which no other node has.)
    const std::string_view scope = strings_[current_scope_];
    std::string full_name =
        scope.empty() ? std::string(name) : std::string(scope) + "/" + std::string(name);
    if (const auto it = parameter_names_.find(full_name); it != parameter_names_.end()) {
      throw Error("a parameter named '" + full_name + "' already exists: " + describe(it->second) +
                  "; the new one would have shape " + value.shape().to_string() +
                  ". Give each parameter its own name, or build the second one in another scope");
    }
    parameter_names_.emplace(std::move(full_name), next);
  }
  const NodeId id = add_node(op, value.dtype(), value.shape(), {}, {}, name);
  nodes_[id].leaf_slot = static_cast<std::uint32_t>(leaf_values_.size());
  std::byte* bytes = nullptr;
  if (op != op_id(LeafOp::input)) {
    bytes = allocate_leaf_bytes(value.nbytes());
    if (value.nbytes() > 0) std::memcpy(bytes, value.raw(), value.nbytes());
  }
  leaf_values_.push_back(bytes);
  leaf_grads_.push_back(nullptr);
  return {this, id};
}

Expr Graph::input(std::string_view name, Shape shape, DType dtype) {
  // Inputs have no stored value; describe the shape through a view with no data.
  return add_leaf(op_id(LeafOp::input), name, TensorView(nullptr, shape, dtype));
}
Expr Graph::input(Shape shape, DType dtype) {
  return input({}, std::move(shape), dtype);
}

Expr Graph::parameter(std::string_view name, double value, DType dtype) {
  return parameter(name, Tensor::scalar(value, dtype));
}
Expr Graph::parameter(std::string_view name, const TensorView& initial_value) {
  return add_leaf(op_id(LeafOp::parameter), name, initial_value);
}
Expr Graph::parameter(double value, DType dtype) {
  return parameter({}, Tensor::scalar(value, dtype));
}
Expr Graph::parameter(const TensorView& initial_value) {
  return parameter({}, initial_value);
}

Expr Graph::constant(double value, DType dtype, std::string_view name) {
  return constant(Tensor::scalar(value, dtype), name);
}

Expr Graph::constant(const TensorView& value, std::string_view name) {
  return add_leaf(op_id(LeafOp::constant), name, value);
}

Expr Graph::labels(std::string_view name, std::int64_t batch, std::int64_t num_classes,
                   DType dtype) {
  if (batch < 0 || num_classes < 1 || num_classes > (std::int64_t{1} << 24)) {
    throw Error("labels('" + std::string(name) + "', batch " + std::to_string(batch) +
                ", classes " + std::to_string(num_classes) +
                "): give a batch of at least 0 rows and 1 to 16777216 classes (class indices "
                "must stay exact in float32)");
  }
  const Expr labels = input(name, Shape{batch}, dtype);
  set_class_labels(labels.id(), num_classes);
  return labels;
}

void Graph::set_class_labels(NodeId input, std::int64_t num_classes) {
  nodes_[input].flags = nodes_[input].flags | NodeFlags::class_labels;
  label_classes_[input] = num_classes;
}

std::int64_t Graph::num_classes_of(NodeId id) const {
  const auto it = label_classes_.find(id);
  return it == label_classes_.end() ? 0 : it->second;
}

void Graph::set_requires_grad(Expr input, bool requires_grad) {
  check_owns(input, "set_requires_grad");
  if (!is_input(input.id())) {
    throw Error(describe(input.id()) +
                ": set_requires_grad applies to inputs; parameters always get gradients and "
                "constants never do");
  }
  Node& n = nodes_[input.id()];
  n.flags = requires_grad
                ? (n.flags | NodeFlags::requires_grad)
                : static_cast<NodeFlags>(static_cast<std::uint8_t>(n.flags) &
                                         ~static_cast<std::uint8_t>(NodeFlags::requires_grad));
}

void Graph::mark_gradient(Expr node) {
  check_owns(node, "mark_gradient");
  nodes_[node.id()].flags = nodes_[node.id()].flags | NodeFlags::gradient;
}

Expr Graph::apply(OpId op, std::span<const Expr> inputs, const OpAttrs& attrs,
                  std::string_view name) {
  const OpRegistry& registry = OpRegistry::global();
  if (op >= registry.size()) throw Error("unknown op id " + std::to_string(op));
  const OpDef& def = registry[op];
  auto pending = [&] {
    const std::string scope(strings_[current_scope_]);
    const std::string full =
        name.empty() ? std::string{} : (scope.empty() ? "" : scope + "/") + std::string(name);
    return (full.empty() ? "new node" : "node '" + full + "'") + " (op " + std::string(def.name) +
           ")";
  };
  if (def.grad_kind == GradKind::leaf) {
    throw Error(pending() +
                ": leaves are made with input(), parameter() and constant(), not apply()");
  }
  if (def.arity >= 0 && static_cast<int>(inputs.size()) != def.arity) {
    throw Error(pending() + ": takes " + std::to_string(def.arity) + " input(s) but was given " +
                std::to_string(inputs.size()));
  }
  if (inputs.empty()) throw Error(pending() + ": needs at least one input");
  // Inline storage: building a node allocates nothing for the usual one to three inputs.
  boost::container::small_vector<NodeId, 4> ids;
  boost::container::small_vector<Shape, 4> shapes;
  boost::container::small_vector<DType, 4> dtypes;
  for (std::size_t i = 0; i < inputs.size(); ++i) {
    const Expr& e = inputs[i];
    if (!e.valid()) throw Error(pending() + ": input " + std::to_string(i) + " is an empty Expr");
    if (&e.graph() != this) {
      throw Error(pending() + ": input " + std::to_string(i) + " " + e.graph().describe(e.id()) +
                  " belongs to another Graph; build all nodes of an expression in one graph");
    }
    ids.push_back(e.id());
    shapes.push_back(shape_of(e.id()));
    dtypes.push_back(nodes_[e.id()].dtype);
  }
  for (std::size_t i = 1; i < dtypes.size(); ++i) {
    if (dtypes[i] != dtypes[0]) {
      throw Error(pending() + ": input 0 " + describe(ids[0]) + " is " +
                  std::string(dtype_name(dtypes[0])) + " but input " + std::to_string(i) + " " +
                  describe(ids[i]) + " is " + std::string(dtype_name(dtypes[i])) +
                  "; build both in one dtype");
    }
  }
  Shape shape;
  try {
    shape = def.shape(
        ShapeQuery{{shapes.data(), shapes.size()}, {dtypes.data(), dtypes.size()}, attrs});
  } catch (const Error& e) {
    throw Error(pending() + ": " + e.what());
  }
  return {this, add_node(op, dtypes[0], shape, {ids.data(), ids.size()}, attrs, name)};
}

Expr Graph::apply(std::string_view op_name, std::span<const Expr> inputs, const OpAttrs& attrs,
                  std::string_view name) {
  return apply(OpRegistry::global().id_of(op_name), inputs, attrs, name);
}

Expr Graph::apply(std::string_view op_name, std::span<const Expr> inputs,
                  std::initializer_list<NamedAttr> attrs, std::string_view name) {
  return apply(op_name, inputs, std::span<const NamedAttr>(attrs.begin(), attrs.size()), name);
}

Expr Graph::apply(std::string_view op_name, std::span<const Expr> inputs,
                  std::span<const NamedAttr> attrs, std::string_view name) {
  const OpId op = OpRegistry::global().id_of(op_name);
  return apply(op, inputs, make_attributes(OpRegistry::global()[op], attrs), name);
}

AttrValue Graph::attribute(NodeId id, std::string_view name) const {
  const OpDef& def = op_of(id);
  const AttrSpec* spec = find_attribute(def.attributes, name);
  if (spec == nullptr) {
    throw Error(describe(id) + " has no attribute '" + std::string(name) + "'; the attributes of " +
                std::string(def.name) + ": " + attribute_names(def.attributes));
  }
  return read_attribute(attrs_of(id), *spec);
}

Expr Graph::set_name(Expr node, std::string_view name) {
  check_owns(node, "set_name");
  nodes_[node.id()].name_id = name.empty() ? 0 : intern_string(name);
  nodes_[node.id()].scope_id = current_scope_;
  return node;
}

Graph::Scope::Scope(Graph& graph, std::string_view name)
    : graph_(graph), previous_(graph.current_scope_) {
  if (name.empty() || name.find('/') != std::string_view::npos) {
    throw Error("scope name '" + std::string(name) +
                "' must be non-empty and contain no '/'; nest scopes instead");
  }
  const std::string_view outer = graph.strings_[previous_];
  graph.current_scope_ = graph.intern_string(
      outer.empty() ? std::string(name) : std::string(outer) + "/" + std::string(name));
}
Graph::Scope::~Scope() {
  graph_.current_scope_ = previous_;
}

const OpDef& Graph::op_of(NodeId id) const {
  return OpRegistry::global()[nodes_[id].op];
}
std::string_view Graph::op_name_of(NodeId id) const {
  return op_of(id).name;
}

std::string Graph::full_name_of(NodeId id) const {
  const Node& n = nodes_[id];
  if (n.name_id == 0) {
    // Inputs are fed and parameters saved and drawn by name: an unnamed one is called after its
    // node id, made when asked for rather than stored (a million scalar parameters cost no names).
    if (n.op == op_id(LeafOp::input)) return "input" + std::to_string(id);
    if (n.op == op_id(LeafOp::parameter)) return "parameter" + std::to_string(id);
    return {};
  }
  const std::string_view scope = strings_[n.scope_id];
  return scope.empty() ? std::string(strings_[n.name_id])
                       : std::string(scope) + "/" + std::string(strings_[n.name_id]);
}

std::string Graph::describe(NodeId id) const {
  if (id >= nodes_.size()) return "#" + std::to_string(id) + " (no such node)";
  const std::string name = full_name_of(id);
  std::string text = name.empty() ? "#" + std::to_string(id) : "'" + name + "'";
  text += " (op " + std::string(op_name_of(id)) + ", shape " + shape_of(id).to_string();
  if (nodes_[id].dtype == DType::f32) text += ", float32";
  return text + ")";
}

Expr Graph::find(std::string_view full_name) {
  for (NodeId id = 0; id < nodes_.size(); ++id) {
    const bool unnamed_leaf = nodes_[id].name_id == 0 && (is_input(id) || is_parameter(id));
    if ((nodes_[id].name_id != 0 || unnamed_leaf) && full_name_of(id) == full_name)
      return {this, id};
  }
  throw Error("no node is named '" + std::string(full_name) +
              "' (names include their scope: 'layer1/W')");
}

std::vector<Expr> Graph::parameters() {
  std::vector<Expr> result;
  for (NodeId id = 0; id < nodes_.size(); ++id) {
    if (is_parameter(id)) result.emplace_back(this, id);
  }
  return result;
}

bool Graph::is_leaf(NodeId id) const {
  return op_of(id).grad_kind == GradKind::leaf;
}
bool Graph::is_parameter(NodeId id) const {
  return nodes_[id].op == op_id(LeafOp::parameter);
}
bool Graph::is_input(NodeId id) const {
  return nodes_[id].op == op_id(LeafOp::input);
}
bool Graph::is_constant(NodeId id) const {
  return nodes_[id].op == op_id(LeafOp::constant);
}

void Graph::check_owns(Expr e, std::string_view what) const {
  if (!e.valid()) throw Error(std::string(what) + ": got an empty Expr");
  if (&e.graph() != this) {
    throw Error(std::string(what) + ": " + e.graph().describe(e.id()) +
                " belongs to another Graph");
  }
}

// ---------------------------------------------------------------- values

const Plan* Graph::latest_plan_computing(NodeId id) const {
  const Plan* latest = nullptr;
  const auto consider = [&](const Plan* plan) {
    if (plan != nullptr && plan->last_run() > 0 && plan->computes(id) &&
        (latest == nullptr || plan->last_run() > latest->last_run())) {
      latest = plan;
    }
  };
  for (const auto& [key, plan] : plans_) consider(plan.get());
  for (const auto& [key, backward_graph] : backward_graphs_) consider(backward_graph->plan.get());
  return latest;
}

bool Graph::has_value(NodeId id) const {
  if (id >= nodes_.size()) return false;
  if (is_leaf(id) && !is_input(id)) return true;
  const Plan* plan = latest_plan_computing(id);
  return plan != nullptr && plan->retains(id);
}

TensorView Graph::value(Expr e) const {
  check_owns(e, "value");
  return value(e.id());
}
TensorView Graph::value(NodeId id) const {
  if (id >= nodes_.size()) {
    throw Error("node #" + std::to_string(id) + " is not in this graph of " +
                std::to_string(nodes_.size()) + " nodes");
  }
  if (is_leaf(id) && !is_input(id)) {
    return {leaf_values_[nodes_[id].leaf_slot], shape_of(id), nodes_[id].dtype};
  }
  if (const Plan* plan = latest_plan_computing(id)) return plan->value(id);  // throws if not kept
  throw Error(describe(id) +
              " has no value yet from the graph's run() or backward(): run it first "
              "(graph.run({node}, feeds)); a Function's values are read from the Function "
              "(function.value(node))");
}

void Graph::set_value(Expr leaf, const TensorView& value) {
  check_owns(leaf, "set_value");
  if (!is_parameter(leaf.id()) && !is_constant(leaf.id())) {
    throw Error(describe(leaf.id()) +
                ": only parameters and constants hold a value; feed inputs to run() instead");
  }
  const TensorView stored = this->value(leaf);
  if (!(stored.shape() == value.shape()) || stored.dtype() != value.dtype()) {
    throw Error(describe(leaf.id()) + ": the new value is " +
                std::string(dtype_name(value.dtype())) + " of shape " + value.shape().to_string() +
                "; it must keep the node's shape and dtype");
  }
  copy_into(stored, value);
}

bool Graph::has_grad(Expr node) const {
  check_owns(node, "has_grad");
  return has_grad(node.id());
}
bool Graph::has_grad(NodeId id) const {
  if (id >= nodes_.size()) return false;
  if (!is_leaf(id)) return retained_grads_.contains(id);
  return leaf_grads_[nodes_[id].leaf_slot] != nullptr;
}

TensorView Graph::grad(Expr e) const {
  check_owns(e, "grad");
  return grad(e.id());
}
TensorView Graph::grad(NodeId id) const {
  if (!has_grad(id)) {
    throw Error((id < nodes_.size() ? describe(id) : "node #" + std::to_string(id)) +
                " has no stored gradient: call graph.backward(loss) first; only parameters and "
                "inputs marked "
                "with set_requires_grad() get one, and inner nodes named in "
                "BackwardOptions::retain_grad (or build it as an expression: grad(loss, {node}))");
  }
  if (!is_leaf(id)) return retained_grads_.at(id).view();
  return {leaf_grads_[nodes_[id].leaf_slot], shape_of(id), nodes_[id].dtype};
}

void Graph::zero_grad() {
  for (NodeId id = 0; id < nodes_.size(); ++id) {
    if (has_grad(id)) {
      const TensorView g = grad({this, id});
      std::memset(g.raw(), 0, g.nbytes());
    }
  }
  for (auto& [id, gradient] : retained_grads_) {
    if (gradient.view().nbytes() > 0)
      std::memset(gradient.view().raw(), 0, gradient.view().nbytes());
  }
}

// ---------------------------------------------------------------- running

Plan& Graph::cached_plan(const std::vector<Expr>& outputs, const std::vector<Expr>& keep) {
  // The cache key: the outputs, a separator, the kept nodes and the keep-all setting.
  std::vector<NodeId> key;
  key.reserve(outputs.size() + keep.size() + 2);
  for (const Expr& e : outputs) {
    check_owns(e, "run");
    key.push_back(e.id());
  }
  key.push_back(kNoNode);
  for (const Expr& e : keep) {
    check_owns(e, "keep");
    key.push_back(e.id());
  }
  key.push_back(keep_values_ ? 1 : 0);
  auto& slot = plans_[key];
  if (!slot) {
    PlanOptions options;
    options.keep.assign(key.begin() + static_cast<std::ptrdiff_t>(outputs.size()) + 1,
                        key.end() - 1);
    options.keep_all_values = keep_values_;
    slot = std::make_unique<Plan>(
        *this,
        std::vector<NodeId>(key.begin(), key.begin() + static_cast<std::ptrdiff_t>(outputs.size())),
        std::move(options));
  }
  return *slot;
}

void Graph::run_plan(Plan& plan, const std::vector<Feed>& feeds) {
  if (&plan.graph() != this) throw Error("run: the function was compiled for another Graph");
  for (const Feed& feed : feeds) {
    check_owns(feed.input, "feed");
    if (!is_input(feed.input.id())) {
      throw Error(
          "a feed was given for " + describe(feed.input.id()) +
          ", which is not an input; only input() nodes are fed (set parameters with set_value)");
    }
  }
  for (std::size_t slot_index = 0; slot_index < plan.feeds().size(); ++slot_index) {
    const FeedSlot& slot = plan.feeds()[slot_index];
    const Feed* found = nullptr;
    for (const Feed& feed : feeds) {
      if (feed.input.id() == slot.node) found = &feed;
    }
    const Shape& shape = shape_of(slot.node);
    const DType dtype = nodes_[slot.node].dtype;
    if (found == nullptr) {
      throw Error("input " + describe(slot.node) + " has no feed: pass {" +
                  (full_name_of(slot.node).empty() ? "input" : full_name_of(slot.node)) +
                  ", tensor} among the feeds of run()");
    }
    if (!found->class_indices.empty()) {
      plan.read_feed_at(slot_index, nullptr, nullptr);
      feed_class_indices(slot, found->class_indices);
      continue;
    }
    if (!(found->value.shape() == shape) || found->value.dtype() != dtype) {
      throw Error("input " + describe(slot.node) + " was fed a " +
                  std::string(dtype_name(found->value.dtype())) + " tensor of shape " +
                  found->value.shape().to_string() + "; feed " + std::string(dtype_name(dtype)) +
                  " of shape " + shape.to_string() +
                  " (or build the input with the shape you feed)");
    }
    if (const std::int64_t classes = num_classes_of(slot.node); classes > 0) {
      for (std::int64_t row = 0; row < found->value.numel(); ++row)
        check_class_index(slot.node, row, found->value.at(row), classes);
    }
    if (found->owner != nullptr) {
      plan.read_feed_at(slot_index, static_cast<const std::byte*>(found->value.raw()),
                        found->owner);
    } else {
      plan.read_feed_at(slot_index, nullptr, nullptr);
      if (found->value.nbytes() > 0)
        std::memcpy(slot.data, found->value.raw(), found->value.nbytes());
    }
  }
  anomaly_node_ = kNoNode;
  plan.set_last_run(++runs_);
  executor_->run(plan, *this);
}

void Graph::check_class_index(NodeId labels, std::int64_t row, double value,
                              std::int64_t classes) const {
  if (value >= 0 && value < static_cast<double>(classes) && value == std::floor(value)) return;
  std::ostringstream text;
  text << "input " << describe(labels) << " was fed " << value << " in row " << row
       << "; class labels are whole numbers in 0.." << classes - 1
       << " (check the dataset's labels, or build the input with the right class count)";
  throw Error(text.str());
}

void Graph::feed_class_indices(const FeedSlot& slot, std::span<const std::int64_t> indices) {
  const std::int64_t rows = shape_of(slot.node).numel();
  if (static_cast<std::int64_t>(indices.size()) != rows) {
    throw Error("input " + describe(slot.node) + " was fed " + std::to_string(indices.size()) +
                " class indices; it takes " + std::to_string(rows) + ", one per row");
  }
  const std::int64_t classes = num_classes_of(slot.node);
  const TensorView stored(slot.data, shape_of(slot.node), nodes_[slot.node].dtype);
  for (std::int64_t row = 0; row < rows; ++row) {
    const std::int64_t index = indices[static_cast<std::size_t>(row)];
    if (classes > 0 && (index < 0 || index >= classes))
      check_class_index(slot.node, row, static_cast<double>(index), classes);
    stored.set(row, static_cast<double>(index));
  }
}

std::vector<Tensor> Graph::run(const std::vector<Expr>& outputs, const std::vector<Feed>& feeds) {
  Plan& plan = cached_plan(outputs);
  run_plan(plan, feeds);
  std::vector<Tensor> values;
  values.reserve(outputs.size());
  for (const Expr& e : outputs) values.emplace_back(plan.value(e.id()));
  return values;
}

Tensor Graph::run(Expr output, const std::vector<Feed>& feeds) {
  return std::move(run(std::vector<Expr>{output}, feeds)[0]);
}

Function Graph::compile(const std::vector<Expr>& outputs) {
  return compile(outputs, CompileOptions{});
}

Function Graph::compile(const std::vector<Expr>& outputs, const CompileOptions& options) {
  if (outputs.empty()) throw Error("compile: give at least one output");
  PlanOptions plan_options;
  for (const Expr& e : outputs) check_owns(e, "compile");
  for (const Expr& e : options.keep) {
    check_owns(e, "compile (keep)");
    plan_options.keep.push_back(e.id());
  }
  plan_options.keep_all_values = options.keep_all_values || keep_values_;
  std::vector<NodeId> output_ids;
  output_ids.reserve(outputs.size());
  for (const Expr& e : outputs) output_ids.push_back(e.id());
  return Function(*this, outputs,
                  std::make_unique<Plan>(*this, std::move(output_ids), std::move(plan_options)));
}

void Graph::set_num_threads(int num_threads) {
  if (num_threads < 0 || num_threads > 1024) {
    throw Error("set_num_threads(" + std::to_string(num_threads) +
                "): use 0 for the serial executor or 1..1024 threads for the TBB executor");
  }
  num_threads_ = num_threads;
  executor_ = make_executor(num_threads);
}

Executor& Graph::executor() {
  return *executor_;
}

void Graph::run_kernels(const std::function<void()>& work) {
  executor_->run_kernels(work);
}

}  // namespace dagprop
