// Every line of every C++ snippet in README.md and docs/*.md appears in an example program under
// docs/examples/ (which the build compiles and the tests run), so the documentation cannot show
// code that does not build or that has drifted from working code.
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

// Every trimmed line of every example program, each between newlines.
std::string example_lines() {
  std::string lines = "\n";
  for (const auto& entry : std::filesystem::directory_iterator(kSource / "docs" / "examples")) {
    if (entry.path().extension() != ".cpp") continue;
    std::istringstream in(read(entry.path()));
    for (std::string line; std::getline(in, line);) lines += trimmed(line) + "\n";
  }
  return lines;
}

TEST(DocsSnippets, EverySnippetLineComesFromACompiledExample) {
  const std::string examples = example_lines();
  std::vector<std::filesystem::path> documents{kSource / "README.md"};
  for (const auto& entry : std::filesystem::directory_iterator(kSource / "docs")) {
    if (entry.path().extension() == ".md") documents.push_back(entry.path());
  }
  int checked = 0;
  for (const auto& document : documents) {
    for (const std::string& line : snippet_lines(document)) {
      EXPECT_NE(examples.find("\n" + line + "\n"), std::string::npos)
          << document.filename() << ": the snippet line\n  " << line << "\nis in no program of docs/examples/";
      ++checked;
    }
  }
  EXPECT_GT(checked, 0) << "README.md should show at least one example";
}

}  // namespace
