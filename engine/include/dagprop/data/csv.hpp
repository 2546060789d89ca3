// CSV loader for classification data: one example per line, numeric feature columns and one label
// column. Every malformed line is reported as dagprop::Error with its file name and line number.
#pragma once

#include <istream>
#include <string>

#include <dagprop/data/dataset.hpp>
#include <dagprop/export.hpp>

DAGPROP_API_BEGIN
namespace dagprop::data {

struct CsvOptions {
  // The label column: a header name, or a 0-based index written as digits. Empty: the last column.
  std::string label_column;
  bool has_header = true;
  char delimiter = ',';
  // Bounds that keep a malformed or hostile file from asking for unbounded memory: the output layer
  // has one unit per class.
  std::int64_t max_classes = 10000;
  std::int64_t max_columns = 100000;
};

// Labels are either whole numbers 0..k-1 (used as they are) or text (classes numbered in sorted
// order of their names, which become the class names). Blank lines are skipped; quoted fields are
// not supported and are reported.
Dataset load_csv(const std::string& path, const CsvOptions& options = {});
// The same from a stream; `source` names it in error messages.
Dataset parse_csv(std::istream& in, const std::string& source, const CsvOptions& options = {});

}  // namespace dagprop::data
DAGPROP_API_END
