// Plan compilation: the order from Boost.Graph's depth-first search, one step per op node, the
// task partition, then the workspace layout (memory_plan.hpp) and the operand addresses in it.
#include "plan.hpp"

#include <algorithm>
#include <cstdlib>
#include <cstring>

#include <boost/graph/depth_first_search.hpp>

#include <dagprop/error.hpp>
#include <dagprop/graph.hpp>
#include <dagprop/op_def.hpp>
#include "boost_graph.hpp"

#include "memory_plan.hpp"

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

Plan::Plan(const Graph& graph, std::vector<NodeId> outputs, PlanOptions options)
    : graph_(&graph), outputs_(std::move(outputs)), workspace_(nullptr, &free_workspace) {
  order_ = topological_order(graph, outputs_);

  NodeId max_id = 0;
  for (const NodeId id : order_) max_id = std::max(max_id, id);
  const std::size_t num_ids = order_.empty() ? 0 : static_cast<std::size_t>(max_id) + 1;
  retained_.assign(num_ids, options.keep_all_values);
  for (const NodeId id : outputs_) retained_[id] = true;
  for (const NodeId id : options.keep) {
    if (id < num_ids) retained_[id] = true;
  }

  // Steps first, with operand addresses filled in once the workspace is laid out. Sized once:
  // growing these arrays would copy them into fresh pages, which is what a large plan's compile
  // time would otherwise be spent on.
  std::size_t num_steps = 0, num_args = 0;
  std::vector<NodeId> fed;
  for (const NodeId id : order_) {
    if (graph.is_input(id)) fed.push_back(id);
    if (graph.is_leaf(id)) continue;
    ++num_steps;
    num_args += graph.node(id).num_inputs + 1;
  }
  steps_.reserve(num_steps);
  args_.reserve(num_args);
  std::vector<std::uint8_t> step_retained;
  step_retained.reserve(num_steps);
  for (const NodeId id : order_) {
    if (graph.is_leaf(id)) {
      retained_[id] = true;
      continue;
    }
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
      args_.push_back({nullptr, &graph.shape_of(input)});
    args_.push_back({nullptr, &graph.shape_of(id)});
    steps_.push_back(step);
    step_retained.push_back(retained_[id] ? 1 : 0);
  }
  tasks_ = TaskPartition(graph, steps_, args_);

  const WorkspaceLayout layout = plan_workspace(graph, steps_, args_, fed, tasks_, step_retained);
  workspace_bytes_ = layout.bytes;
  unshared_workspace_bytes_ = layout.unshared_bytes;
  auto* bytes =
      static_cast<std::byte*>(std::aligned_alloc(64, std::max<std::size_t>(workspace_bytes_, 64)));
  if (bytes == nullptr)
    throw Error("out of memory: a plan workspace of " + std::to_string(workspace_bytes_) +
                " bytes");
  std::memset(bytes, 0, std::max<std::size_t>(workspace_bytes_, 64));
  workspace_.reset(bytes);

  locations_.assign(num_ids, nullptr);
  for (const NodeId id : order_) {
    if (graph.is_leaf(id) && !graph.is_input(id)) {
      locations_[id] = static_cast<std::byte*>(graph.value(id).raw());
    }
  }
  std::vector<std::uint32_t> slot_of(fed.empty() ? 0 : num_ids, 0);
  for (std::size_t i = 0; i < fed.size(); ++i) {
    locations_[fed[i]] = bytes + layout.feed_offsets[i];
    feeds_.push_back({fed[i], locations_[fed[i]], {}});
    slot_of[fed[i]] = static_cast<std::uint32_t>(i) + 1;
  }
  feed_owners_.resize(feeds_.size());
  for (std::size_t s = 0; s < steps_.size(); ++s)
    locations_[steps_[s].node] = bytes + layout.step_offsets[s];
  point_operands_at_locations();
  if (!fed.empty()) {
    for (const PlanStep& step : steps_) {
      const auto inputs = graph.inputs_of(step.node);
      for (std::uint32_t i = 0; i < step.num_inputs; ++i) {
        if (const std::uint32_t slot = slot_of[inputs[i]]; slot != 0)
          feeds_[slot - 1].reader_args.push_back(step.first_arg + i);
      }
    }
  }
  for (const NodeId id : options.keep) {
    if (!computes(id)) {
      throw Error("a node to keep, " + graph.describe(id) +
                  ", is not computed for these outputs; keep only nodes they depend on");
    }
  }
}

