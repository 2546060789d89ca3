// The ten-million-node chain goes through a graph file and back: saving and loading are linear
// (the file is written in blocks and parsed as a stream, one node at a time) and nothing
// recurses, so the loaded chain runs to the value of the original.
#include <gtest/gtest.h>

#include <cmath>
#include <filesystem>
#include <string>

#include <unistd.h>

#include <dagprop/dagprop.hpp>
#include <dagprop/graph_io.hpp>

namespace dagprop {
namespace {

TEST(DeepChainFile, TenMillionNodeChainRoundTripsThroughAFile) {
  constexpr int kLinks = 5'000'000;  // two nodes per link: x * c, then tanh
  const auto path = std::filesystem::temp_directory_path() /
                    ("dagprop_chain_" + std::to_string(::getpid()) + ".json");
  std::size_t nodes = 0;
  {
    Graph g;
    const Expr x0 = g.parameter("x0", 0.3);
    const Expr c = g.constant(0.999);
    Expr x = x0;
    for (int i = 0; i < kLinks; ++i) x = tanh(x * c);
    (void)g.set_name(x, "end");
    nodes = g.size();
    save_graph(g, path.string());
  }  // the original is gone before the copy is loaded
  ASSERT_GE(nodes, 10'000'000u);
  const std::uintmax_t file_bytes = std::filesystem::file_size(path);
  LoadedGraph loaded = load_graph(path.string());
  std::filesystem::remove(path);
  Graph& g = *loaded.graph;
  ASSERT_EQ(g.size(), nodes);
  EXPECT_GT(file_bytes, nodes * 50);  // one line of JSON per node
  const Expr end = g.find("end");
  EXPECT_EQ(end.id(), nodes - 1);
  EXPECT_EQ(g.op_name_of(end.id()), "tanh");
  double expected = 0.3;
  for (int i = 0; i < kLinks; ++i) expected = std::tanh(expected * 0.999);
  EXPECT_NEAR(g.run(end).item(), expected, 1e-12);
}

}  // namespace
}  // namespace dagprop
