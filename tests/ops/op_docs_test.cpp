// docs/ops.md is the op table's own text.
#include <gtest/gtest.h>

#include <fstream>
#include <sstream>

#include <dagprop/op_docs.hpp>

namespace dagprop {
namespace {

TEST(OpDocs, DocsOpsMdMatchesTheOpTable) {
  std::ifstream file(DAGPROP_SOURCE_DIR "/docs/ops.md");
  ASSERT_TRUE(file) << "docs/ops.md is missing";
  std::stringstream content;
  content << file.rdbuf();
  EXPECT_EQ(content.str(), op_table_markdown())
      << "docs/ops.md is out of date: regenerate it with ./build/tools/dagprop ops --markdown > "
         "docs/ops.md";
}

}  // namespace
}  // namespace dagprop
