// The node arena seen as a Boost.Graph: vertices are node ids, and each node has an out-edge to
// each of its inputs ("depends on"). No copy of the graph is made; Boost's algorithms walk the
// arena's flat arrays directly.
#pragma once

#include <cstdint>
#include <utility>

#include <boost/graph/graph_traits.hpp>
#include <boost/iterator/counting_iterator.hpp>
#include <boost/iterator/iterator_facade.hpp>
#include <boost/property_map/property_map.hpp>

#include <dagprop/graph.hpp>

namespace dagprop {

// A dependency edge: input `slot` of node `consumer`.
struct DependencyEdge {
  NodeId consumer = kNoNode;
  std::uint32_t slot = 0;
  friend bool operator==(const DependencyEdge&, const DependencyEdge&) = default;
};

class DependencyEdgeIterator
    : public boost::iterator_facade<DependencyEdgeIterator, DependencyEdge,
                                    boost::random_access_traversal_tag, DependencyEdge> {
 public:
  DependencyEdgeIterator() = default;
  DependencyEdgeIterator(NodeId consumer, std::uint32_t slot) : edge_{consumer, slot} {}

 private:
  friend class boost::iterator_core_access;
  DependencyEdge dereference() const { return edge_; }
  bool equal(const DependencyEdgeIterator& other) const { return edge_ == other.edge_; }
  void increment() { ++edge_.slot; }
  void decrement() { --edge_.slot; }
  void advance(std::ptrdiff_t n) { edge_.slot = static_cast<std::uint32_t>(edge_.slot + n); }
  std::ptrdiff_t distance_to(const DependencyEdgeIterator& other) const {
    return static_cast<std::ptrdiff_t>(other.edge_.slot) - static_cast<std::ptrdiff_t>(edge_.slot);
  }
  DependencyEdge edge_;
};

}  // namespace dagprop

namespace boost {

template <>
struct graph_traits<dagprop::Graph> {
  using vertex_descriptor = dagprop::NodeId;
  using edge_descriptor = dagprop::DependencyEdge;
  using directed_category = directed_tag;
  using edge_parallel_category = allow_parallel_edge_tag;
  struct traversal_category : incidence_graph_tag, vertex_list_graph_tag {};
  using out_edge_iterator = dagprop::DependencyEdgeIterator;
  using vertex_iterator = counting_iterator<dagprop::NodeId>;
  using degree_size_type = std::uint32_t;
  using vertices_size_type = std::uint32_t;
  using edges_size_type = std::uint64_t;
  using in_edge_iterator = void;
  using edge_iterator = void;
  using adjacency_iterator = void;
  static vertex_descriptor null_vertex() { return dagprop::kNoNode; }
};

}  // namespace boost

namespace dagprop {

inline std::pair<DependencyEdgeIterator, DependencyEdgeIterator> out_edges(NodeId v,
                                                                           const Graph& g) {
  return {DependencyEdgeIterator(v, 0), DependencyEdgeIterator(v, g.node(v).num_inputs)};
}
inline std::uint32_t out_degree(NodeId v, const Graph& g) {
  return g.node(v).num_inputs;
}
inline NodeId source(const DependencyEdge& e, const Graph&) {
  return e.consumer;
}
inline NodeId target(const DependencyEdge& e, const Graph& g) {
  return g.inputs_of(e.consumer)[e.slot];
}
inline std::pair<boost::counting_iterator<NodeId>, boost::counting_iterator<NodeId>> vertices(
    const Graph& g) {
  return {boost::counting_iterator<NodeId>(0),
          boost::counting_iterator<NodeId>(static_cast<NodeId>(g.size()))};
}
inline std::uint32_t num_vertices(const Graph& g) {
  return static_cast<std::uint32_t>(g.size());
}

// Node ids are dense, so they index property arrays directly.
using NodeIndexMap = boost::typed_identity_property_map<NodeId>;

}  // namespace dagprop
