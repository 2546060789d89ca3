// The CSV loader. It reads line by line and keeps only what it has parsed, so memory follows the
// file's real content; every rejected line is named by file and line number.
#include <dagprop/data/csv.hpp>

#include <algorithm>
#include <charconv>
#include <cmath>
#include <fstream>
#include <map>
#include <string_view>
#include <vector>

#include <dagprop/error.hpp>

namespace dagprop::data {
namespace {

std::string_view trim(std::string_view s) {
  while (!s.empty() && (s.front() == ' ' || s.front() == '\t')) s.remove_prefix(1);
  while (!s.empty() && (s.back() == ' ' || s.back() == '\t' || s.back() == '\r'))
    s.remove_suffix(1);
  return s;
}

std::vector<std::string_view> split_fields(std::string_view line, char delimiter) {
  std::vector<std::string_view> fields;
  std::size_t start = 0;
  while (true) {
    const std::size_t end = line.find(delimiter, start);
    fields.push_back(trim(line.substr(start, end == std::string_view::npos ? end : end - start)));
    if (end == std::string_view::npos) return fields;
    start = end + 1;
  }
}

bool parse_double(std::string_view text, double& value) {
  if (!text.empty() && text.front() == '+') text.remove_prefix(1);
  const auto [end, error] = std::from_chars(text.data(), text.data() + text.size(), value);
  return error == std::errc() && end == text.data() + text.size() && !text.empty();
}

bool is_digits(std::string_view s) {
  return !s.empty() && std::all_of(s.begin(), s.end(), [](char c) { return c >= '0' && c <= '9'; });
}

class CsvReader {
 public:
  CsvReader(const std::string& source, const CsvOptions& options)
      : source_(source), options_(options) {}

  [[noreturn]] void fail(std::int64_t line, const std::string& message) const {
    throw Error(source_ + ":" + std::to_string(line) + ": " + message);
  }

  std::string column_label(std::size_t column) const {
    return names_.empty() ? "column " + std::to_string(column)
                          : "column " + std::to_string(column) + " ('" + names_[column] + "')";
  }

  void set_columns(std::int64_t line, const std::vector<std::string_view>& header) {
    if (static_cast<std::int64_t>(header.size()) > options_.max_columns) {
      fail(line, std::to_string(header.size()) + " columns exceed the limit of " +
                     std::to_string(options_.max_columns) + " (CsvOptions::max_columns)");
    }
    if (header.size() < 2) {
      fail(line, "found " + std::to_string(header.size()) +
                     " column; a CSV dataset needs at least one feature column and a label "
                     "column (is the delimiter '" +
                     std::string(1, options_.delimiter) + "' right?)");
    }
    columns_ = header.size();
    if (options_.has_header) {
      for (const std::string_view name : header) names_.emplace_back(name);
    }
    label_ = choose_label_column(line);
  }

  void add_row(std::int64_t line, const std::vector<std::string_view>& fields) {
    if (fields.size() != columns_) {
      fail(line, "found " + std::to_string(fields.size()) + " fields but expected " +
                     std::to_string(columns_) +
                     (options_.has_header ? " (as in the header)" : " (as in the first line)"));
    }
    for (std::size_t c = 0; c < fields.size(); ++c) {
      const std::string_view field = fields[c];
      if (field.find('"') != std::string_view::npos) {
        fail(line, column_label(c) +
                       " holds a quoted field, which this loader does not support; "
                       "remove the quotes");
      }
      if (c == label_) {
        if (field.empty()) fail(line, "the label (" + column_label(c) + ") is empty");
        labels_.emplace_back(field);
        label_lines_.push_back(line);
        continue;
      }
      double value = 0;
      if (field.empty()) fail(line, column_label(c) + " is empty; every feature needs a number");
      if (!parse_double(field, value) || !std::isfinite(value)) {
        fail(line,
             "'" + std::string(field) + "' in " + column_label(c) + " is not a finite number");
      }
      features_.push_back(static_cast<float>(value));
    }
  }

