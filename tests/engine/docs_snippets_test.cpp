// The C++ snippets of the docs this engine's pictures and files are described in are taken from
// the example programs under docs/examples/ (which the build compiles and the tests run): every
// line of a snippet must appear in one of them, so a snippet cannot drift from working code.
#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>
#include <sstream>
#include <string>
#include <vector>

namespace {

const std::filesystem::path kSource = DAGPROP_SOURCE_DIR;

std::string read(const std::filesystem::path& path) {
  std::ifstream in(path);
  std::stringstream text;
  text << in.rdbuf();
  return text.str();
}

std::string trimmed(const std::string& line) {
  const auto first = line.find_first_not_of(" \t");
  const auto last = line.find_last_not_of(" \t");
  return first == std::string::npos ? "" : line.substr(first, last - first + 1);
}

// The trimmed, non-empty lines of the ```cpp blocks of a Markdown file.
std::vector<std::string> snippet_lines(const std::filesystem::path& markdown) {
  std::vector<std::string> lines;
  std::istringstream in(read(markdown));
  bool inside = false;
  for (std::string line; std::getline(in, line);) {
    const std::string text = trimmed(line);
    if (text.starts_with("```")) {
      inside = text == "```cpp";
      continue;
    }
    if (inside && !text.empty()) lines.push_back(text);
  }
  return lines;
}

void expect_snippets_in(const std::string& doc, const std::vector<std::string>& examples) {
  std::string sources;
  for (const std::string& example : examples) {
    const std::string text = read(kSource / "docs" / "examples" / example);
    ASSERT_FALSE(text.empty()) << example;
    std::istringstream in(text);
    for (std::string line; std::getline(in, line);) sources += trimmed(line) + "\n";
  }
  const std::vector<std::string> lines = snippet_lines(kSource / "docs" / doc);
  EXPECT_FALSE(lines.empty()) << doc << " has no ```cpp snippet";
  for (const std::string& line : lines) {
    EXPECT_NE(sources.find("\n" + line + "\n"), std::string::npos)
        << doc << ": the snippet line\n  " << line << "\nis in no example program";
  }
}

TEST(DocsSnippets, VisualizationSnippetsComeFromTheExamplePrograms) {
  expect_snippets_in("visualization.md", {"visualize_neuron.cpp", "visualize_mlp.cpp"});
}

TEST(DocsSnippets, FileFormatSnippetsComeFromTheExampleProgram) {
  expect_snippets_in("file-format.md", {"graph_file.cpp"});
}

}  // namespace
