// The CSV loader: good files, label columns, text labels, and every kind of bad line with its line
// number.
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <sstream>
#include <string>

#include <dagprop/data/csv.hpp>
#include <dagprop/error.hpp>

#include "support/temp_dir.hpp"

namespace dagprop::data {
namespace {

using ::testing::HasSubstr;

Dataset parse(const std::string& text, const CsvOptions& options = {}) {
  std::istringstream in(text);
  return parse_csv(in, "test.csv", options);
}

std::string error_of(const std::string& text, const CsvOptions& options = {}) {
  try {
    parse(text, options);
  } catch (const Error& e) {
    return e.what();
  }
  return "no error";
}

TEST(CsvLoader, ReadsFeaturesAndTheLastColumnAsLabel) {
  const Dataset d = parse("x,y,label\n0.5, -1,1\n\n2e-1,3,0\r\n");
  EXPECT_EQ(d.features.shape(), (Shape{2, 2}));
  EXPECT_EQ(d.features.to_vector(), (std::vector<double>{0.5, -1, 0.2F, 3}));
  EXPECT_EQ(d.labels.to_vector(), (std::vector<double>{1, 0}));
  EXPECT_EQ(d.num_classes, 2);
  EXPECT_TRUE(d.class_names.empty());
}

TEST(CsvLoader, ChoosesTheLabelColumnByNameOrIndex) {
  const std::string text = "class,a,b\n2,1,2\n0,3,4\n";
  const Dataset by_name = parse(text, {.label_column = "class"});
  EXPECT_EQ(by_name.labels.to_vector(), (std::vector<double>{2, 0}));
  EXPECT_EQ(by_name.features.to_vector(), (std::vector<double>{1, 2, 3, 4}));
  EXPECT_EQ(by_name.num_classes, 3);
  const Dataset by_index = parse(text, {.label_column = "0"});
  EXPECT_EQ(by_index.labels.to_vector(), by_name.labels.to_vector());
}

TEST(CsvLoader, NumbersTextLabelsInSortedOrder) {
  const Dataset d = parse("a,species\n1,virginica\n2,setosa\n3,versicolor\n4,setosa\n");
  EXPECT_EQ(d.class_names, (std::vector<std::string>{"setosa", "versicolor", "virginica"}));
  EXPECT_EQ(d.labels.to_vector(), (std::vector<double>{2, 0, 1, 0}));
}

TEST(CsvLoader, ReadsFilesWithoutHeader) {
  const Dataset d = parse("1,2,0\n3,4,1\n", {.has_header = false});
  EXPECT_EQ(d.size(), 2);
}

TEST(CsvLoader, ReportsAWrongFieldCountWithItsLineNumber) {
  EXPECT_THAT(error_of("a,b,label\n1,2,0\n\n1,0\n"),
              HasSubstr("test.csv:4: found 2 fields but expected 3 (as in the header)"));
}

TEST(CsvLoader, ReportsANonNumberWithLineAndColumn) {
  EXPECT_THAT(error_of("a,b,label\n1,2,0\n1,abc,1\n"),
              HasSubstr("test.csv:3: 'abc' in column 1 ('b') is not a finite number"));
  EXPECT_THAT(error_of("a,label\nnan,1\n"), HasSubstr("test.csv:2: 'nan'"));
}

TEST(CsvLoader, ReportsEmptyAndQuotedFields) {
  EXPECT_THAT(error_of("a,b,label\n1,,0\n"), HasSubstr("test.csv:2: column 1 ('b') is empty"));
  EXPECT_THAT(error_of("a,label\n\"1\",0\n"),
              HasSubstr("test.csv:2: column 0 ('a') holds a quoted"));
  EXPECT_THAT(error_of("a,label\n1,\n"), HasSubstr("test.csv:2: the label"));
}

TEST(CsvLoader, ReportsLabelsThatAreNotClassIndices) {
  EXPECT_THAT(error_of("a,label\n1,0\n2,1.5\n"),
              HasSubstr("test.csv:3: label '1.5' is not a class index"));
  EXPECT_THAT(error_of("a,label\n1,-1\n"), HasSubstr("test.csv:2: label '-1'"));
  EXPECT_THAT(error_of("a,label\n1,1000000000\n"), HasSubstr("0..9999"));
}

TEST(CsvLoader, ReportsAnUnknownLabelColumnWithTheHeaderNames) {
  EXPECT_THAT(error_of("a,b\n1,0\n", {.label_column = "target"}),
              HasSubstr("no label column 'target': give a column index 0..1 or one of the header "
                        "names: a, b"));
}

TEST(CsvLoader, ReportsFilesWithoutExamples) {
  EXPECT_THAT(error_of(""), HasSubstr("the file is empty"));
  EXPECT_THAT(error_of("a,label\n\n"), HasSubstr("no examples"));
  EXPECT_THAT(error_of("just_one_column\n1\n"), HasSubstr("test.csv:1: found 1 column"));
}

TEST(CsvLoader, MissingFileNamesThePath) {
  try {
    load_csv("/nonexistent/dagprop.csv");
    FAIL() << "expected an error";
  } catch (const Error& e) {
    EXPECT_THAT(e.what(), HasSubstr("cannot open CSV file '/nonexistent/dagprop.csv'"));
  }
}

TEST(CsvLoader, LoadsAFile) {
  const testing::TempDir dir;
  const Dataset d = load_csv(dir.write("d.csv", "a,b,label\n1,2,1\n"));
  EXPECT_EQ(d.name, dir.file("d.csv"));
  EXPECT_EQ(d.size(), 1);
}

}  // namespace
}  // namespace dagprop::data
