// cross_entropy on confident rows: a loss below 1e-10 and its gradient keep their relative
// precision (long double references), where log(sum exp) - z_label would round them away.
#include <gtest/gtest.h>

#include <cmath>
#include <vector>

#include <dagprop/dagprop.hpp>

namespace dagprop {
namespace {

struct ConfidentRow {
  std::vector<double> logits;
  double label;
};

// log(sum_j exp(z_j)) - z_label and softmax(z) - onehot(label) in long double (64-bit mantissa),
// from the largest logit so that nothing overflows, with log1p of the other classes' terms: even
// long double's 1 + s would keep only five digits of an s of 1e-14.
struct Reference {
  long double max = 0;
  long double log_total = 0;  // log(sum_j exp(z_j - max))

  explicit Reference(const ConfidentRow& row) {
    std::size_t argmax = 0;
    for (std::size_t j = 1; j < row.logits.size(); ++j) {
      if (row.logits[j] > row.logits[argmax]) argmax = j;
    }
    max = row.logits[argmax];
    long double others = 0;
    for (std::size_t j = 0; j < row.logits.size(); ++j) {
      if (j != argmax) others += std::exp(static_cast<long double>(row.logits[j]) - max);
    }
    log_total = std::log1p(others);
  }
  long double loss(const ConfidentRow& row) const {
    return log_total - (static_cast<long double>(row.logits[label(row)]) - max);
  }
  long double gradient(const ConfidentRow& row, std::size_t j) const {
    const long double log_p = (static_cast<long double>(row.logits[j]) - max) - log_total;
    return j == label(row) ? std::expm1(log_p) : std::exp(log_p);
  }
  static std::size_t label(const ConfidentRow& row) { return static_cast<std::size_t>(row.label); }
};

double relative_error(double value, long double reference) {
  return static_cast<double>(std::fabs((static_cast<long double>(value) - reference) / reference));
}

const std::vector<ConfidentRow> kConfidentRows = {
    {{30.0, 0.0, -5.0}, 0},           // loss ~ 9.4e-14
    {{0.0, 25.0, 1.0, -3.0}, 1},      // ~ 1.4e-11 + ...
    {{-800.0, -770.0, -799.0}, 1},    // ~ 9.4e-14, at |x| = 800
    {{40.0, 5.0, 6.0, 7.0, 8.0}, 0},  // ~ 1.7e-14
    {{12.0, 37.5, 37.5 - 30.0}, 1},   // ~ 9.4e-14, label in the middle
};

TEST(CrossEntropy, ConfidentRowsKeepTheirRelativePrecisionInFloat64) {
  for (const ConfidentRow& row : kConfidentRows) {
    Graph g;
    const auto classes = static_cast<std::int64_t>(row.logits.size());
    Tensor logits(Shape{1, classes}, DType::f64);
    for (std::int64_t j = 0; j < classes; ++j)
      logits.data<double>()[j] = row.logits[static_cast<std::size_t>(j)];
    Tensor labels(Shape{1}, DType::f64);
    labels.data<double>()[0] = row.label;
    const Expr z = g.parameter("z", logits);
    const Expr loss = cross_entropy(z, g.constant(labels, "labels"));
    g.backward(loss);

    const Reference reference(row);
    const long double expected = reference.loss(row);
    ASSERT_LT(expected, 1e-10L) << "the case is meant to be confident";
    EXPECT_LE(relative_error(loss.item(), expected), 1e-13)
        << "loss " << loss.item() << " against " << static_cast<double>(expected);
    for (std::int64_t j = 0; j < classes; ++j) {
      const long double dz = reference.gradient(row, static_cast<std::size_t>(j));
      EXPECT_LE(relative_error(z.grad().at(j), dz), 1e-13)
          << "dz[" << j << "] = " << z.grad().at(j) << " against " << static_cast<double>(dz);
    }
  }
}

// Independent of the formula above: for tiny s, log1p(s) = s - s^2/2 + ..., so the loss of logits
// (30, 0, -5) with label 0 is exp(-30) + exp(-35) to 1e-26.
TEST(CrossEntropy, AConfidentRowsLossIsTheSumOfTheOtherClassesProbabilities) {
  Graph g;
  const Expr loss = cross_entropy(g.constant(Tensor::from({30.0, 0.0, -5.0}, Shape{1, 3}), "z"),
                                  g.constant(Tensor::from({0.0}, Shape{1}), "labels"));
  const double expected = std::exp(-30.0) + std::exp(-35.0);
  EXPECT_LE(std::fabs(g.run(loss).item() - expected) / expected, 1e-13);
}

TEST(CrossEntropy, ARowOfEqualLogitsCostsLogOfTheClassCount) {
  Graph g;
  Tensor logits(Shape{2, 4}, DType::f64);
  for (std::int64_t i = 0; i < 8; ++i) logits.data<double>()[i] = 3.25;
  Tensor labels(Shape{2}, DType::f64);
  labels.data<double>()[0] = 0;
  labels.data<double>()[1] = 3;
  const Expr loss = cross_entropy(g.constant(logits, "z"), g.constant(labels, "labels"));
  EXPECT_DOUBLE_EQ(g.run(loss).item(), std::log(4.0));
}

}  // namespace
}  // namespace dagprop
