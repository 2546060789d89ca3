// Benchmark: DOT export of a 100,000-node graph (to_dot: cgraph build and agwrite). Prints one line
// per figure: the median over 5 timed runs after one warm-up, with min and max.
// Run: build/tools/dagprop_bench_dot [nodes]
#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <ctime>
#include <string>
#include <vector>

#include <dagprop/dagprop.hpp>
#include <dagprop/dot.hpp>

namespace {

using dagprop::Expr;
using dagprop::Graph;

// W4's deep chain on 16 floats: x * 0.999 + 0.001 then tanh, repeated until `nodes` nodes exist.
// With `scopes` > 0 the links are spread over that many consecutive name scopes (clusters).
Expr build_chain(Graph& g, std::size_t nodes, std::size_t scopes) {
  const Expr x0 =
      g.parameter("x0", dagprop::Tensor::full(dagprop::Shape{16}, 0.5, dagprop::DType::f32));
  const Expr a =
      g.constant(dagprop::Tensor::full(dagprop::Shape{1}, 0.999, dagprop::DType::f32), "a");
  const Expr b =
      g.constant(dagprop::Tensor::full(dagprop::Shape{1}, 0.001, dagprop::DType::f32), "b");
  Expr x = x0;
  const std::size_t links = (nodes - g.size()) / 3;
  const std::size_t per_scope = scopes == 0 ? links : (links + scopes - 1) / scopes;
  for (std::size_t done = 0; done < links;) {
    std::unique_ptr<Graph::Scope> scope;
    if (scopes > 0)
      scope = std::make_unique<Graph::Scope>(g, "block" + std::to_string(done / per_scope));
    for (std::size_t i = 0; i < per_scope && done < links; ++i, ++done) x = tanh(x * a + b);
  }
  while (g.size() < nodes) x = tanh(x);  // exactly `nodes` nodes
  return x;
}

void time_to_dot(const char* what, const Graph& graph, const dagprop::DotOptions& options) {
  std::vector<double> ms, cpu_ms;
  std::size_t bytes = 0;
  for (int run = 0; run < 6; ++run) {
    const auto start = std::chrono::steady_clock::now();
    const std::clock_t cpu_start = std::clock();
    const std::string dot = dagprop::to_dot(graph, options);
    const std::clock_t cpu_stop = std::clock();
    const auto stop = std::chrono::steady_clock::now();
    bytes = dot.size();
    if (run == 0) continue;
    ms.push_back(std::chrono::duration<double, std::milli>(stop - start).count());
    cpu_ms.push_back(1000.0 * static_cast<double>(cpu_stop - cpu_start) / CLOCKS_PER_SEC);
  }
  std::sort(ms.begin(), ms.end());
  std::sort(cpu_ms.begin(), cpu_ms.end());
  // CPU time beside wall time: on a shared machine the difference is time spent waiting.
  std::printf(
      "to_dot %-44s %7zu nodes  median %7.1f ms (min %.1f, max %.1f), CPU %7.1f ms  %5.1f MB\n",
      what, graph.size(), ms[ms.size() / 2], ms.front(), ms.back(), cpu_ms[cpu_ms.size() / 2],
      static_cast<double>(bytes) / 1e6);
}

}  // namespace

int main(int argc, char** argv) {
  const std::size_t nodes = argc > 1 ? std::strtoull(argv[1], nullptr, 10) : 100'000;
  {
    Graph g;
    const Expr y = build_chain(g, nodes, 0);
    time_to_dot("chain, structure only", g, {});
    g.run(y);
    time_to_dot("chain, values of the last run", g, {});
  }
  for (const std::size_t scopes : {10, 100}) {
    Graph g;
    const Expr y = build_chain(g, nodes, scopes);
    g.run(y);
    time_to_dot(("chain in " + std::to_string(scopes) + " scopes (clusters), values").c_str(), g,
                {});
    dagprop::DotOptions collapsed;
    collapsed.collapse = {"*"};
    time_to_dot(("chain in " + std::to_string(scopes) + " scopes, all collapsed").c_str(), g,
                collapsed);
  }
  return 0;
}
