// Graph: the node arena. Builds nodes (leaves and ops), holds parameter values and gradients,
// and runs plans for requested outputs.
#pragma once

#include <atomic>
#include <cstddef>
#include <cstdlib>
#include <deque>
#include <functional>
#include <initializer_list>
#include <map>
#include <memory>
#include <span>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

#include <dagprop/attributes.hpp>
#include <dagprop/export.hpp>
#include <dagprop/expr.hpp>
#include <dagprop/node.hpp>
#include <dagprop/tensor.hpp>

DAGPROP_API_BEGIN
namespace dagprop {

class Plan;
struct FeedSlot;
class Executor;
class Function;
struct CompileOptions;
struct OpDef;

// A value for an input node, for one run: a tensor of the input's shape and dtype, or, for an
// input of class labels (Graph::labels), integer class indices, converted as they are copied in.
// A value is copied into the run's workspace, unless the feed is borrowed: then the run reads it
// where it lies, without a copy, and the plan that ran holds `owner` (whatever keeps that memory
// alive: a numpy array's reference, a shared tensor) until its next run or its end, so that the
// input's value read after the run (Function::value, pictures) is that memory. The memory must not
// change during the run; changed afterwards, the input's value read from the plan changes with it.
struct Feed {
  Expr input;
  TensorView value;
  std::span<const std::int64_t> class_indices;  // used instead of `value` when not empty
  std::shared_ptr<const void> owner;            // set: borrowed (see above)

  static Feed classes(Expr labels, std::span<const std::int64_t> indices) {
    return {labels, {}, indices, nullptr};
  }
  static Feed borrowed(Expr input, TensorView value, std::shared_ptr<const void> owner) {
    return {input, value, {}, std::move(owner)};
  }
};

struct BackwardOptions {
  bool accumulate = false;  // add to the stored gradients instead of replacing them
  // Nodes whose values stay readable after the run (e.g. the logits, for an accuracy); the others
  // share buffers once read, unless Graph::set_keep_values(true).
  std::vector<Expr> keep;
  // Inner (op) nodes whose gradients this backward() also stores, readable with grad() afterwards
  // (PyTorch's retain_grad()): d loss / d node, computed in the same sweep as the parameters'.
  std::vector<Expr> retain_grad;
};

class Graph {
 public:
  Graph();
  ~Graph();
  Graph(const Graph&) = delete;
  Graph& operator=(const Graph&) = delete;

  // ---- building
  // Leaves. A name is optional: an unnamed input or parameter is called after its node id
  // ("input7", "parameter3": full_name_of(), describe(), find(); local_name_of() stays empty).
  // Two parameters may not share a full name (scope included).
  Expr input(std::string_view name, Shape shape, DType dtype = DType::f64);
  Expr input(Shape shape, DType dtype = DType::f64);
  Expr parameter(std::string_view name, double value, DType dtype = DType::f64);
  Expr parameter(std::string_view name, const TensorView& initial_value);
  Expr parameter(double value, DType dtype = DType::f64);
  Expr parameter(const TensorView& initial_value);
  Expr constant(double value, DType dtype = DType::f64, std::string_view name = {});
  Expr constant(const TensorView& value, std::string_view name = {});
  // An input of class labels for `batch` rows, each a class index in [0, num_classes), stored in
  // `dtype` for the losses that read it (cross_entropy, one_hot). Every feed is checked when it is
  // copied in: a value that is not a whole number in that range is an error naming the input, the
  // row and the value. Feed it integers (Feed::classes) or a tensor of whole numbers.
  Expr labels(std::string_view name, std::int64_t batch, std::int64_t num_classes,
              DType dtype = DType::f32);
  // The class count of a labels input; 0 for any other node.
  std::int64_t num_classes_of(NodeId id) const;
  // Marks an input so that backward() fills its gradient too.
  void set_requires_grad(Expr input, bool requires_grad = true);

  // Adds an op node. Shape and dtype rules are checked here, so a bad graph fails where it is
  // built.
  Expr apply(OpId op, std::span<const Expr> inputs, const OpAttrs& attrs = {},
             std::string_view name = {});
  Expr apply(std::string_view op_name, std::span<const Expr> inputs, const OpAttrs& attrs = {},
             std::string_view name = {});
  // With attributes by name, as the op declares them (OpDef::attributes): unknown names, wrong
  // kinds and out-of-range values are refused with the op's attribute names in the message.
  // g.apply("my_op", inputs, {{"k", 3}, {"temperature", 0.5}}).
  Expr apply(std::string_view op_name, std::span<const Expr> inputs,
             std::initializer_list<NamedAttr> attrs, std::string_view name = {});
  Expr apply(std::string_view op_name, std::span<const Expr> inputs,
             std::span<const NamedAttr> attrs, std::string_view name = {});
  // Gives a node a name (within the current scope); returns the same node.
  Expr set_name(Expr node, std::string_view name);

