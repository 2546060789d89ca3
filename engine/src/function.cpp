// Function: the public face of a compiled plan (plan.hpp) and the home of its run's values.

#include <dagprop/function.hpp>

#include <string>
#include <utility>

#include <dagprop/error.hpp>

#include "graph_internals.hpp"
#include "plan.hpp"

namespace dagprop {

Function::Function() = default;
Function::~Function() = default;
Function::Function(Function&&) noexcept = default;
Function& Function::operator=(Function&&) noexcept = default;

Function::Function(Graph& graph, std::vector<Expr> outputs, std::unique_ptr<Plan> plan)
    : graph_(&graph), outputs_(std::move(outputs)), plan_(std::move(plan)) {}

void Function::check_valid(const char* what) const {
  if (plan_ == nullptr) {
    throw Error(std::string("Function::") + what +
                ": this Function is empty; compile one with graph.compile({outputs})");
  }
}

std::string Function::describe_outputs() const {
  std::string text = "the Function of ";
  for (std::size_t i = 0; i < outputs_.size() && i < 3; ++i) {
    if (i > 0) text += ", ";
    text += graph_->describe(outputs_[i].id());
  }
  if (outputs_.size() > 3) text += " and " + std::to_string(outputs_.size() - 3) + " more";
  return text;
}

Graph& Function::graph() const {
  check_valid("graph");
  return *graph_;
}

void Function::run(const std::vector<Feed>& feeds) {
  check_valid("run");
  // A failed run leaves values half written: none is readable until a run completes.
  has_run_ = false;
  GraphInternals::run_plan(*graph_, *plan_, feeds);
  has_run_ = true;
}

std::vector<Tensor> Function::operator()(const std::vector<Feed>& feeds) {
  run(feeds);
  std::vector<Tensor> values;
  values.reserve(outputs_.size());
  for (const Expr& e : outputs_) values.emplace_back(plan_->value(e.id()));
  return values;
}

bool Function::computes(Expr node) const {
  check_valid("computes");
  GraphInternals::check_owns(*graph_, node, "Function::computes");
  return plan_->computes(node.id());
}

bool Function::retains(Expr node) const {
  check_valid("retains");
  GraphInternals::check_owns(*graph_, node, "Function::retains");
  return plan_->retains(node.id());
}

TensorView Function::value(Expr node) const {
  check_valid("value");
  GraphInternals::check_owns(*graph_, node, "Function::value");
  if (!plan_->computes(node.id())) {
    throw Error(graph_->describe(node.id()) + " is not computed by " + describe_outputs() +
                ": compile a Function whose outputs need it");
  }
  if (!has_run_ && !(graph_->is_leaf(node.id()) && !graph_->is_input(node.id()))) {
    throw Error(graph_->describe(node.id()) + ": " + describe_outputs() +
                " has not completed a run yet; call run(feeds) first");
  }
  return plan_->value(node.id());  // says how to keep a node it does not retain
}

std::size_t Function::num_steps() const {
  check_valid("num_steps");
  return plan_->steps().size();
}
std::size_t Function::workspace_bytes() const {
  check_valid("workspace_bytes");
  return plan_->workspace_bytes();
}
std::size_t Function::unshared_workspace_bytes() const {
  check_valid("unshared_workspace_bytes");
  return plan_->unshared_workspace_bytes();
}
std::uint32_t Function::num_tasks() const {
  check_valid("num_tasks");
  return plan_->tasks().num_tasks();
}
double Function::parallelism() const {
  check_valid("parallelism");
  return plan_->tasks().parallelism();
}

}  // namespace dagprop
