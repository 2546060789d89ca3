// Reads DOT back with Graphviz's own parser (agmemread), so tests check that every picture they
// produce is valid DOT and count what it holds.
#pragma once

#include <map>
#include <string>
#include <utility>
#include <vector>

namespace dagprop::testing {

struct ParsedDot {
  bool ok = false;
  int nodes = 0;
  int edges = 0;
  int clusters = 0;         // subgraphs named cluster*, at any depth
  int deepest_cluster = 0;  // nesting depth of clusters (1: top-level clusters only)
  std::map<std::string, std::map<std::string, std::string>> node_attributes;  // by node name
  std::vector<std::pair<std::string, std::string>> edge_list;                 // (tail, head)
  std::vector<std::map<std::string, std::string>> edge_attributes;            // as edge_list
  std::map<std::string, std::string> graph_attributes;  // rankdir, label (the legend)...
  std::string attribute(const std::string& node, const std::string& name) const;
};

ParsedDot parse_dot(const std::string& dot);

}  // namespace dagprop::testing