  // Name scopes: nodes built while a Scope lives get "outer/inner/" in front of their names.
  class Scope {
   public:
    explicit Scope(Graph& graph, std::string_view name);
    ~Scope();
    Scope(const Scope&) = delete;
    Scope& operator=(const Scope&) = delete;

   private:
    Graph& graph_;
    std::uint32_t previous_;
  };
  [[nodiscard]] Scope scope(std::string_view name) { return Scope(*this, name); }

  // ---- inspection
  std::size_t size() const { return nodes_.size(); }
  const Node& node(NodeId id) const { return nodes_[id]; }
  std::span<const NodeId> inputs_of(NodeId id) const {
    const Node& n = nodes_[id];
    return {inputs_.data() + n.first_input, n.num_inputs};
  }
  const Shape& shape_of(NodeId id) const { return shapes_[nodes_[id].shape_id]; }
  const OpAttrs& attrs_of(NodeId id) const { return attrs_[nodes_[id].attrs_id]; }
  // An attribute of an op node by its declared name; throws, listing the op's attributes, if
  // absent.
  AttrValue attribute(NodeId id, std::string_view name) const;
  const OpDef& op_of(NodeId id) const;
  std::string_view op_name_of(NodeId id) const;
  std::string_view local_name_of(NodeId id) const { return strings_[nodes_[id].name_id]; }
  std::string_view scope_of(NodeId id) const { return strings_[nodes_[id].scope_id]; }
  std::string full_name_of(NodeId id) const;  // "layer1/W"; "" when unnamed
  // "'layer1/W' (op parameter, shape [784, 256])" or "#17 (op add, shape [])": used by every error.
  std::string describe(NodeId id) const;
  Expr expr(NodeId id) { return {this, id}; }
  Expr find(std::string_view full_name);  // throws if no node has that name
  std::vector<Expr> parameters();
  bool is_leaf(NodeId id) const;
  bool is_parameter(NodeId id) const;
  bool is_input(NodeId id) const;
  bool is_constant(NodeId id) const;

  // ---- values
  // A leaf's value (parameters and constants; writable in place, e.g. by an optimizer), or, for a
  // node the graph's own run() or backward() computed, the value the most recent of those runs
  // left: readable when it was an output or kept (BackwardOptions::keep, set_keep_values(true)).
  // A Function's values are read from the Function (function.hpp).
  TensorView value(Expr node) const;
  TensorView value(NodeId id) const;  // the same, for inspection code that walks node ids
  void set_value(Expr leaf, const TensorView& value);
  bool has_value(NodeId id) const;
  // The gradient stored by the last backward(): for parameters, inputs marked with
  // set_requires_grad(), and nodes passed in BackwardOptions::retain_grad. Throws if there is none.
  TensorView grad(Expr node) const;
  TensorView grad(NodeId id) const;
  bool has_grad(Expr node) const;
  bool has_grad(NodeId id) const;
  void zero_grad();

  // ---- running
  // Computes the outputs (only the nodes they need) with the given feeds and returns copies of
  // their values. The work is compiled on the first call for this set of outputs and reused.
  std::vector<Tensor> run(const std::vector<Expr>& outputs, const std::vector<Feed>& feeds = {});
  Tensor run(Expr output, const std::vector<Feed>& feeds = {});
  // Compiles the outputs into a Function to run many times (function.hpp); its values are read
  // from it. Each call compiles anew: keep the Function.
  Function compile(const std::vector<Expr>& outputs);
  Function compile(const std::vector<Expr>& outputs, const CompileOptions& options);

  // ---- autodiff
  // Computes loss and the gradient of loss with respect to every parameter and every input that
  // requires a gradient, and stores them (readable with grad()). The gradient graph is built once
  // per loss node; later calls only run it. A non-scalar loss needs a seed of its shape.
  void backward(Expr loss, const std::vector<Feed>& feeds = {}, BackwardOptions options = {});
  void backward(Expr loss, const TensorView& seed, const std::vector<Feed>& feeds = {},
                BackwardOptions options = {});

  // ---- execution settings
  // 0: serial. n >= 1: the TBB executor with n threads. Defaults to DAGPROP_NUM_THREADS, else
  // serial.
  void set_num_threads(int num_threads);
  int num_threads() const { return num_threads_; }
  // Runs `work` with the kernel loops it calls (kernel_loops.hpp) split over this graph's executor
  // threads, as inside a run (Executor::run_kernels); the optimizers update parameters this way.
  void run_kernels(const std::function<void()>& work);
  // Keep every value a run computes readable afterwards (for inspecting and drawing a graph)
  // instead of reusing a buffer once its readers have run. Off by default; applies to what is
  // compiled afterwards (run(), backward(), compile()).
  void set_keep_values(bool keep) { keep_values_ = keep; }
  bool keep_values() const { return keep_values_; }
  // Anomaly mode: every run stops at the first node whose output holds a NaN or an Inf.
  void set_anomaly_mode(bool enabled) { anomaly_mode_ = enabled; }
  bool anomaly_mode() const { return anomaly_mode_; }
  // The node that anomaly mode stopped at in the last failing run (kNoNode if none).
  NodeId anomaly_node() const { return anomaly_node_.load(std::memory_order_relaxed); }

