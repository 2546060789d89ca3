// Heatmaps inside a picture's boxes: which nodes get them, how many cells, what colour a value
// gets, block averaging of large maps, and that Graphviz renders the HTML labels.
#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>
#include <limits>
#include <string>
#include <vector>

#include <dagprop/dagprop.hpp>
#include <dagprop/dot.hpp>
#include <dagprop/snapshot.hpp>

#include "viz/dot_picture.hpp"

namespace dagprop {
namespace {

constexpr const char* kFullRed = "bgcolor=\"#b2182b\"";
constexpr const char* kWhite = "bgcolor=\"#ffffff\"";
constexpr const char* kBlack = "bgcolor=\"#000000\"";

std::size_t count(const std::string& text, const std::string& what) {
  std::size_t n = 0;
  for (std::size_t at = text.find(what); at != std::string::npos; at = text.find(what, at + 1)) ++n;
  return n;
}

const picture::Box& box_of(const picture::Picture& picture, Expr e) {
  for (const picture::Box& box : picture.boxes)
    if (box.node == e.id()) return box;
  throw Error("no box for node #" + std::to_string(e.id()));
}

// x [1, 1, 6, 6] -> conv2d with w [2, 1, 3, 3] (padding 1) -> y [1, 2, 6, 6] -> loss.
struct SmallConv {
  Graph g;
  Expr x, w, y, loss;
  Tensor image = Tensor::zeros(Shape{1, 1, 6, 6});
  Snapshot snapshot;  // every node's value and gradient, as `dagprop dot` reads them from a file
  SmallConv() {
    for (std::int64_t i = 0; i < 36; ++i)
      image.data<double>()[i] = 0.1 * static_cast<double>(i % 7);
    std::vector<double> kernels(18);
    for (std::size_t i = 0; i < kernels.size(); ++i)
      kernels[i] = 0.05 * static_cast<double>(i) - 0.4;
    x = g.input("x", Shape{1, 1, 6, 6});
    w = g.parameter("w", Tensor::from(kernels, Shape{2, 1, 3, 3}));
    y = conv2d(x, w, {.padding = {1, 1}});
    loss = sum(y * y);
    snapshot = trace_gradients(loss, {{x, image}});
  }
  DotOptions options(std::size_t heatmaps) const {
    DotOptions options;
    options.heatmaps = heatmaps;
    options.snapshot = &snapshot;
    return options;
  }
};

TEST(DotHeatmap, FeatureMapsAndKernelsShowOneCellPerElementWithTheirGradientsBelow) {
  SmallConv c;
  const DotOptions options = c.options(4);
  const picture::Picture picture = picture::build(c.g, options);
  // y: both channels of its example, values and gradients: 2 x 36 cells a row.
  const std::string& y = box_of(picture, c.y).html_label;
  EXPECT_EQ(count(y, "bgcolor="), 2u * 2u * 36u);
  EXPECT_NE(y.find("grad"), std::string::npos);
  // w: each of the 2 output kernels (input channel 0): 2 x 9 cells, and its gradient.
  EXPECT_EQ(count(box_of(picture, c.w).html_label, "bgcolor="), 2u * 2u * 9u);
  // The label text is still there, as HTML.
  EXPECT_NE(y.find("[1, 2, 6, 6]"), std::string::npos) << y;
  // Nodes that hold no maps keep their plain label.
  EXPECT_TRUE(box_of(picture, c.loss).html_label.empty());
}

TEST(DotHeatmap, AtMostTheAskedNumberOfMapsAndNoGradientRowWhenGradientsAreHidden) {
  SmallConv c;
  DotOptions options = c.options(1);
  options.show_gradients = false;
  const picture::Picture picture = picture::build(c.g, options);
  const std::string& y = box_of(picture, c.y).html_label;
  EXPECT_EQ(count(y, "bgcolor="), 36u);
  EXPECT_EQ(y.find(">grad<"), std::string::npos);
}

TEST(DotHeatmap, ColoursAreSymmetricAboutZeroOnTheLargestMagnitude) {
  Graph g;
  Tensor values = Tensor::zeros(Shape{1, 1, 2, 2});
  values.data<double>()[0] = 2.0;   // the largest |x|: full red
  values.data<double>()[1] = -2.0;  // as large, negative: full blue
  values.data<double>()[2] = 0.0;   // white
  values.data<double>()[3] = std::numeric_limits<double>::quiet_NaN();  // black
  const Expr p = g.parameter("p", values);
  DotOptions options;
  options.heatmaps = 1;
  const picture::Picture picture = picture::build(g, options);
  const std::string& html = box_of(picture, p).html_label;
  EXPECT_EQ(count(html, kFullRed), 1u) << html;
  EXPECT_EQ(count(html, "bgcolor=\"#2166ac\""), 1u) << html;
  EXPECT_EQ(count(html, kWhite), 1u) << html;
  EXPECT_EQ(count(html, kBlack), 1u) << html;
  EXPECT_NE(html.find("|x| &lt;= 2"), std::string::npos) << html;
}

TEST(DotHeatmap, LargeMapsAreAveragedOverBlocks) {
  Graph g;
  // 28x28 at the default side of 16: blocks of 2x2, 14x14 cells. The top-left block averages to
  // 0 (4 and -4 in it); the block beside it is all 1 (the largest average: full red).
  Tensor image = Tensor::zeros(Shape{1, 1, 28, 28});
  double* v = image.data<double>();
  v[0] = 4.0, v[1] = -4.0;
  v[2] = v[3] = v[28 + 2] = v[28 + 3] = 1.0;
  const Expr p = g.parameter("p", image);
  DotOptions options;
  options.heatmaps = 1;
  const picture::Picture picture = picture::build(g, options);
  const std::string& html = box_of(picture, p).html_label;
  EXPECT_EQ(count(html, "bgcolor="), 14u * 14u);
  EXPECT_EQ(count(html, kFullRed), 1u);
  const std::size_t first_cell = html.find("bgcolor=");
  EXPECT_EQ(html.compare(first_cell, std::string(kWhite).size(), kWhite), 0);
  EXPECT_NE(html.find("|x| &lt;= 1<"), std::string::npos) << "the scale is the block average";
}

TEST(DotHeatmap, RendersAsSvgWithTheColouredCells) {
  SmallConv c;
  const DotOptions options = c.options(2);
  const std::filesystem::path file =
      std::filesystem::temp_directory_path() /
      ("dagprop_heatmap_" + std::to_string(::testing::UnitTest::GetInstance()->random_seed()) +
       ".svg");
  render(c.g, file.string(), options);
  std::ifstream in(file);
  const std::string svg((std::istreambuf_iterator<char>(in)), {});
  std::filesystem::remove(file);
  EXPECT_NE(svg.find("<svg"), std::string::npos);
  // Every value and gradient cell of y and w becomes a filled polygon.
  EXPECT_GE(count(svg, "<polygon fill=\"#"), 2u * 2u * 36u + 2u * 2u * 9u);
}

TEST(DotHeatmap, ZeroSideIsRefusedWithTheFix) {
  SmallConv c;
  DotOptions options = c.options(1);
  options.heatmap_side = 0;
  try {
    (void)to_dot(c.g, options);
    FAIL() << "heatmap_side 0 was accepted";
  } catch (const Error& e) {
    EXPECT_NE(std::string(e.what()).find("heatmap_side is 0; use at least 1"), std::string::npos)
        << e.what();
  }
}

}  // namespace
}  // namespace dagprop