  Dataset finish(std::int64_t last_line) {
    if (labels_.empty()) {
      fail(last_line, "no examples: the file has no data lines" +
                          std::string(options_.has_header ? " after the header" : ""));
    }
    Dataset d;
    d.name = source_;
    const auto n = static_cast<std::int64_t>(labels_.size());
    const auto width = static_cast<std::int64_t>(columns_ - 1);
    d.features = Tensor(Shape{n, width}, DType::f32);
    std::copy(features_.begin(), features_.end(), d.features.data<float>());
    d.labels = Tensor(Shape{n}, DType::f32);
    float* labels = d.labels.data<float>();

    bool numeric = true;
    for (const std::string& label : labels_) {
      double value = 0;
      numeric = numeric && parse_double(label, value);
    }
    if (numeric) {
      double largest = 0;
      for (std::size_t i = 0; i < labels_.size(); ++i) {
        double value = 0;
        parse_double(labels_[i], value);
        if (!(value >= 0) || value != std::floor(value) ||
            value >= static_cast<double>(options_.max_classes)) {
          fail(label_lines_[i], "label '" + labels_[i] + "' is not a class index: numeric labels " +
                                    "must be whole numbers in 0.." +
                                    std::to_string(options_.max_classes - 1) +
                                    " (or use names as labels)");
        }
        labels[i] = static_cast<float>(value);
        largest = std::max(largest, value);
      }
      d.num_classes = static_cast<std::int64_t>(largest) + 1;
      return d;
    }
    // Text labels: classes numbered in sorted order of their names, so the numbering does not
    // depend on which class happens to come first in the file.
    std::map<std::string, std::int64_t> classes;
    for (const std::string& label : labels_) classes.emplace(label, 0);
    if (static_cast<std::int64_t>(classes.size()) > options_.max_classes) {
      fail(last_line, std::to_string(classes.size()) + " distinct labels exceed the limit of " +
                          std::to_string(options_.max_classes) + " classes");
    }
    for (auto& [name, index] : classes) {
      index = static_cast<std::int64_t>(d.class_names.size());
      d.class_names.push_back(name);
    }
    for (std::size_t i = 0; i < labels_.size(); ++i)
      labels[i] = static_cast<float>(classes[labels_[i]]);
    d.num_classes = static_cast<std::int64_t>(classes.size());
    return d;
  }

 private:
  std::size_t choose_label_column(std::int64_t line) const {
    const std::string& wanted = options_.label_column;
    if (wanted.empty()) return columns_ - 1;
    if (options_.has_header) {
      const auto it = std::find(names_.begin(), names_.end(), wanted);
      if (it != names_.end()) return static_cast<std::size_t>(it - names_.begin());
    }
    if (is_digits(wanted) && wanted.size() < 9 && std::stoul(wanted) < columns_) {
      return std::stoul(wanted);
    }
    std::string known;
    for (const std::string& name : names_) known += (known.empty() ? "" : ", ") + name;
    fail(line, "no label column '" + wanted + "': give a column index 0.." +
                   std::to_string(columns_ - 1) +
                   (known.empty() ? std::string() : " or one of the header names: " + known));
  }

  std::string source_;
  CsvOptions options_;
  std::size_t columns_ = 0;
  std::size_t label_ = 0;
  std::vector<std::string> names_;
  std::vector<float> features_;
  std::vector<std::string> labels_;
  std::vector<std::int64_t> label_lines_;
};

}  // namespace

Dataset parse_csv(std::istream& in, const std::string& source, const CsvOptions& options) {
  CsvReader reader(source, options);
  std::string line;
  std::int64_t line_number = 0;
  bool have_columns = false;
  while (std::getline(in, line)) {
    ++line_number;
    if (trim(line).empty()) continue;
    const std::vector<std::string_view> fields = split_fields(line, options.delimiter);
    if (!have_columns) {
      reader.set_columns(line_number, fields);
      have_columns = true;
      if (options.has_header) continue;
    }
    reader.add_row(line_number, fields);
  }
  if (in.bad()) throw Error(source + ": reading failed after line " + std::to_string(line_number));
  if (!have_columns)
    throw Error(source +
                ": the file is empty; a CSV dataset needs a header line "
                "and data lines");
  return reader.finish(line_number);
}

Dataset load_csv(const std::string& path, const CsvOptions& options) {
  std::ifstream in(path);
  if (!in) throw Error("cannot open CSV file '" + path + "': check the path and its permissions");
  return parse_csv(in, path, options);
}

}  // namespace dagprop::data
