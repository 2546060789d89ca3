// Finite-difference gradient checks.
#include <dagprop/gradcheck.hpp>

#include <cmath>
#include <cstdio>

#include <dagprop/autodiff.hpp>
#include <dagprop/error.hpp>
#include <dagprop/op_def.hpp>
#include <dagprop/random.hpp>
#include "graph_internals.hpp"
#include "plan.hpp"

namespace dagprop {

std::string GradcheckResult::report() const {
  char text[512];
  std::snprintf(text, sizeof text,
                "%s: %lld elements, max |analytic - numeric| = %.3g at %s[%lld] (analytic %.10g, "
                "numeric %.10g)",
                ok ? "gradcheck passed" : "gradcheck FAILED",
                static_cast<long long>(elements_checked), max_abs_error, worst_node.c_str(),
                static_cast<long long>(worst_index), analytic, numeric);
  return text;
}

namespace {

// The scalar that is differentiated: y itself, or r . y for a fixed r.
double projected(const TensorView& y, const std::vector<double>& r) {
  double total = 0;
  for (std::int64_t i = 0; i < y.numel(); ++i) total += r[static_cast<std::size_t>(i)] * y.at(i);
  return total;
}

}  // namespace

GradcheckResult gradcheck(Expr y, const std::vector<Expr>& wrt, const std::vector<Feed>& feeds,
                          GradcheckOptions options) {
  Graph& graph = y.graph();
  if (y.dtype() != DType::f64) {
    throw Error("gradcheck of " + graph.describe(y.id()) +
                ": finite differences need float64; build the graph in float64");
  }
  for (const Expr& w : wrt) {
    GraphInternals::check_owns(graph, w, "gradcheck");
    if (w.dtype() != DType::f64 || !(graph.is_parameter(w.id()) || graph.is_input(w.id()))) {
      throw Error(
          "gradcheck: " + graph.describe(w.id()) +
          " must be a float64 parameter or input (it is perturbed to take finite differences)");
    }
  }
  std::vector<double> r(static_cast<std::size_t>(y.shape().numel()), 1.0);
  Expr seed;
  if (!y.shape().is_scalar()) {
    SplitMix64 random(options.seed);
    for (double& v : r) v = 2 * random.uniform() - 1;
    seed = graph.constant(Tensor::from(r, y.shape()));
  }
  const std::vector<Expr> gradients = grad(y, wrt, seed);
  std::vector<Tensor> analytic = graph.run(gradients, feeds);

  // Perturbing inputs means feeding modified copies.
  std::vector<Feed> perturbed_feeds = feeds;
  std::vector<Tensor> feed_copies;
  feed_copies.reserve(feeds.size());
  for (std::size_t i = 0; i < feeds.size(); ++i) {
    feed_copies.emplace_back(feeds[i].value);
    perturbed_feeds[i].value = feed_copies.back();
    perturbed_feeds[i].owner = nullptr;  // copied into the runs' workspaces, not borrowed
  }
  auto evaluate = [&] { return projected(graph.run(y, perturbed_feeds), r); };

  GradcheckResult result;
  double worst_ratio = -1;
  for (std::size_t k = 0; k < wrt.size(); ++k) {
    TensorView target;
    if (graph.is_parameter(wrt[k].id())) {
      target = graph.value(wrt[k]);
    } else {
      for (std::size_t i = 0; i < feeds.size(); ++i) {
        if (feeds[i].input == wrt[k]) target = feed_copies[i].view();
      }
      if (target.raw() == nullptr && target.numel() != 0) {
        throw Error("gradcheck: input " + graph.describe(wrt[k].id()) +
                    " is in wrt but has no feed");
      }
    }
    for (std::int64_t i = 0; i < target.numel(); ++i) {
      const double original = target.at(i);
      target.set(i, original + options.eps);
      const double plus = evaluate();
      target.set(i, original - options.eps);
      const double minus = evaluate();
      target.set(i, original);
      const double numeric = (plus - minus) / (2 * options.eps);
      const double value = analytic[k].at(i);
      const double error = std::abs(value - numeric);
      const double allowed = options.atol + options.rtol * std::abs(numeric);
      const double ratio = std::isfinite(error) ? error / allowed : INFINITY;
      ++result.elements_checked;
      if (!(error <= allowed)) result.ok = false;
      if (ratio > worst_ratio || std::isnan(error)) {
        worst_ratio = ratio;
        result.max_abs_error = error;
        result.worst_node = graph.describe(wrt[k].id());
        result.worst_index = i;
        result.analytic = value;
        result.numeric = numeric;
      }
    }
  }
  return result;
}

std::vector<LocalGradientFailure> check_local_gradients(Expr output, const std::vector<Feed>& feeds,
                                                        GradcheckOptions options) {
  Graph& graph = output.graph();
  // Every node's inputs are read after the run: keep all values.
  const std::vector<NodeId> order = topological_order(graph, {output.id()});
  std::vector<Expr> keep;
  keep.reserve(order.size());
  for (const NodeId id : order) keep.push_back(graph.expr(id));
  Plan& plan = GraphInternals::plan_for(graph, {output}, keep);
  GraphInternals::run_plan(graph, plan, feeds);
  std::vector<LocalGradientFailure> failures;
  for (const NodeId id : order) {
    const OpDef& def = graph.op_of(id);
    if (def.grad_kind != GradKind::smooth || def.forward_f64 == nullptr) continue;
    // The node alone, at its actual input values, in float64.
    Graph scratch;
    std::vector<Expr> inputs, differentiable;
    const auto input_ids = graph.inputs_of(id);
    for (std::size_t i = 0; i < input_ids.size(); ++i) {
      const TensorView value = plan.value(input_ids[i]);
      Tensor as_f64(value.shape(), DType::f64);
      for (std::int64_t e = 0; e < value.numel(); ++e) as_f64.set(e, value.at(e));
      if (def.nondifferentiable_inputs >> i & 1U) {
        inputs.push_back(scratch.constant(as_f64));
      } else {
        inputs.push_back(scratch.parameter("input" + std::to_string(i), as_f64));
        differentiable.push_back(inputs.back());
      }
    }
    if (differentiable.empty()) continue;
    const Expr copy = scratch.apply(graph.node(id).op, inputs, graph.attrs_of(id));
    const GradcheckResult check = gradcheck(copy, differentiable, {}, options);
    if (!check.ok)
      failures.push_back(
          {id, "local gradient of op " + std::string(def.name) + " is wrong: " + check.report()});
  }
  return failures;
}

}  // namespace dagprop
