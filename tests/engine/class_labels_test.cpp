// Inputs of class labels (Graph::labels): fed integers or whole numbers, checked when fed, their
// class count checked where a loss is built, and kept by graph files.
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <cstdint>
#include <limits>
#include <vector>

#include <dagprop/dagprop.hpp>

#include "engine/test_graphs.hpp"

namespace dagprop {
namespace {

using ::testing::HasSubstr;

struct Classifier {
  Graph g;
  Expr logits =
      g.parameter("logits", Tensor::from(std::vector<double>{2, -1, 0.5, 0, 1, 3}, Shape{2, 3}));
  Expr labels = g.labels("labels", 2, 3, DType::f64);
  Expr loss = g.set_name(cross_entropy(logits, labels), "loss");
};

TEST(ClassLabels, IntegerIndicesAndWholeNumbersGiveTheSameLoss) {
  Classifier c;
  const std::vector<std::int64_t> indices{0, 2};
  const double from_integers = c.g.run(c.loss, {Feed::classes(c.labels, indices)}).item();
  const double from_numbers =
      c.g.run(c.loss, {{c.labels, Tensor::from(std::vector<double>{0, 2}, Shape{2})}}).item();
  EXPECT_EQ(from_integers, from_numbers);
  EXPECT_EQ(c.g.num_classes_of(c.labels.id()), 3);
}

TEST(ClassLabels, AFeedThatIsNotAClassIndexIsRejectedNamingTheRowAndValue) {
  Classifier c;
  EXPECT_THAT(testing::error_message([&] {
                c.g.run(c.loss, {{c.labels, Tensor::from(std::vector<double>{0, 2.5}, Shape{2})}});
              }),
              HasSubstr("input 'labels' (op input, shape [2]) was fed 2.5 in row 1; class labels "
                        "are whole numbers in 0..2"));
  EXPECT_THAT(testing::error_message([&] {
                c.g.run(c.loss, {{c.labels, Tensor::from(std::vector<double>{3, 0}, Shape{2})}});
              }),
              HasSubstr("was fed 3 in row 0"));
  const double nan = std::numeric_limits<double>::quiet_NaN();
  EXPECT_THAT(testing::error_message([&] {
                c.g.run(c.loss, {{c.labels, Tensor::from(std::vector<double>{0, nan}, Shape{2})}});
              }),
              HasSubstr("was fed nan in row 1"));
  const std::vector<std::int64_t> negative{0, -1}, short_feed{1};
  EXPECT_THAT(testing::error_message([&] { c.g.run(c.loss, {Feed::classes(c.labels, negative)}); }),
              HasSubstr("was fed -1 in row 1"));
  EXPECT_THAT(
      testing::error_message([&] { c.g.run(c.loss, {Feed::classes(c.labels, short_feed)}); }),
      HasSubstr("was fed 1 class indices; it takes 2, one per row"));
}

TEST(ClassLabels, ALossOfAnotherClassCountFailsWhereItIsBuilt) {
  Classifier c;
  const Expr four = c.g.parameter("four", Tensor::zeros(Shape{2, 4}));
  EXPECT_THAT(testing::error_message([&] { (void)cross_entropy(four, c.labels); }),
              HasSubstr("cross_entropy of 4 classes: its labels 'labels' (op input, shape [2]) "
                        "were built for 3 classes"));
  EXPECT_THAT(testing::error_message([&] { (void)one_hot(c.labels, 5); }),
              HasSubstr("one_hot of 5 classes"));
  EXPECT_THAT(testing::error_message([&] { (void)c.g.labels("none", 2, 0); }),
              HasSubstr("1 to 16777216 classes"));
}

TEST(ClassLabels, GraphFilesKeepTheClassCount) {
  Classifier c;
  const std::string text = write_graph(c.g);
  const LoadedGraph loaded = read_graph(text);
  const Expr labels = loaded.graph->find("labels");
  EXPECT_EQ(loaded.graph->num_classes_of(labels.id()), 3);
  EXPECT_THAT(testing::error_message([&] {
                loaded.graph->run(loaded.graph->find("loss"),
                                  {{labels, Tensor::from(std::vector<double>{7, 0}, Shape{2})}});
              }),
              HasSubstr("was fed 7 in row 0; class labels are whole numbers in 0..2"));
  std::string bad = text;
  const std::size_t at = bad.find("\"classes\":3");
  ASSERT_NE(at, std::string::npos) << text;
  bad.replace(at, 11, "\"classes\":0");
  EXPECT_THAT(testing::error_message([&] { (void)read_graph(bad); }), HasSubstr("classes"));
}

}  // namespace
}  // namespace dagprop
