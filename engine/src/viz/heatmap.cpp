// Heatmaps as HTML-like tables: one cell per (block of) element(s), coloured on a diverging scale.
#include "heatmap.hpp"

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <vector>

#include "tensor_summary.hpp"

namespace dagprop::picture {
namespace {

// The side of a map drawn, in points, whatever its cell count: maps of different sizes line up.
constexpr double kMapPoints = 40.0;

// ColorBrewer's RdBu ends (colour-blind safe): blue below 0, white at 0, red above.
std::string diverging(double t) {  // t in [-1, 1]
  if (std::isnan(t)) return "#000000";
  t = std::clamp(t, -1.0, 1.0);
  const double end[2][3] = {{0x21, 0x66, 0xAC}, {0xB2, 0x18, 0x2B}};
  const double* to = end[t > 0 ? 1 : 0];
  const double f = std::abs(t);
  unsigned channels[3];
  for (int c = 0; c < 3; ++c)
    channels[c] = static_cast<unsigned>(std::lround(255.0 + (to[c] - 255.0) * f));
  char text[8];
  std::snprintf(text, sizeof text, "#%02x%02x%02x", channels[0], channels[1], channels[2]);
  return text;
}

// One map, averaged over blocks of block x block elements: rows of cell values.
struct Map {
  std::int64_t rows = 0, columns = 0;
  std::vector<double> cells;  // row-major
};

Map read_map(const TensorView& tensor, std::int64_t map_index, std::int64_t side) {
  const Shape& shape = tensor.shape();
  const std::int64_t height = shape[2], width = shape[3];
  const std::int64_t block = std::max<std::int64_t>(
      1, (std::max(height, width) + side - 1) / std::max<std::int64_t>(side, 1));
  Map map;
  map.rows = (height + block - 1) / block;
  map.columns = (width + block - 1) / block;
  map.cells.assign(static_cast<std::size_t>(map.rows * map.columns), 0.0);
  std::vector<std::int64_t> counts(map.cells.size(), 0);
  const std::int64_t first = map_index * height * width;
  for (std::int64_t i = 0; i < height; ++i) {
    for (std::int64_t j = 0; j < width; ++j) {
      const auto cell = static_cast<std::size_t>(i / block * map.columns + j / block);
      map.cells[cell] += tensor.at(first + i * width + j);
      ++counts[cell];
    }
  }
  for (std::size_t c = 0; c < map.cells.size(); ++c) map.cells[c] /= static_cast<double>(counts[c]);
  return map;
}

// The flat map indices a box shows: channels of example 0, or input channel 0 of each kernel.
std::vector<std::int64_t> map_indices(const Shape& shape, MapLayout layout, std::int64_t maps) {
  std::vector<std::int64_t> indices;
  const std::int64_t count = std::min(maps, layout == MapLayout::activation ? shape[1] : shape[0]);
  for (std::int64_t k = 0; k < count; ++k)
    indices.push_back(layout == MapLayout::activation ? k : k * shape[1]);
  return indices;
}

std::string map_html(const Map& map, double scale) {
  const double cell = std::max(2.0, std::floor(kMapPoints / std::max(map.rows, map.columns)));
  char size[48];
  std::snprintf(size, sizeof size, " width=\"%.0f\" height=\"%.0f\" fixedsize=\"true\"", cell,
                cell);
  // A table is stretched to fill a wider cell (the label's text sets the width) unless its own
  // size is fixed: the cells' size plus the 1-point border on each side.
  char table[160];
  std::snprintf(table, sizeof table,
                "<table fixedsize=\"true\" width=\"%.0f\" height=\"%.0f\" border=\"1\" "
                "cellborder=\"0\" cellspacing=\"0\" cellpadding=\"0\">",
                cell * static_cast<double>(map.columns) + 2,
                cell * static_cast<double>(map.rows) + 2);
  std::string html = table;
  for (std::int64_t r = 0; r < map.rows; ++r) {
    html += "<tr>";
    for (std::int64_t c = 0; c < map.columns; ++c) {
      const double x = map.cells[static_cast<std::size_t>(r * map.columns + c)];
      html += "<td" + std::string(size) + " bgcolor=\"" + diverging(scale > 0 ? x / scale : 0.0) +
              "\"></td>";
    }
    html += "</tr>";
  }
  return html + "</table>";
}

// A row: its caption (what it shows and the |x| that the darkest colour stands for), then maps.
std::string row_html(const char* what, const TensorView& tensor,
                     const std::vector<std::int64_t>& indices, std::int64_t side) {
  std::vector<Map> maps;
  double scale = 0;
  for (const std::int64_t index : indices) {
    maps.push_back(read_map(tensor, index, side));
    for (const double x : maps.back().cells)
      if (std::isfinite(x)) scale = std::max(scale, std::abs(x));
  }
  std::string html = "<tr><td align=\"right\"><font point-size=\"7\">" + std::string(what) +
                     "<br/>|x| &lt;= " + format_number(scale) + "</font></td>";
  for (const Map& map : maps) html += "<td>" + map_html(map, scale) + "</td>";
  return html + "</tr>";
}

}  // namespace

bool has_maps(const Shape& shape) {
  return shape.rank() == 4 && shape[0] > 0 && shape[1] > 0 && shape[2] >= 2 && shape[3] >= 2;
}

std::string heatmap_table(const TensorView& value, const std::optional<TensorView>& gradient,
                          MapLayout layout, const HeatmapSettings& settings) {
  const std::vector<std::int64_t> indices =
      map_indices(value.shape(), layout, std::max<std::int64_t>(settings.maps, 1));
  std::string html = "<table border=\"0\" cellspacing=\"2\" cellpadding=\"0\">";
  html += row_html("value", value, indices, settings.side);
  if (gradient && gradient->shape() == value.shape())
    html += row_html("grad", *gradient, indices, settings.side);
  return html + "</table>";
}

std::string heatmap_label(const std::string& html_text, const std::string& heatmaps) {
  return "<table border=\"0\" cellspacing=\"0\" cellpadding=\"1\"><tr><td>" + html_text +
         "</td></tr><tr><td>" + heatmaps + "</td></tr></table>";
}

}  // namespace dagprop::picture
