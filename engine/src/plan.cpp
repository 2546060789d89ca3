// Plan compilation: the order from Boost.Graph's depth-first search, then one step per op node
// with its operand addresses resolved into a workspace owned by the plan.
#include <dagprop/plan.hpp>

#include <algorithm>
#include <cstdlib>
#include <cstring>

#include <boost/graph/depth_first_search.hpp>

#include <dagprop/boost_graph.hpp>
#include <dagprop/error.hpp>
#include <dagprop/graph.hpp>
#include <dagprop/op_def.hpp>

namespace dagprop {
namespace {

// A node finishes after all its inputs (its out-edges) have finished: finish order is an
// execution order.
class FinishOrderRecorder : public boost::default_dfs_visitor {
 public:
  explicit FinishOrderRecorder(std::vector<NodeId>& order) : order_(&order) {}
  void finish_vertex(NodeId v, const Graph&) const { order_->push_back(v); }

 private:
  std::vector<NodeId>* order_;
};

void free_workspace(std::byte* p) {
  std::free(p);
}

std::size_t workspace_alignment(std::size_t nbytes) {
  return nbytes >= 64 ? 64 : 8;
}

}  // namespace

std::vector<NodeId> topological_order(const Graph& graph, const std::vector<NodeId>& outputs) {
  std::vector<NodeId> order;
  std::vector<boost::default_color_type> colors(graph.size(), boost::white_color);
  auto color_map = boost::make_iterator_property_map(colors.begin(), NodeIndexMap());
  for (NodeId root : outputs) {
    if (root >= graph.size())
      throw Error("node #" + std::to_string(root) + " is not in this graph");
    if (colors[root] == boost::white_color) {
      boost::depth_first_visit(graph, root, FinishOrderRecorder(order), color_map);
    }
  }
  return order;
}

Plan::Plan(const Graph& graph, std::vector<NodeId> outputs)
    : graph_(&graph), outputs_(std::move(outputs)), workspace_(nullptr, &free_workspace) {
  order_ = topological_order(graph, outputs_);

  // Workspace layout: every computed node and every fed input gets its own slot. Scalars are packed
  // at 8-byte alignment, tensors start on a cache line.
  std::vector<std::size_t> offsets(order_.size(), 0);
  std::size_t used = 0;
  for (std::size_t i = 0; i < order_.size(); ++i) {
    const NodeId id = order_[i];
    if (graph.is_leaf(id) && !graph.is_input(id)) continue;
    const std::size_t nbytes =
        static_cast<std::size_t>(graph.shape_of(id).numel()) * dtype_size(graph.node(id).dtype);
    const std::size_t alignment = workspace_alignment(nbytes);
    used = (used + alignment - 1) / alignment * alignment;
    offsets[i] = used;
    used += std::max<std::size_t>(nbytes, 1);
  }
  workspace_bytes_ = (used + 63) / 64 * 64;
  auto* bytes =
      static_cast<std::byte*>(std::aligned_alloc(64, std::max<std::size_t>(workspace_bytes_, 64)));
  if (bytes == nullptr)
    throw Error("out of memory: a plan workspace of " + std::to_string(workspace_bytes_) +
                " bytes");
  std::memset(bytes, 0, std::max<std::size_t>(workspace_bytes_, 64));
  workspace_.reset(bytes);

  NodeId max_id = 0;
  for (const NodeId id : order_) max_id = std::max(max_id, id);
  locations_.assign(order_.empty() ? 0 : static_cast<std::size_t>(max_id) + 1, nullptr);
  for (std::size_t i = 0; i < order_.size(); ++i) {
    const NodeId id = order_[i];
    std::byte* location = nullptr;
    if (graph.is_leaf(id) && !graph.is_input(id)) {
      location = static_cast<std::byte*>(graph.value(Expr(const_cast<Graph*>(&graph), id)).raw());
    } else {
      location = bytes + offsets[i];
    }
    locations_[id] = location;
    if (graph.is_input(id)) feeds_.push_back({id, location});
  }

  // Sized once: growing these arrays would copy them into fresh pages, which is what a large plan's
  // compile time would otherwise be spent on.
  std::size_t num_steps = 0, num_args = 0;
  for (const NodeId id : order_) {
    if (graph.is_leaf(id)) continue;
    ++num_steps;
    num_args += graph.node(id).num_inputs + 1;
  }
  steps_.reserve(num_steps);
  args_.reserve(num_args);
  for (const NodeId id : order_) {
    if (graph.is_leaf(id)) continue;
    const OpDef& def = graph.op_of(id);
    const Node& node = graph.node(id);
    PlanStep step;
    step.node = id;
    step.op = node.op;
    step.dtype = node.dtype;
    step.first_arg = static_cast<std::uint32_t>(args_.size());
    step.num_inputs = node.num_inputs;
    step.attrs = &graph.attrs_of(id);
    step.forward = def.forward(node.dtype);
    if (step.forward == nullptr) {
      throw Error(graph.describe(id) + ": op " + std::string(def.name) + " has no " +
                  std::string(dtype_name(node.dtype)) +
                  " kernel; build this part of the graph in the other dtype");
    }
    for (const NodeId input : graph.inputs_of(id))
      args_.push_back({locations_[input], &graph.shape_of(input)});
    args_.push_back({locations_[id], &graph.shape_of(id)});
    steps_.push_back(step);
  }
  tasks_ = TaskPartition(graph, steps_, args_);
}

Plan::~Plan() = default;

bool Plan::computes(NodeId id) const {
  return id < locations_.size() && locations_[id] != nullptr;
}

TensorView Plan::value(NodeId id) const {
  if (!computes(id)) {
    throw Error(graph_->describe(id) +
                " is not computed by this plan; add it to the outputs you run");
  }
  return {locations_[id], graph_->shape_of(id), graph_->node(id).dtype};
}

}  // namespace dagprop