 private:
  friend class Scope;
  friend class Function;
  // The engine's own units (autodiff, executors, graph files) reach the members below through it
  // (engine/src/graph_internals.hpp); users do not.
  friend struct GraphInternals;
  // Marks a node as part of a backward graph (NodeFlags::gradient): grad() marks the nodes it
  // builds, and a graph file restores the mark when it is loaded.
  void mark_gradient(Expr node);
  void set_anomaly_node(NodeId id) { anomaly_node_.store(id, std::memory_order_relaxed); }
  // The graph a handle belongs to must be this one.
  void check_owns(Expr e, std::string_view what) const;

  std::uint32_t intern_string(std::string_view s);
  std::uint32_t intern_shape(const Shape& shape);
  std::uint32_t intern_attrs(const OpAttrs& attrs);
  NodeId add_node(OpId op, DType dtype, const Shape& shape, std::span<const NodeId> inputs,
                  const OpAttrs& attrs, std::string_view name, NodeFlags flags = NodeFlags::none);
  Expr add_leaf(OpId op, std::string_view name, const TensorView& value);
  std::byte* allocate_leaf_bytes(std::size_t nbytes);
  void backward_impl(Expr loss, const TensorView* seed, const std::vector<Feed>& feeds,
                     BackwardOptions options);
  // The graph's own compiled outputs (run()'s cache), and running a plan: checks the feeds, copies
  // them in, runs the executor, and stamps the plan with the run's number (value() reads the latest
  // graph-owned run that computed a node).
  Plan& cached_plan(const std::vector<Expr>& outputs, const std::vector<Expr>& keep = {});
  void run_plan(Plan& plan, const std::vector<Feed>& feeds);
  Executor& executor();
  // Makes an input one of class labels (labels(), and a graph file that says so).
  void set_class_labels(NodeId input, std::int64_t num_classes);
  // Feeding a labels input: integer indices converted into its slot, and the check of one value.
  void feed_class_indices(const FeedSlot& slot, std::span<const std::int64_t> indices);
  void check_class_index(NodeId labels, std::int64_t row, double value, std::int64_t classes) const;
  // The graph-owned plan (run()'s cache or a backward graph's) that last computed the node, or
  // null.
  const Plan* latest_plan_computing(NodeId id) const;

  std::vector<Node> nodes_;
  std::vector<NodeId> inputs_;
  std::deque<Shape> shapes_;  // deque: kernels hold pointers to shapes while the graph grows
  std::unordered_map<std::string, std::uint32_t> shape_index_;
  std::uint32_t last_shape_id_ = 0;
  std::deque<std::string> strings_;
  std::unordered_map<std::string, std::uint32_t> string_index_;
  std::deque<OpAttrs> attrs_;
  std::uint32_t current_scope_ = 0;
  std::unordered_map<std::string, NodeId> parameter_names_;  // full name -> its parameter
  std::unordered_map<NodeId, std::int64_t> label_classes_;   // labels inputs -> class count

  // Leaf values and stored gradients live in fixed blocks that never move, so views stay valid.
  struct FreeBytes {
    void operator()(std::byte* p) const noexcept { std::free(p); }
  };
  std::vector<std::unique_ptr<std::byte, FreeBytes>> leaf_blocks_;
  std::size_t block_used_ = 0;
  std::size_t block_size_ = 0;
  std::vector<std::byte*> leaf_values_;  // per leaf slot; null for inputs (fed per run)
  std::vector<std::byte*> leaf_grads_;   // per leaf slot; null until backward() stores one
  // Inner nodes' gradients that the last backward() was asked to retain (BackwardOptions).
  std::unordered_map<NodeId, Tensor> retained_grads_;

  std::map<std::vector<NodeId>, std::unique_ptr<Plan>> plans_;
  std::uint64_t runs_ = 0;  // plans run so far: the stamp of the next run
  struct BackwardGraph;
  std::unordered_map<NodeId, std::unique_ptr<BackwardGraph>> backward_graphs_;
  // grad()'s results by request {y, seed or kNoNode, wrt...}: a graph only grows, and no later
  // node can feed an earlier one, so a gradient once built stays right.
  std::map<std::vector<NodeId>, std::vector<NodeId>> gradient_cache_;

  int num_threads_ = 0;
  bool keep_values_ = false;
  std::unique_ptr<Executor> executor_;
  bool anomaly_mode_ = false;
  // Atomic: tasks of the parallel executor may report anomalies at the same time.
  std::atomic<NodeId> anomaly_node_ = kNoNode;
};

}  // namespace dagprop
DAGPROP_API_END

// Graph::compile() returns a Function: with the graph comes what it compiles to.
#include <dagprop/function.hpp>
