// grad(): one reverse sweep over the topological order, each op's gradient rule emitting nodes;
// backward(): grad() built once per loss, then run and stored per call.
#include <dagprop/autodiff.hpp>

#include <algorithm>
#include <cstring>
#include <unordered_map>

#include <dagprop/error.hpp>
#include <dagprop/graph.hpp>
#include <dagprop/op_def.hpp>
#include "plan.hpp"

#include "backward_graph.hpp"
#include "builtin_ops.hpp"
#include "graph_internals.hpp"

namespace dagprop {

// ---------------------------------------------------------------- GradContext

Expr GradContext::input(int i) const {
  return {&graph_, graph_.inputs_of(node_)[static_cast<std::size_t>(i)]};
}
Expr GradContext::output() const {
  return {&graph_, node_};
}
const OpAttrs& GradContext::attrs() const {
  return graph_.attrs_of(node_);
}

void GradContext::set(int i, Expr grad) {
  const NodeId input_id = graph_.inputs_of(node_)[static_cast<std::size_t>(i)];
  if (!(grad.shape() == graph_.shape_of(input_id)) || grad.dtype() != graph_.node(input_id).dtype) {
    throw Error(
        "the gradient rule of " + graph_.describe(node_) + " gave input " + std::to_string(i) +
        " " + graph_.describe(input_id) + " a gradient " + graph_.describe(grad.id()) +
        "; a gradient must have its input's shape and dtype (reduce broadcast axes with sum_to)");
  }
  input_grads_[static_cast<std::size_t>(i)] = grad;
}

// ---------------------------------------------------------------- grad

Expr accumulate_gradient(Expr existing, Expr contribution, NodeId node) {
  if (!existing.valid()) return contribution;
  if (!(existing.shape() == contribution.shape())) {
    throw Error("gradient contributions for " + existing.graph().describe(node) +
                " disagree in shape: " + existing.shape().to_string() + " and " +
                contribution.shape().to_string() +
                "; a gradient rule returned an unreduced gradient");
  }
  return builtin::sum_gradients(existing, contribution);
}

namespace {

void mark_gradient_nodes(Graph& graph, NodeId first) {
  for (NodeId id = first; id < graph.size(); ++id) {
    GraphInternals::mark_gradient(graph, graph.expr(id));
  }
}

// The gradient nodes of y with respect to wrt (y's graph), built once per request and cached;
// order_of_y: y's topological order when the caller has it (backward() does), else computed.
std::vector<Expr> gradients_along(Expr y, const std::vector<Expr>& wrt, Expr seed,
                                  const std::vector<NodeId>* order_of_y);

}  // namespace

std::vector<Expr> grad(Expr y, const std::vector<Expr>& wrt, Expr seed) {
  Graph& graph = y.graph();
  for (const Expr& w : wrt) GraphInternals::check_owns(graph, w, "grad");
  if (seed.valid()) {
    GraphInternals::check_owns(graph, seed, "grad (seed)");
    if (!(seed.shape() == y.shape()) || seed.dtype() != y.dtype()) {
      throw Error("grad of " + graph.describe(y.id()) + ": the seed " + graph.describe(seed.id()) +
                  " must have the output's shape and dtype");
    }
  } else if (!y.shape().is_scalar()) {
    throw Error("grad of " + graph.describe(y.id()) +
                ": the output is not a scalar, so the gradient needs a seed " + "of shape " +
                y.shape().to_string() + " (a vector-Jacobian product): pass seed=, or reduce the " +
                "output with sum() or mean() first");
  }
  return gradients_along(y, wrt, seed, nullptr);
}

Expr grad(Expr y, Expr wrt, Expr seed) {
  return grad(y, std::vector<Expr>{wrt}, seed)[0];
}

namespace {

std::vector<Expr> gradients_along(Expr y, const std::vector<Expr>& wrt, Expr seed,
                                  const std::vector<NodeId>* order_of_y) {
  Graph& graph = y.graph();
  const NodeId first_new = static_cast<NodeId>(graph.size());
  // The same request again gives the nodes built the first time, not a second copy.
  std::vector<NodeId> request{y.id(), seed.valid() ? seed.id() : kNoNode};
  for (const Expr& w : wrt) request.push_back(w.id());
  auto& cache = GraphInternals::gradient_cache(graph);
  if (const auto it = cache.find(request); it != cache.end()) {
    std::vector<Expr> result;
    for (const NodeId id : it->second) result.emplace_back(&graph, id);
    return result;
  }
  if (!seed.valid()) seed = graph.constant(1.0, y.dtype());

  std::vector<NodeId> computed_order;
  if (order_of_y == nullptr) computed_order = topological_order(graph, {y.id()});
  const std::vector<NodeId>& order = order_of_y != nullptr ? *order_of_y : computed_order;
  // depends[n]: a gradient can flow from n down to one of the requested nodes.
  std::vector<bool> depends(first_new, false);
  for (const Expr& w : wrt) depends[w.id()] = true;
  for (const NodeId id : order) {
    // No gradient flows back through an op whose gradient is zero by definition (a comparison
    // mask, argmax), so a mask of a parameter may feed an input that takes none (where's
    // condition, an index). Only its non-differentiable inputs still count, so that asking for
    // one of those (one_hot of a parameter) remains an error.
    const OpDef& def = graph.op_of(id);
    const auto inputs = graph.inputs_of(id);
    for (std::size_t i = 0; i < inputs.size(); ++i) {
      const bool passes =
          def.grad_kind != GradKind::zero || (def.nondifferentiable_inputs >> i & 1U);
      if (depends[inputs[i]] && passes) depends[id] = true;
    }
  }

  std::vector<NodeId> gradient_of(first_new, kNoNode);
  gradient_of[y.id()] = seed.id();
  std::vector<Expr> input_grads;
  std::vector<NodeId> inputs;
  std::vector<char> wanted;
  for (auto it = order.rbegin(); it != order.rend(); ++it) {
    const NodeId id = *it;
    if (gradient_of[id] == kNoNode || !depends[id] || graph.is_leaf(id)) continue;
    const OpDef& def = graph.op_of(id);
    // A copy: gradient rules add nodes, which may move the graph's input array.
    const auto input_span = graph.inputs_of(id);
    inputs.assign(input_span.begin(), input_span.end());
    input_grads.assign(inputs.size(), Expr{});
    wanted.assign(inputs.size(), 0);
    bool any_wanted = false;
    for (std::size_t i = 0; i < inputs.size(); ++i) {
      wanted[i] = depends[inputs[i]];
      if (wanted[i] && (def.nondifferentiable_inputs >> i & 1U)) {
        throw Error("cannot differentiate through input " + std::to_string(i) + " of " +
                    graph.describe(id) + ": op " + std::string(def.name) +
                    " is not differentiable with respect to it, but " + graph.describe(inputs[i]) +
                    " needs a gradient; wrap it in stop_gradient() or drop it from wrt");
      }
      any_wanted = any_wanted || wanted[i];
    }
    // Zero by the op's definition, stated in the table (step, sign, stop_gradient).
    if (!any_wanted || def.grad_kind == GradKind::zero) continue;
    GradContext context(graph, id, Expr(&graph, gradient_of[id]), input_grads,
                        std::span<const char>(wanted.data(), wanted.size()));
    def.vjp(context);
    for (std::size_t i = 0; i < inputs.size(); ++i) {
      if (!wanted[i] || !input_grads[i].valid()) continue;
      const NodeId input = inputs[i];
      const Expr existing =
          gradient_of[input] == kNoNode ? Expr{} : Expr(&graph, gradient_of[input]);
      gradient_of[input] = accumulate_gradient(existing, input_grads[i], input).id();
    }
  }

  std::vector<Expr> result;
  result.reserve(wrt.size());
  for (const Expr& w : wrt) {
    if (gradient_of[w.id()] != kNoNode) {
      result.emplace_back(&graph, gradient_of[w.id()]);
    } else {
      result.push_back(graph.constant(Tensor::zeros(w.shape(), w.dtype())));
    }
  }
  mark_gradient_nodes(graph, first_new);
  std::vector<NodeId>& cached = cache[request];
  for (const Expr& r : result) cached.push_back(r.id());
  return result;
}

}  // namespace

// ---------------------------------------------------------------- backward

void Graph::backward(Expr loss, const std::vector<Feed>& feeds, BackwardOptions options) {
  backward_impl(loss, nullptr, feeds, options);
}

void Graph::backward(Expr loss, const TensorView& seed, const std::vector<Feed>& feeds,
                     BackwardOptions options) {
  backward_impl(loss, &seed, feeds, options);
}

void Graph::backward_impl(Expr loss, const TensorView* seed, const std::vector<Feed>& feeds,
                          BackwardOptions options) {
  check_owns(loss, "backward");
  if (seed == nullptr && !loss.shape().is_scalar()) {
    throw Error("backward(" + describe(loss.id()) +
                "): the loss is not a scalar; pass a seed tensor of shape " +
                loss.shape().to_string() +
                " (a vector-Jacobian product), or reduce it with sum() or mean()");
  }
  if (seed != nullptr && (!(seed->shape() == loss.shape()) || seed->dtype() != loss.dtype())) {
    throw Error("backward(" + describe(loss.id()) + "): the seed is " +
                std::string(dtype_name(seed->dtype())) + " of shape " + seed->shape().to_string() +
                " but must match the loss");
  }
  // Inner nodes whose gradients are stored too: op nodes of this graph (leaves have their own).
  std::vector<Expr> retain;
  retain.reserve(options.retain_grad.size());
  for (const Expr& e : options.retain_grad) {
    check_owns(e, "backward (retain_grad)");
    if (is_leaf(e.id())) {
      throw Error("backward(" + describe(loss.id()) + "): retain_grad names " + describe(e.id()) +
                  ", a leaf; parameters always get their gradient, inputs with "
                  "set_requires_grad(); retain_grad is for inner (op) nodes");
    }
    if (std::find(retain.begin(), retain.end(), e) == retain.end()) retain.push_back(e);
  }

  const NodeId key = loss.id();
  auto& cached = backward_graphs_[key * 2 + (seed != nullptr ? 1 : 0)];
  // The loss's order, computed once here and handed to the gradient builder.
  std::vector<NodeId> order;
  if (!cached) {
    auto built = std::make_unique<BackwardGraph>();
    order = topological_order(*this, {loss.id()});
    for (const NodeId id : order) {
      if (is_parameter(id) ||
          (is_input(id) && has_flag(nodes_[id].flags, NodeFlags::requires_grad))) {
        built->targets.emplace_back(this, id);
      }
    }
    if (seed != nullptr) {
      built->seed_input =
          input("backward_seed#" + std::to_string(loss.id()), loss.shape(), loss.dtype());
    }
    cached = std::move(built);
  }
  BackwardGraph& bg = *cached;
  if (!bg.built || bg.retained != retain) {
    // One sweep for the targets and the retained nodes; a set asked for before is reused.
    std::vector<Expr> wrt = bg.targets;
    wrt.insert(wrt.end(), retain.begin(), retain.end());
    std::vector<Expr> gradients =
        gradients_along(loss, wrt, bg.seed_input, order.empty() ? nullptr : &order);
    bg.retained = retain;
    bg.retained_gradients.assign(gradients.begin() + static_cast<std::ptrdiff_t>(bg.targets.size()),
                                 gradients.end());
    gradients.resize(bg.targets.size());
    bg.gradients = std::move(gradients);
    bg.outputs.assign(1, loss);
    bg.outputs.insert(bg.outputs.end(), bg.gradients.begin(), bg.gradients.end());
    bg.outputs.insert(bg.outputs.end(), bg.retained_gradients.begin(), bg.retained_gradients.end());
    bg.built = true;
    bg.plan.reset();
  }
  std::vector<NodeId> keep_ids;
  for (const Expr& e : options.keep) keep_ids.push_back(e.id());
  if (bg.plan == nullptr || bg.plan_keep != keep_ids || bg.plan_keeps_all != keep_values_) {
    std::vector<NodeId> output_ids;
    for (const Expr& e : bg.outputs) output_ids.push_back(e.id());
    PlanOptions plan_options;
    plan_options.keep = keep_ids;
    plan_options.keep_all_values = keep_values_;
    bg.plan = std::make_unique<Plan>(*this, std::move(output_ids), std::move(plan_options));
    bg.plan_keep = std::move(keep_ids);
    bg.plan_keeps_all = keep_values_;
    bg.bindable.assign(bg.targets.size(), 0);
    bg.bound_to.assign(bg.targets.size(), nullptr);
    // A gradient node shared by two targets (a constant zero, say) stays in the workspace.
    std::vector<NodeId> sorted;
    sorted.reserve(bg.gradients.size());
    for (const Expr& e : bg.gradients) sorted.push_back(e.id());
    std::sort(sorted.begin(), sorted.end());
    const auto shared = [&](NodeId id) {
      const auto [first, last] = std::equal_range(sorted.begin(), sorted.end(), id);
      return last - first > 1;
    };
    for (std::size_t i = 0; i < bg.targets.size(); ++i) {
      const NodeId gradient = bg.gradients[i].id();
      bg.bindable[i] = !is_leaf(gradient) && gradient != loss.id() &&
                       bg.plan->value(gradient).nbytes() > 0 && !shared(gradient);
    }
  }
  Plan& plan = *bg.plan;

  // Gradients that replace what .grad() holds (all of them on the first call, which allocates the
  // storage) are written there by the run itself; gradients to add to it are computed in the
  // workspace and added afterwards.
  std::vector<std::uint8_t> fresh(bg.targets.size(), 0);
  std::vector<std::pair<NodeId, std::byte*>> bindings;
  for (std::size_t i = 0; i < bg.targets.size(); ++i) {
    std::byte*& stored = leaf_grads_[nodes_[bg.targets[i].id()].leaf_slot];
    if (stored == nullptr) {
      stored = allocate_leaf_bytes(plan.value(bg.gradients[i].id()).nbytes());
      fresh[i] = 1;
    }
    std::byte* wanted =
        bg.bindable[i] != 0 && (!options.accumulate || fresh[i] != 0) ? stored : nullptr;
    if (bg.bound_to[i] != wanted) {
      bindings.emplace_back(bg.gradients[i].id(), wanted);
      bg.bound_to[i] = wanted;
    }
  }
  plan.bind_outputs(bindings);

  if (seed != nullptr) {
    std::vector<Feed> all_feeds = feeds;
    all_feeds.push_back({bg.seed_input, *seed});
    run_plan(plan, all_feeds);
  } else {
    run_plan(plan, feeds);
  }

  // Retained gradients: replaced, or added to where accumulate asks and one is stored; those not
  // asked for this time are dropped.
  std::unordered_map<NodeId, Tensor> retained;
  for (std::size_t i = 0; i < bg.retained.size(); ++i) {
    const NodeId id = bg.retained[i].id();
    const TensorView computed = plan.value(bg.retained_gradients[i].id());
    const auto stored = retained_grads_.find(id);
    if (options.accumulate && stored != retained_grads_.end()) {
      Tensor sum = std::move(stored->second);
      for (std::int64_t k = 0; k < computed.numel(); ++k) sum.set(k, sum.at(k) + computed.at(k));
      retained.emplace(id, std::move(sum));
    } else {
      retained.emplace(id, Tensor(computed));
    }
  }
  retained_grads_ = std::move(retained);

  for (std::size_t i = 0; i < bg.targets.size(); ++i) {
    if (bg.bound_to[i] != nullptr) continue;  // written in place by the run
    std::byte* stored = leaf_grads_[nodes_[bg.targets[i].id()].leaf_slot];
    const TensorView computed = plan.value(bg.gradients[i].id());
    if (!options.accumulate || fresh[i] != 0) {
      std::memcpy(stored, computed.raw(), computed.nbytes());
    } else if (computed.dtype() == DType::f32) {
      auto* dst = reinterpret_cast<float*>(stored);
      const float* src = computed.data<float>();
      for (std::int64_t k = 0; k < computed.numel(); ++k) dst[k] += src[k];
    } else {
      auto* dst = reinterpret_cast<double*>(stored);
      const double* src = computed.data<double>();
      for (std::int64_t k = 0; k < computed.numel(); ++k) dst[k] += src[k];
    }
  }
}

}  // namespace dagprop
