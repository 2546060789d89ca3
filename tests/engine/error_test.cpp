// Bad input gets an Error whose message names the node, the shapes or values, and the fix.
#include <gtest/gtest.h>

#include <cmath>
#include <limits>

#include <dagprop/dagprop.hpp>

namespace dagprop {
namespace {

// The message of the Error that f throws; fails the test if it throws nothing.
template <class F>
std::string error_message(F f) {
  try {
    f();
  } catch (const Error& e) {
    return e.what();
  }
  ADD_FAILURE() << "no dagprop::Error was thrown";
  return {};
}

TEST(Errors, ShapeMismatchNamesTheNodeBothShapesAndTheFix) {
  Graph g;
  const Expr a = g.input("batch", Shape{128, 10});
  const Expr b = g.parameter("bias", Tensor::zeros(Shape{5}));
  const std::string message = error_message([&] {
    g.apply("add", std::vector<Expr>{a, b}, {}, "logits");
  });
  EXPECT_NE(message.find("node 'logits' (op add)"), std::string::npos) << message;
  EXPECT_NE(message.find("[128, 10] and [5]"), std::string::npos) << message;
  EXPECT_NE(message.find("make them equal or 1"), std::string::npos) << message;
}

TEST(Errors, MatmulInnerDimensionMismatchSaysWhichDimensions) {
  Graph g;
  auto layer = g.scope("layer1");
  const Expr x = g.input("x", Shape{2, 3});
  const Expr w = g.parameter("W", Tensor::zeros(Shape{4, 5}));
  const std::string message = error_message([&] { matmul(x, w); });
  EXPECT_NE(message.find("(op matmul)"), std::string::npos) << message;
  EXPECT_NE(message.find("inner dimensions 3 and 4 differ"), std::string::npos) << message;
}

TEST(Errors, MissingFeedNamesTheInputAndHowToFeedIt) {
  Graph g;
  const Expr x = g.input("x", Shape{3});
  const Expr y = sum(x);
  const std::string message = error_message([&] { g.run(y); });
  EXPECT_NE(message.find("input 'x' (op input, shape [3]) has no feed"), std::string::npos)
      << message;
  EXPECT_NE(message.find("{x, tensor}"), std::string::npos) << message;
}

TEST(Errors, FeedOfTheWrongShapeSaysWhatWasFedAndWhatIsExpected) {
  Graph g;
  const Expr x = g.input("x", Shape{3});
  const Tensor wrong = Tensor::zeros(Shape{4});
  const std::string message = error_message([&] { g.run(sum(x), {{x, wrong}}); });
  EXPECT_NE(message.find("was fed a float64 tensor of shape [4]"), std::string::npos) << message;
  EXPECT_NE(message.find("feed float64 of shape [3]"), std::string::npos) << message;
}

TEST(Errors, FeedOfTheWrongDtypeSaysBothDtypes) {
  Graph g;
  const Expr x = g.input("x", Shape{2}, DType::f32);
  const Tensor wrong = Tensor::zeros(Shape{2}, DType::f64);
  const std::string message = error_message([&] { g.run(sum(x), {{x, wrong}}); });
  EXPECT_NE(message.find("was fed a float64 tensor"), std::string::npos) << message;
  EXPECT_NE(message.find("feed float32"), std::string::npos) << message;
}

TEST(Errors, GradientOfANonScalarWithoutSeedAsksForOne) {
  Graph g;
  const Expr x = g.parameter("x", Tensor::zeros(Shape{3}));
  const Expr y = tanh(x);
  const std::string message = error_message([&] { g.backward(y); });
  EXPECT_NE(message.find("(op tanh, shape [3])"), std::string::npos) << message;
  EXPECT_NE(message.find("seed tensor of shape [3]"), std::string::npos) << message;
  const std::string grad_message = error_message([&] { grad(y, x); });
  EXPECT_NE(grad_message.find("vector-Jacobian product"), std::string::npos) << grad_message;
}

TEST(Errors, NodeFromAnotherGraphIsRejected) {
  Graph g, other;
  const Expr a = g.parameter("a", 1.0);
  const Expr b = other.parameter("b", 2.0);
  const std::string message = error_message([&] { a + b; });
  EXPECT_NE(message.find("'b' (op parameter, shape [])"), std::string::npos) << message;
  EXPECT_NE(message.find("belongs to another Graph"), std::string::npos) << message;
}

TEST(Errors, MixedDtypesAreRejectedWithBothDtypes) {
  Graph g;
  const Expr a = g.parameter("a", Tensor::zeros(Shape{2}, DType::f32));
  const Expr b = g.parameter("b", Tensor::zeros(Shape{2}, DType::f64));
  const std::string message = error_message([&] { a* b; });
  EXPECT_NE(message.find("is float32 but input 1 'b'"), std::string::npos) << message;
}

TEST(Errors, LabelOutOfRangeNamesTheNodeTheRowAndTheRange) {
  Graph g;
  const Expr z = g.parameter("z", Tensor::zeros(Shape{2, 3}));
  const Expr labels = g.constant(Tensor::from({1.0, 3.0}, Shape{2}), "labels");
  const Expr loss = g.set_name(cross_entropy(z, labels), "loss");
  const std::string message = error_message([&] { g.run(loss); });
  EXPECT_NE(message.find("'loss' (op cross_entropy"), std::string::npos) << message;
  EXPECT_NE(message.find("label 3.000000 in row 1 is not a class index in 0..2"), std::string::npos)
      << message;
  // The graph and its plan stay usable.
  g.set_value(labels, Tensor::from({1.0, 2.0}, Shape{2}));
  EXPECT_NEAR(g.run(loss).item(), std::log(3.0), 1e-15);
}

TEST(Errors, DifferentiatingThroughLabelsIsRefused) {
  Graph g;
  const Expr z = g.parameter("z", Tensor::zeros(Shape{2, 3}));
  const Expr labels = g.parameter("labels", Tensor::from({1.0, 2.0}, Shape{2}));
  const std::string message = error_message([&] { grad(cross_entropy(z, labels), labels); });
  EXPECT_NE(message.find("not differentiable with respect to it"), std::string::npos) << message;
}

TEST(Errors, AnomalyModeStopsAtTheFirstNaNAndNamesTheNode) {
  Graph g;
  const Expr x = g.parameter("x", Tensor::from({1.0, -1.0}, Shape{2}));
  const Expr root = g.set_name(sqrt(x), "root");
  const Expr y = sum(root * 2.0);
  EXPECT_NO_THROW(g.run(y));  // off by default: the NaN flows through
  EXPECT_TRUE(std::isnan(y.item()));
  g.set_anomaly_mode(true);
  const std::string message = error_message([&] { g.run(y); });
  EXPECT_NE(message.find("'root' (op sqrt"), std::string::npos) << message;
  EXPECT_NE(message.find("at element 1"), std::string::npos) << message;
  EXPECT_EQ(g.anomaly_node(), root.id());
}

TEST(Errors, AnomalyModeBlamesAFedNaNNotTheOpThatReadIt) {
  Graph g;
  const Expr x = g.input("x", Shape{2});
  const Expr y = sum(tanh(x));
  g.set_anomaly_mode(true);
  const Tensor fed = Tensor::from({0.5, std::nan("")}, Shape{2});
  const std::string message = error_message([&] { g.run(y, {{x, fed}}); });
  EXPECT_NE(message.find("'x' (op input, shape [2]) holds nan at element 1"), std::string::npos)
      << message;
  EXPECT_EQ(g.anomaly_node(), x.id());
}

TEST(Errors, ReadingAValueBeforeAnyRunSaysHowToGetOne) {
  Graph g;
  const Expr y = tanh(g.parameter("x", 1.0));
  const std::string message = error_message([&] { y.item(); });
  EXPECT_NE(message.find("has no value yet"), std::string::npos) << message;
}

TEST(Errors, ReadingAGradientBeforeBackwardSaysHowToGetOne) {
  Graph g;
  const Expr w = g.parameter("w", 1.0);
  const std::string message = error_message([&] { w.grad(); });
  EXPECT_NE(message.find("call graph.backward(loss) first"), std::string::npos) << message;
}

TEST(Errors, UnknownOpNameListsTheKnownOnes) {
  Graph g;
  const Expr x = g.parameter("x", 1.0);
  const std::string message = error_message([&] { g.apply("sigmod", std::vector<Expr>{x}); });
  EXPECT_NE(message.find("unknown op 'sigmod'"), std::string::npos) << message;
  EXPECT_NE(message.find("sigmoid"), std::string::npos) << message;
}

}  // namespace
}  // namespace dagprop
