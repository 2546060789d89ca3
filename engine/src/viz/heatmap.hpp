// Feature maps and kernels as small heatmaps inside a picture's boxes: Graphviz HTML-like tables
// whose cells are coloured by value, so they render the same in DOT, SVG, PNG and PDF with no image
// files beside the picture. Private to engine/src/viz.
#pragma once

#include <cstdint>
#include <optional>
#include <string>

#include <dagprop/tensor.hpp>

namespace dagprop::picture {

// Which maps of a rank-4 tensor a box shows: an activation [N, C, H, W] shows the channels of its
// first example, a kernel [out, in, kh, kw] the first input channel of each output kernel.
enum class MapLayout { activation, kernel };

struct HeatmapSettings {
  std::int64_t maps = 4;   // at most this many maps per tensor
  std::int64_t side = 16;  // maps wider or taller than this are averaged over blocks
};

// Whether a tensor of this shape has maps to show (rank 4, at least 2x2 a map).
bool has_maps(const Shape& shape);

// The heatmaps of `value` and, beside them, of `gradient` (when given and of the same shape) as
// one table fragment: a row of value maps over a row of gradient maps, each row on a blue-white-red
// scale symmetric about 0 and labelled with the largest |x| it shows. NaN cells are black.
std::string heatmap_table(const TensorView& value, const std::optional<TensorView>& gradient,
                          MapLayout layout, const HeatmapSettings& settings);

// A box's label as an HTML-like table: the text (already escape_html'd) over the heatmaps.
std::string heatmap_label(const std::string& html_text, const std::string& heatmaps);

}  // namespace dagprop::picture
