// flatten: a reshape that merges the trailing axes, keeping (C, H, W) order.
#include <gtest/gtest.h>

#include <dagprop/dagprop.hpp>

namespace dagprop {
namespace {

TEST(Flatten, MergesTheAxesFromStartAxisInRowMajorOrder) {
  Graph g;
  const Expr x = g.parameter("x", Tensor::from({0, 1, 2, 3, 4, 5, 6, 7}, Shape{2, 2, 1, 2}));
  const Expr y = flatten(x);
  EXPECT_EQ(y.op_name(), "reshape");
  EXPECT_EQ(y.shape(), (Shape{2, 4}));
  EXPECT_EQ(flatten(x, 0).shape(), (Shape{8}));
  EXPECT_EQ(flatten(x, -2).shape(), (Shape{2, 2, 2}));
  const Tensor v = g.run(y);
  for (std::int64_t i = 0; i < 8; ++i) EXPECT_EQ(v.at(i), static_cast<double>(i));
  const Tensor d = g.run(grad(sum(y * y), x));
  EXPECT_EQ(d.shape(), x.shape());
  EXPECT_EQ(d.at(5), 10);
}

TEST(Flatten, AnAxisOutOfRangeNamesTheNodeAndTheFix) {
  Graph g;
  const Expr x = g.input("images", Shape{2, 3, 4, 4});
  try {
    flatten(x, 4);
    FAIL() << "no error";
  } catch (const Error& e) {
    const std::string m = e.what();
    EXPECT_NE(m.find("images"), std::string::npos) << m;
    EXPECT_NE(m.find("use 1 to keep the batch axis"), std::string::npos) << m;
  }
}

}  // namespace
}  // namespace dagprop
