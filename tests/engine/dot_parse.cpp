// Parsing DOT back with Graphviz for the tests.
#include "dot_parse.hpp"

#include <algorithm>
#include <string>

#include <graphviz/cgraph.h>

namespace dagprop::testing {
namespace {

void count_clusters(Agraph_t* root, ParsedDot& parsed) {
  std::vector<std::pair<Agraph_t*, int>> stack{{root, 1}};
  while (!stack.empty()) {
    const auto [graph, depth] = stack.back();
    stack.pop_back();
    for (Agraph_t* sub = agfstsubg(graph); sub != nullptr; sub = agnxtsubg(sub)) {
      if (std::string(agnameof(sub)).starts_with("cluster")) {
        ++parsed.clusters;
        parsed.deepest_cluster = std::max(parsed.deepest_cluster, depth);
      }
      stack.emplace_back(sub, depth + 1);
    }
  }
}

}  // namespace

std::string ParsedDot::attribute(const std::string& node, const std::string& name) const {
  const auto n = node_attributes.find(node);
  if (n == node_attributes.end()) return "<no node " + node + ">";
  const auto a = n->second.find(name);
  return a == n->second.end() ? "" : a->second;
}

ParsedDot parse_dot(const std::string& dot) {
  ParsedDot parsed;
  Agraph_t* graph = agmemread(dot.c_str());
  if (graph == nullptr) return parsed;
  parsed.ok = true;
  parsed.nodes = agnnodes(graph);
  // Invisible edges only guide the layout (dot.cpp's stack_clusters); a reader sees the others.
  parsed.edges = 0;
  count_clusters(graph, parsed);
  for (Agsym_t* sym = agnxtattr(graph, AGRAPH, nullptr); sym != nullptr;
       sym = agnxtattr(graph, AGRAPH, sym)) {
    parsed.graph_attributes[sym->name] = agxget(graph, sym);
  }
  for (Agnode_t* n = agfstnode(graph); n != nullptr; n = agnxtnode(graph, n)) {
    auto& attributes = parsed.node_attributes[agnameof(n)];
    for (Agsym_t* sym = agnxtattr(graph, AGNODE, nullptr); sym != nullptr;
         sym = agnxtattr(graph, AGNODE, sym)) {
      attributes[sym->name] = agxget(n, sym);
    }
    for (Agedge_t* e = agfstout(graph, n); e != nullptr; e = agnxtout(graph, e)) {
      const char* style = agget(e, const_cast<char*>("style"));
      if (style != nullptr && std::string(style) == "invis") continue;
      ++parsed.edges;
      parsed.edge_list.emplace_back(agnameof(agtail(e)), agnameof(aghead(e)));
      auto& edge = parsed.edge_attributes.emplace_back();
      for (Agsym_t* sym = agnxtattr(graph, AGEDGE, nullptr); sym != nullptr;
           sym = agnxtattr(graph, AGEDGE, sym)) {
        edge[sym->name] = agxget(e, sym);
      }
    }
  }
  agclose(graph);
  return parsed;
}

}  // namespace dagprop::testing
