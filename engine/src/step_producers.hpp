// The plan's steps and the steps whose results they read: shared by the passes that cut a plan into
// tasks and that lay out its workspace. Private to engine/.
#pragma once

#include <algorithm>
#include <cstdint>
#include <limits>
#include <span>
#include <vector>

#include <dagprop/graph.hpp>
#include "plan.hpp"

namespace dagprop {

// Marks "no step".
inline constexpr std::uint32_t kNoStep = std::numeric_limits<std::uint32_t>::max();

// Node id -> index of the plan step that computes it; kNoStep for leaves and nodes not in the plan.
class StepIndex {
 public:
  explicit StepIndex(std::span<const PlanStep> steps) {
    if (steps.empty()) return;
    const auto [lowest, highest] =
        std::minmax_element(steps.begin(), steps.end(),
                            [](const PlanStep& a, const PlanStep& b) { return a.node < b.node; });
    first_node_ = lowest->node;
    index_.assign(highest->node - first_node_ + 1, kNoStep);
    for (std::size_t s = 0; s < steps.size(); ++s)
      index_[steps[s].node - first_node_] = static_cast<std::uint32_t>(s);
  }
  std::uint32_t operator()(NodeId node) const {
    if (node < first_node_ || node - first_node_ >= index_.size()) return kNoStep;
    return index_[node - first_node_];
  }

 private:
  NodeId first_node_ = 0;
  std::vector<std::uint32_t> index_;
};

// The steps whose results each step reads (leaves left out). Looked up once: the passes below read
// them three times, and the node arena they come from is far larger than this table.
class Producers {
 public:
  Producers(const Graph& graph, std::span<const PlanStep> steps) {
    const StepIndex step_of(steps);
    first_.reserve(steps.size() + 1);
    first_.push_back(0);
    for (const PlanStep& step : steps) {
      for (const NodeId input : graph.inputs_of(step.node)) {
        const std::uint32_t p = step_of(input);
        if (p != kNoStep) producers_.push_back(p);
      }
      first_.push_back(static_cast<std::uint32_t>(producers_.size()));
    }
  }
  std::span<const std::uint32_t> of(std::uint32_t step) const {
    return {producers_.data() + first_[step], first_[step + 1] - first_[step]};
  }

 private:
  std::vector<std::uint32_t> first_;
  std::vector<std::uint32_t> producers_;
};

}  // namespace dagprop
