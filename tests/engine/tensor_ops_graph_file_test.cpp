// Graph files keep the tensor ops: concat's any number of inputs, slice ranges and dropout's seed
// in attrs.ints, indices as constants; the loaded graph runs to the same bits.
#include <gtest/gtest.h>

#include <dagprop/dagprop.hpp>
#include <dagprop/graph_io.hpp>

namespace dagprop {
namespace {

TEST(TensorOpsGraphFile, RoundTripRunsToIdenticalBits) {
  Graph original;
  const Expr x = original.parameter("x", Tensor::from({1, -2, 3, -4, 5, -6}, Shape{2, 3}));
  const Expr joined = concat({x, x * 2.0, slice(x, 1, 0, 3, 2)}, 1);
  const Expr picked = index_select(joined, 1, original.constant(Tensor::from({7, 0, 7}, Shape{3})));
  // A seed above 2^63 is stored as a negative integer and comes back with the same bits.
  const Expr dropped = dropout(picked, original.constant(4.0), 0.5, 0xF00DF00DF00DF00DULL);
  const Expr loss = original.set_name(sum(max(maximum(dropped, picked * 0.5), 1)), "loss");
  original.backward(loss);

  LoadedGraph loaded = read_graph(write_graph(original));
  Graph& g = *loaded.graph;
  const Expr loss_copy = g.find("loss");
  g.backward(loss_copy);
  EXPECT_TRUE(bitwise_equal(loss_copy.value(), loss.value()));
  EXPECT_TRUE(bitwise_equal(g.find("x").grad(), x.grad()));
}

}  // namespace
}  // namespace dagprop