Plan::~Plan() = default;

bool Plan::computes(NodeId id) const {
  return id < locations_.size() && locations_[id] != nullptr;
}

bool Plan::retains(NodeId id) const {
  return computes(id) && retained_[id];
}

TensorView Plan::value(NodeId id) const {
  if (!computes(id)) {
    throw Error(graph_->describe(id) +
                " is not computed by this plan; add it to the outputs you run");
  }
  if (!retained_[id]) {
    throw Error(graph_->describe(id) +
                " is computed by this plan but not kept: its buffer was reused once the nodes "
                "reading it had run. Add it to the outputs you run (for backward(): "
                "BackwardOptions::keep), or call graph.set_keep_values(true) to keep every value");
  }
  return buffer(id);
}

TensorView Plan::buffer(NodeId id) const {
  if (!computes(id)) {
    throw Error(graph_->describe(id) +
                " is not computed by this plan; add it to the outputs you run");
  }
  return {locations_[id], graph_->shape_of(id), graph_->node(id).dtype};
}

void Plan::bind_output(NodeId id, std::byte* storage) {
  const std::pair<NodeId, std::byte*> binding{id, storage};
  bind_outputs({&binding, 1});
}

void Plan::bind_outputs(std::span<const std::pair<NodeId, std::byte*>> bindings) {
  if (bindings.empty()) return;
  std::vector<std::uint8_t> is_output(locations_.size(), 0);
  for (const NodeId id : outputs_) is_output[id] = 1;
  for (const auto& [id, storage] : bindings) {
    if (id >= locations_.size() || is_output[id] == 0 || graph_->is_leaf(id) || !computes(id)) {
      throw Error("bind_output(" + graph_->describe(id) +
                  "): only an output that the plan computes (not a leaf) can be bound to storage");
    }
  }
  if (workspace_locations_.empty()) workspace_locations_.assign(locations_.size(), nullptr);
  for (const auto& [id, storage] : bindings) {
    std::byte*& workspace = workspace_locations_[id];  // non-null while bound elsewhere
    if (storage == nullptr) {
      if (workspace == nullptr) continue;  // not bound
      locations_[id] = workspace;
      workspace = nullptr;
    } else {
      if (workspace == nullptr) workspace = locations_[id];
      locations_[id] = storage;
    }
  }
  point_operands_at_locations();  // one pass for any number of bindings
}

void Plan::read_feed_at(std::size_t slot, const std::byte* data,
                        std::shared_ptr<const void> owner) {
  FeedSlot& feed = feeds_.at(slot);
  // Kernels take their operands as KernelArg::data; they only read an input's bytes.
  std::byte* const location = data != nullptr ? const_cast<std::byte*>(data) : feed.data;
  feed_owners_[slot] = data != nullptr ? std::move(owner) : nullptr;
  if (locations_[feed.node] == location) return;
  locations_[feed.node] = location;
  for (const std::uint32_t arg : feed.reader_args) args_[arg].data = location;
}

void Plan::point_operands_at_locations() {
  for (const PlanStep& step : steps_) {
    KernelArg* args = args_.data() + step.first_arg;
    const auto inputs = graph_->inputs_of(step.node);
    for (std::uint32_t i = 0; i < step.num_inputs; ++i) args[i].data = locations_[inputs[i]];
    args[step.num_inputs].data = locations_[step.node];
  }
}

}  // namespace dagprop
