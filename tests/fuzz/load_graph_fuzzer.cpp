// libFuzzer target for the graph-file loader: any bytes must load or throw dagprop::Error, never
// crash, hang or allocate without bound. A graph that loads is also written back and drawn, which
// walks the loaded structure and the values the file carried.
#include <cstddef>
#include <cstdint>
#include <string_view>

#include <dagprop/dot.hpp>
#include <dagprop/error.hpp>
#include <dagprop/graph_io.hpp>

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  const std::string_view text(reinterpret_cast<const char*>(data), size);
  dagprop::LoadOptions options;
  options.max_elements = std::int64_t{1} << 20;  // keeps each run's memory small
  try {
    const dagprop::LoadedGraph loaded = dagprop::read_graph(text, options);
    (void)dagprop::write_graph(*loaded.graph);
    dagprop::DotOptions dot;
    dot.snapshot = &loaded.snapshot;
    (void)dagprop::to_dot(*loaded.graph, dot);
  } catch (const dagprop::Error&) {
    // A clear refusal is the expected outcome for most inputs.
  }
  return 0;
}
