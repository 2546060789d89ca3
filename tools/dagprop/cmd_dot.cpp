// `dagprop dot FILE`: draws a saved graph, with the values and gradients the file carries. DOT goes
// to standard output unless -o names a picture file (.svg, .png, .pdf or .dot).
#include <cerrno>
#include <cstdio>
#include <cstring>
#include <filesystem>
#include <memory>
#include <string>
#include <vector>

#include <dagprop/dot.hpp>
#include <dagprop/error.hpp>
#include <dagprop/graph_io.hpp>

#include "commands.hpp"
#include "model_file.hpp"
#include "options.hpp"

namespace dagprop::cli {
namespace {

struct DotSettings {
  std::string file, output, focus, rankdir = "auto";
  bool gradient_nodes = false, no_legend = false;
  std::vector<std::string> collapse, inputs, dims;
  std::size_t top_k = 0, heatmaps = 0;
};

// "#17" is node 17; anything else is a full node name ("layer1/W").
NodeId resolve_node(Graph& graph, const std::string& text) {
  if (text.size() > 1 && text[0] == '#') {
    std::size_t used = 0;
    unsigned long long id = 0;
    try {
      id = std::stoull(text.substr(1), &used);
    } catch (const std::exception&) {
      used = 0;
    }
    if (used != text.size() - 1 || id >= graph.size()) {
      throw Error("--focus " + text + ": the graph has nodes #0 to #" +
                  std::to_string(graph.size() - 1) + "; give '#<id>' or a node's full name");
    }
    return static_cast<NodeId>(id);
  }
  return graph.find(text).id();
}

// A --collapse name must be a scope of the graph (a whole prefix of some node's scope path, so
// "layer1" matches "layer1/W" but not "layer10/W"); a misspelled one would be silently ignored.
void check_collapse_names(const Graph& graph, const std::vector<std::string>& names) {
  for (const std::string& name : names) {
    bool found = false;
    for (NodeId id = 0; id < graph.size() && !found; ++id) {
      const std::string_view scope = graph.scope_of(id);
      found = name == "*" ? !scope.empty()
                          : scope.starts_with(name) &&
                                (scope.size() == name.size() || scope[name.size()] == '/');
    }
    if (!found) {
      std::string scopes;
      for (NodeId id = 0; id < graph.size(); ++id) {
        const std::string_view scope = graph.scope_of(id);
        const std::string top(scope.substr(0, scope.find('/')));
        if (!top.empty() && scopes.find("'" + top + "'") == std::string::npos)
          scopes += (scopes.empty() ? "'" : ", '") + top + "'";
      }
      throw Error("--collapse '" + name + "' matches no scope of the graph; " +
                  (scopes.empty() ? std::string("it has no scopes")
                                  : "its top-level scopes are " + scopes) +
                  " ('*' collapses them all)");
    }
  }
}

// Opening the picture file before the layout work: a folder that is missing or not writable is
// reported with the path and the system's reason.
void check_writable(const std::string& path) {
  const bool existed = std::filesystem::exists(path);
  std::FILE* file = std::fopen(path.c_str(), "ab");
  if (file == nullptr) {
    throw Error("cannot write the picture '" + path + "': " + std::strerror(errno) +
                "; check that its folder exists and is writable, or choose another -o");
  }
  std::fclose(file);
  if (!existed) std::filesystem::remove(path);
}

void draw(const DotSettings& settings) {
  ModelFile model = load_model_file(settings.file, settings.dims);
  if (!settings.inputs.empty()) run_with_inputs(model, settings.inputs);
  LoadedGraph& loaded = model.loaded;
  DotOptions options;
  // An ONNX model's values are the graph's own, from the run above.
  options.snapshot = model.onnx ? nullptr : &loaded.snapshot;
  options.include_gradient_nodes = settings.gradient_nodes;
  options.collapse = settings.collapse;
  options.top_k = settings.top_k;
  options.heatmaps = settings.heatmaps;
  options.rankdir = settings.rankdir;
  options.legend = !settings.no_legend;
  options.title = settings.file;
  check_collapse_names(*loaded.graph, settings.collapse);
  if (!settings.focus.empty()) options.focus = resolve_node(*loaded.graph, settings.focus);
  if (settings.output.empty()) {
    const std::string dot = to_dot(*loaded.graph, options);
    if (std::fwrite(dot.data(), 1, dot.size(), stdout) != dot.size() || std::fflush(stdout) != 0) {
      throw Error("cannot write the DOT text to standard output: " +
                  std::string(std::strerror(errno)));
    }
    return;
  }
  check_writable(settings.output);
  render(*loaded.graph, settings.output, options);
  std::printf("dagprop: drew %s into %s\n", settings.file.c_str(), settings.output.c_str());
}

}  // namespace

void add_dot_command(CLI::App& app) {
  auto settings = std::make_shared<DotSettings>();
  auto* dot = app.add_subcommand(
      "dot", "Draw a saved graph with its values and gradients (DOT, SVG, PNG or PDF)");
  dot->add_option("FILE", settings->file,
                  "Graph file written by dagprop::save_graph, or an ONNX model (.onnx)")
      ->required();
  dot->add_option(
      "--input", settings->inputs,
      "NAME=FILE.npy (or FILE.npy for a model of one input): run an ONNX model on these "
      "inputs, forward and backward (the gradient of the sum of its first output), and "
      "draw the values and gradients");
  dot->add_option("--dim", settings->dims,
                  "NAME=N: the value of a symbolic dimension of an ONNX model's inputs");
  dot->add_option("-o,--output", settings->output,
                  "Picture file; its extension picks the format: .svg, .png, .pdf or .dot "
                  "(default: DOT on standard output)");
  dot->add_flag("--grad", settings->gradient_nodes,
                "Also draw the gradient nodes built by grad() and backward() (blue, dashed)");
  dot->add_option("--collapse", settings->collapse,
                  "Draw these scopes as one box each; '*' collapses every top-level scope")
      ->expected(1, -1);
  dot->add_option("--focus", settings->focus,
                  "Draw only this node and what it depends on: a full name (layer1/W) or #id");
  dot->add_option("--top-k", settings->top_k,
                  "Draw only the K nodes with the largest gradients (0: all)")
      ->check(whole_number_from_to(0, std::int64_t{1} << 40));
  dot->add_option("--heatmaps", settings->heatmaps,
                  "Draw feature maps and kernels (rank-4 values) as heatmaps inside their boxes, "
                  "up to K maps a node, their gradients below (0: none, the default)")
      ->check(whole_number_from_to(0, 64));
  dot->add_option("--rankdir", settings->rankdir,
                  "Direction of data flow: auto (the one that fits a page best, the default), LR "
                  "(left to right), TB (top to bottom), RL or BT")
      ->check(CLI::IsMember({"auto", "LR", "TB", "RL", "BT"}));
  dot->add_flag("--no-legend", settings->no_legend, "Leave out the colour scale and style legend");
  dot->callback([settings] { draw(*settings); });
}

}  // namespace dagprop::cli
