// Every C++ snippet in README.md and docs/*.md is (part of) a compiled example in docs/examples/,
// so documentation cannot show code that does not build.
#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>
#include <sstream>

namespace {

std::string read_file(const std::filesystem::path& path) {
  std::ifstream file(path);
  std::stringstream content;
  content << file.rdbuf();
  return content.str();
}

std::vector<std::string> cpp_snippets(const std::string& markdown) {
  std::vector<std::string> snippets;
  std::size_t at = 0;
  while ((at = markdown.find("```cpp\n", at)) != std::string::npos) {
    const std::size_t begin = at + 7;
    const std::size_t end = markdown.find("```", begin);
    if (end == std::string::npos) break;
    snippets.push_back(markdown.substr(begin, end - begin));
    at = end + 3;
  }
  return snippets;
}

TEST(DocsSnippets, EveryCppSnippetIsACompiledExample) {
  const std::filesystem::path root = DAGPROP_SOURCE_DIR;
  std::string examples;
  for (const auto& entry : std::filesystem::directory_iterator(root / "docs" / "examples")) {
    if (entry.path().extension() == ".cpp") examples += read_file(entry.path());
  }
  std::vector<std::filesystem::path> documents{root / "README.md"};
  for (const auto& entry : std::filesystem::directory_iterator(root / "docs")) {
    if (entry.path().extension() == ".md") documents.push_back(entry.path());
  }
  int checked = 0;
  for (const auto& document : documents) {
    for (const std::string& snippet : cpp_snippets(read_file(document))) {
      EXPECT_NE(examples.find(snippet), std::string::npos)
          << document << " shows a snippet that is not in docs/examples/*.cpp:\n"
          << snippet;
      ++checked;
    }
  }
  EXPECT_GT(checked, 0) << "README.md should show at least one example";
}

}  // namespace
