// docs/file-format.md: save a graph with its latest values and gradients, load it back, run it.
// Usage: example_graph_file OUTPUT_DIR (writes model.json there and prints what it loaded)
#include <cstdio>
#include <string>

#include <dagprop/dagprop.hpp>
#include <dagprop/graph_io.hpp>
#include <dagprop/snapshot.hpp>

int main(int argc, char** argv) {
  const std::string out = argc > 1 ? argv[1] : ".";
  dagprop::Graph graph;
  auto x1 = graph.constant(0.5), x2 = graph.constant(0.6);
  auto w1 = graph.parameter("w1", 0.1), w2 = graph.parameter("w2", 0.2);
  auto b = graph.parameter("b", 0.3);
  auto a = graph.set_name(relu(w1 * x1 + w2 * x2 + b), "a");
  const dagprop::Snapshot traced = dagprop::trace_gradients(a);

  dagprop::SaveOptions save;
  save.values = true;       // latest values of inputs and ops (the last run)
  save.gradients = true;    // stored gradients, and those of a Snapshot
  save.snapshot = &traced;  // e.g. dagprop::trace_gradients(loss, feeds)
  dagprop::save_graph(graph, out + "/model.json", save);

  dagprop::LoadedGraph loaded = dagprop::load_graph(out + "/model.json");
  dagprop::Graph& g = *loaded.graph;  // node ids are those of the file
  // loaded.snapshot holds the values and gradients the file carried (pass it to to_dot).
  const dagprop::Expr loaded_a = g.find("a");
  std::printf("a = %g, recomputed %g, d a / d w1 = %g\n",
              loaded.snapshot.value(loaded_a.id())->item(), g.run(loaded_a).item(),
              loaded.snapshot.gradient(g.find("w1").id())->item());
  return 0;
}
