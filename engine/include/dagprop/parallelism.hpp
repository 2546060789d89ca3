// How much parallelism a graph offers: total work, span (the critical path) and their ratio, from
// the per-node cost estimate that the scheduler also uses to cut plans into tasks.
#pragma once

#include <span>
#include <string>
#include <vector>

#include <dagprop/export.hpp>
#include <dagprop/expr.hpp>
#include <dagprop/node.hpp>

DAGPROP_API_BEGIN
namespace dagprop {

class Graph;
struct KernelArg;
struct OpDef;

// What one unit of OpDef::cost_per_element takes per element, in nanoseconds of one core of the
// reference machine (tanh, cost 8: 0.3 ns per float; add, cost 1: 0.04 to 0.09 ns).
inline constexpr double kNanosecondsPerCostUnit = 1.0 / 25;

// Estimated work of computing a node, in nanoseconds of one core: the op's work rule where it has
// one (matmul: m * n * k multiply-adds), else numel * cost_per_element * kNanosecondsPerCostUnit,
// where numel is that of the largest operand, output or input, so that reductions count what they
// read. Leaves cost 0: their values are stored or fed, never computed.
double estimated_work(const Graph& graph, NodeId node);
// The same estimate for a compiled step, from its operands as its kernel sees them (inputs and
// output, Plan::args()).
double estimated_work(const OpDef& op, std::span<const KernelArg> operands);

struct ParallelismReport {
  std::size_t num_nodes = 0;  // op nodes the outputs need (leaves are not counted)
  double work = 0;            // sum of estimated_work over those nodes
  double span = 0;            // the heaviest dependency path, by the same weights
  // work / span: the speed-up an ideal scheduler could reach with unlimited threads (1 when there
  // is no work).
  double parallelism = 1;
  std::vector<NodeId> critical_path;  // the nodes of that path, first computed first

  // A few lines for people: the figures and the critical path's first and last nodes.
  std::string to_string(const Graph& graph) const;
};

// Work and span of computing `outputs`. One pass over the topological order from Boost.Graph's
// depth-first search: no recursion, so ten-million-node chains are fine.
ParallelismReport analyze_parallelism(const Graph& graph, const std::vector<Expr>& outputs);

}  // namespace dagprop
DAGPROP_API_END
