// The scalar tape: every op's adjoint against finite differences, the hard inputs, the W1 soup
// against the Graph engine, the round trip through to_graph(), and the misuse errors.
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <array>
#include <cmath>
#include <functional>
#include <limits>
#include <set>
#include <string>
#include <thread>
#include <vector>

#include <dagprop/dagprop.hpp>

#include "engine/test_graphs.hpp"
#include "workloads.hpp"

namespace dagprop {
namespace {

using ::testing::HasSubstr;

using testing::error_message;

// |a - b| within `relative` of the larger magnitude (or of 1 near zero).
void expect_close(double a, double b, double relative, const std::string& what) {
  EXPECT_LE(std::abs(a - b), relative * std::max({1.0, std::abs(a), std::abs(b)}))
      << what << ": " << a << " vs " << b;
}

// A function of two variables recorded on a tape; the point where it is checked.
struct OpCase {
  std::string name;
  std::function<Scalar(Scalar, Scalar)> f;
  double x, y;
};

std::vector<OpCase> op_cases() {
  return {
      {"add", [](Scalar x, Scalar y) { return x + y; }, 0.7, -1.3},
      {"sub", [](Scalar x, Scalar y) { return x - y; }, 0.7, -1.3},
      {"mul", [](Scalar x, Scalar y) { return x * y; }, 0.7, -1.3},
      {"div", [](Scalar x, Scalar y) { return x / y; }, 0.7, -1.3},
      {"add double", [](Scalar x, Scalar) { return 2.5 + x + 1.5; }, 0.7, 0},
      {"sub double", [](Scalar x, Scalar) { return 2.5 - x - 1.5; }, 0.7, 0},
      {"mul double", [](Scalar x, Scalar) { return 2.5 * x * 1.5; }, 0.7, 0},
      {"div double", [](Scalar x, Scalar) { return 2.5 / x / 1.5; }, 0.7, 0},
      {"same operand twice", [](Scalar x, Scalar) { return x * x - x / x; }, 0.7, 0},
      {"neg", [](Scalar x, Scalar) { return -x; }, 0.4, 0},
      {"exp", [](Scalar x, Scalar) { return exp(x); }, 0.3, 0},
      {"log", [](Scalar x, Scalar) { return log(x); }, 1.7, 0},
      {"sigmoid", [](Scalar x, Scalar) { return sigmoid(x); }, -0.8, 0},
      {"sigmoid positive", [](Scalar x, Scalar) { return sigmoid(x); }, 2.1, 0},
      {"tanh", [](Scalar x, Scalar) { return tanh(x); }, 0.6, 0},
      {"relu positive", [](Scalar x, Scalar) { return relu(x); }, 0.9, 0},
      {"relu negative", [](Scalar x, Scalar) { return relu(x); }, -0.9, 0},
      {"softplus", [](Scalar x, Scalar) { return softplus(x); }, 1.2, 0},
      {"softplus negative", [](Scalar x, Scalar) { return softplus(x); }, -1.2, 0},
      {"weighted_sum",
       [](Scalar x, Scalar y) {  // x and y as inputs and as weights, and the bias from y
         const Scalar c = x.tape()->constant(1.5);
         return weighted_sum(std::array{x, y, c}, std::array{y, x, x}, y * 0.5);
       },
       0.7, -1.3},
      {"weighted_sum of one",
       [](Scalar x, Scalar y) {
         return weighted_sum({&x, 1}, {&x, 1}, y);
       },
       -0.6, 0.2},
  };
}

double value_at(const OpCase& c, double x, double y) {
  ScalarTape tape;
  return c.f(tape.variable(x), tape.variable(y)).value();
}

TEST(ScalarTape, EveryOpsAdjointMatchesCentralFiniteDifferences) {
  std::set<TapeOp> recorded;
  for (const OpCase& c : op_cases()) {
    ScalarTape tape;
    const Scalar x = tape.variable(c.x), y = tape.variable(c.y);
    const Scalar out = c.f(x, y);
    tape.backward(out);
    for (std::uint32_t k = 0; k < tape.size(); ++k) recorded.insert(tape.op(k));
    constexpr double h = 1e-6;
    const double dx = (value_at(c, c.x + h, c.y) - value_at(c, c.x - h, c.y)) / (2 * h);
    const double dy = (value_at(c, c.x, c.y + h) - value_at(c, c.x, c.y - h)) / (2 * h);
    expect_close(tape.adjoint(x), dx, 1e-8, c.name + " d/dx");
    expect_close(tape.adjoint(y), dy, 1e-8, c.name + " d/dy");
    EXPECT_EQ(tape.adjoint(out), 1.0) << c.name;
  }
  // A new op needs a case here: the cases above must record every op of DAGPROP_TAPE_OPS.
  for (std::size_t op = 0; op < kTapeOpCount; ++op) {
    EXPECT_TRUE(recorded.count(static_cast<TapeOp>(op)))
        << "no finite-difference case records op " << tape_op_name(static_cast<TapeOp>(op));
  }
}

TEST(ScalarTape, WeightedSumEqualsItsSpellingWithMulAndAddToTheBit) {
  ScalarTape tape;
  SplitMix64 random(7);
  std::vector<Scalar> x, w;
  for (int k = 0; k < 6; ++k) {
    x.push_back(tape.variable(random.uniform() * 2 - 1));
    w.push_back(tape.variable(random.uniform() * 2 - 1));
  }
  const Scalar b = tape.variable(0.25);
  const Scalar fused = weighted_sum(x, w, b);
  Scalar spelled = x[0] * w[0];
  for (int k = 1; k < 6; ++k) spelled = spelled + x[k] * w[k];
  spelled = spelled + b;
  EXPECT_EQ(fused.value(), spelled.value());
  EXPECT_EQ(tape.op(fused.index()), TapeOp::weighted_sum);
  EXPECT_EQ(tape.weighted_sum_arguments(fused.index()).size(), 13U);
  EXPECT_TRUE(tape.weighted_sum_arguments(spelled.index()).empty());

  std::vector<double> fused_adjoints, spelled_adjoints;
  for (const Scalar loss : {fused, spelled}) {
    tape.backward(tanh(loss));
    std::vector<double>& adjoints =
        loss.index() == fused.index() ? fused_adjoints : spelled_adjoints;
    for (int k = 0; k < 6; ++k) {
      adjoints.push_back(tape.adjoint(x[k]));
      adjoints.push_back(tape.adjoint(w[k]));
    }
    adjoints.push_back(tape.adjoint(b));
  }
  EXPECT_EQ(fused_adjoints, spelled_adjoints);  // each product's adjoint is one multiplication
}

TEST(ScalarTape, WeightedSumMisuseThrowsAndSaysWhatToDo) {
  ScalarTape tape, other;
  const Scalar x = tape.variable(1), w = tape.variable(2), b = tape.variable(3);
  const std::array<Scalar, 2> two = {x, x};
  EXPECT_THAT(error_message([&] {
                (void)weighted_sum(two, {&w, 1}, b);
              }),
              HasSubstr("x has 2 inputs but w 1 weights; pass one weight per input"));
  EXPECT_THAT(error_message([&] { (void)weighted_sum({}, {}, b); }),
              HasSubstr("x and w are empty"));
  const Scalar foreign = other.variable(4);
  const std::string message = error_message([&] {
    (void)weighted_sum(two, std::array{x, foreign}, b);
  });
  EXPECT_THAT(message, HasSubstr("'weighted_sum'"));
  EXPECT_THAT(message, HasSubstr("belongs to another ScalarTape"));
  EXPECT_THAT(error_message([&] { (void)tape.unary(TapeOp::weighted_sum, x); }),
              HasSubstr("takes a list of arguments; record it with weighted_sum(x, w, b)"));
  // A failed recording leaves nothing behind.
  EXPECT_EQ(tape.size(), 3U);
  EXPECT_EQ(weighted_sum({&x, 1}, {&w, 1}, b).value(), 5.0);
}

TEST(ScalarTape, SigmoidAndSoftplusAtPlusMinus800AreFiniteAndExact) {
  ScalarTape tape;
  const Scalar big = tape.variable(800), small = tape.variable(-800);
  const Scalar s_big = sigmoid(big), s_small = sigmoid(small);
  const Scalar p_big = softplus(big), p_small = softplus(small);
  // The exact values round to these: 1 - e^-800 and e^-800 (below the least subnormal).
  EXPECT_EQ(s_big.value(), 1.0);
  EXPECT_EQ(s_small.value(), 0.0);
  EXPECT_EQ(p_big.value(), 800.0);
  EXPECT_EQ(p_small.value(), 0.0);
  tape.backward(s_big + s_small + p_big + p_small);
  EXPECT_EQ(tape.adjoint(big), 1.0);    // sigmoid'(800) = 0, softplus'(800) = 1
  EXPECT_EQ(tape.adjoint(small), 0.0);  // both derivatives are e^-800 -> 0
}

TEST(ScalarTape, SoftplusKeepsTheSmallTail) {
  ScalarTape tape;
  // log(1 + e^-40) computed naively is log(1) = 0; the stable form keeps e^-40.
  expect_close(softplus(tape.variable(-40)).value(), std::exp(-40.0), 1e-15, "softplus(-40)");
  expect_close(sigmoid(tape.variable(-700)).value(), std::exp(-700.0), 1e-14, "sigmoid(-700)");
}

TEST(ScalarTape, LogOfNonPositiveFollowsIeee) {
  ScalarTape tape;
  const Scalar zero = tape.variable(0), negative = tape.variable(-1);
  const Scalar log_zero = log(zero), log_negative = log(negative);
  EXPECT_EQ(log_zero.value(), -std::numeric_limits<double>::infinity());
  EXPECT_TRUE(std::isnan(log_negative.value()));
  tape.backward(log_zero);
  EXPECT_EQ(tape.adjoint(zero), std::numeric_limits<double>::infinity());  // 1 / 0
}

TEST(ScalarTape, EntriesTheLossDoesNotDependOnKeepZeroAdjoints) {
  ScalarTape tape;
  const Scalar x = tape.variable(0);
  const Scalar unused = log(x) * 3.0;  // infinite local derivative, off the loss's paths
  const Scalar loss = x * 2.0;
  tape.backward(loss);
  EXPECT_EQ(tape.adjoint(x), 2.0);  // not 2 + 0 * inf = NaN
  EXPECT_EQ(tape.adjoint(unused), 0.0);
}

class ScalarTapeSpelling : public ::testing::TestWithParam<bench::TapeSpelling> {};

TEST_P(ScalarTapeSpelling, W1SoupMatchesTheGraphEngine) {
  // 1500 neurons: the loss reads the last 1000, so some neurons are not its ancestors.
  const bench::NeuronSoupData data = bench::make_neuron_soup_data(1500);
  bench::NeuronSoup graph_soup;
  bench::build_neuron_soup(data, graph_soup);
  const double graph_loss = graph_soup.graph->run(graph_soup.loss, graph_soup.feeds).item();
  graph_soup.graph->backward(graph_soup.loss, graph_soup.feeds);

  bench::TapeNeuronSoup tape_soup;
  const double tape_loss = bench::record_neuron_soup(data, tape_soup, GetParam());
  EXPECT_EQ(tape_soup.tape.size(), bench::neuron_soup_tape_entries(1500, GetParam()));
  tape_soup.tape.backward(tape_soup.loss);
  // The same formulas in the same order: the forward values agree to the bit.
  EXPECT_EQ(tape_loss, graph_loss);

  // The graph sums fan-out contributions in its own order: the gradients agree to rounding.
  const Graph& g = *graph_soup.graph;
  auto graph_gradient = [&](const Expr& e) {
    return g.has_grad(e.id()) ? e.grad().item() : 0.0;  // pruned: the loss does not depend on it
  };
  int nonzero = 0;
  for (std::size_t j = 0; j < graph_soup.inputs.size(); ++j) {
    expect_close(tape_soup.tape.adjoint(tape_soup.inputs[j]), graph_gradient(graph_soup.inputs[j]),
                 1e-12, "input " + std::to_string(j));
  }
  for (std::size_t i = 0; i < data.sources.size(); ++i) {
    for (std::uint32_t m = 0; m < 5; ++m) {
      const double tape_gradient = tape_soup.tape.adjoints()[tape_soup.first_parameters[i] + m];
      const double expected = graph_gradient(graph_soup.parameters[5 * i + m]);
      expect_close(tape_gradient, expected, 1e-12,
                   "neuron " + std::to_string(i) + " parameter " + std::to_string(m));
      nonzero += tape_gradient != 0;
    }
  }
  EXPECT_GT(nonzero, 1000);  // the comparison is not of zeros only
}

INSTANTIATE_TEST_SUITE_P(WeightedSumAndOperators, ScalarTapeSpelling,
                         ::testing::Values(bench::TapeSpelling::weighted_sum,
                                           bench::TapeSpelling::operators));

TEST(ScalarTape, ToGraphRoundTripGivesTheTapesValueAndAdjoints) {
  ScalarTape tape;
  const Scalar x = tape.variable(0.8), y = tape.variable(-0.4), z = tape.variable(1.9);
  const Scalar unused = exp(z) * 2.0;
  const Scalar out = softplus(sigmoid(x * y) + tanh(x - y)) / exp(relu(-y)) - log(z) * x +
                     weighted_sum(std::array{x, z}, std::array{y, y}, x) + 0.5;
  tape.backward(out);

  Graph graph;
  const TapeGraph exported = tape.to_graph(graph, out);
  EXPECT_EQ(graph.run(exported.output).item(), out.value());
  graph.backward(exported.output);
  for (const Scalar v : {x, y, z}) {
    expect_close(graph.grad(exported.node(v)).item(), tape.adjoint(v), 1e-14,
                 "variable " + std::to_string(v.index()));
  }
  EXPECT_EQ(exported.node(x).name(), "v0");
  EXPECT_THAT(error_message([&] { exported.node(unused); }), HasSubstr("was not exported"));
}

TEST(ScalarTape, ToGraphOfTheW1SoupGivesTheSameGradients) {
  const bench::NeuronSoupData data = bench::make_neuron_soup_data(300);
  bench::TapeNeuronSoup soup;
  bench::record_neuron_soup(data, soup);
  soup.tape.backward(soup.loss);
  Graph graph;
  const TapeGraph exported = soup.tape.to_graph(graph, soup.loss);
  EXPECT_EQ(graph.run(exported.output).item(), soup.loss.value());
  graph.backward(exported.output);
  for (const std::uint32_t first : soup.first_parameters) {
    const Scalar w0 = soup.tape.entry(first);
    expect_close(graph.grad(exported.node(w0)).item(), soup.tape.adjoint(w0), 1e-12,
                 "w0 of entry " + std::to_string(first));
  }
}

TEST(ScalarTape, SecondBackwardOfTheSameSizeAllocatesNothing) {
  ScalarTape tape;
  auto record = [&] {
    tape.clear();
    Scalar sum = tape.variable(0.5);
    for (int k = 1; k < 5000; ++k) {
      const Scalar v = tape.variable(k * 1e-3);
      sum = weighted_sum({&sum, 1}, {&v, 1}, tanh(v)) * 0.999;
    }
    return sum;
  };
  tape.backward(record());
  const double* adjoints = tape.adjoints().data();
  const std::size_t bytes = tape.memory_bytes();
  const std::vector<double> first(tape.adjoints().begin(), tape.adjoints().end());
  tape.backward(record());
  EXPECT_EQ(tape.adjoints().data(), adjoints);
  EXPECT_EQ(tape.memory_bytes(), bytes);
  EXPECT_EQ(std::vector<double>(tape.adjoints().begin(), tape.adjoints().end()), first);
}

TEST(ScalarTape, ANewTapeReusesTheColumnsOfTheLastOneDestroyedOnItsThread) {
  ScalarTape::release_cached_memory();
  EXPECT_EQ(ScalarTape::cached_memory_bytes(), 0U);
  // 100,000 entries: every column is at least 64 KiB, the size from which columns are kept.
  auto record_and_differentiate = [](ScalarTape& tape, double scale) {
    tape.reserve(100'000);
    const Scalar unused = tape.variable(3) * 2.0;
    Scalar sum = tape.variable(scale);
    while (tape.size() + 2 <= tape.capacity()) sum = sum * 0.5 + tape.variable(scale);
    tape.backward(sum);
    return unused;
  };
  std::size_t held = 0;
  {
    ScalarTape first;
    record_and_differentiate(first, 1.0);
    held = first.memory_bytes();
  }
  EXPECT_EQ(ScalarTape::cached_memory_bytes(), held);

  ScalarTape second;
  const Scalar unused = record_and_differentiate(second, 2.0);
  EXPECT_EQ(ScalarTape::cached_memory_bytes(), 0U);  // every column came from the cache
  ScalarTape reference;
  ScalarTape::release_cached_memory();
  record_and_differentiate(reference, 2.0);
  EXPECT_EQ(second.size(), reference.size());
  for (std::uint32_t k = 0; k < second.size(); k += 97) {
    EXPECT_EQ(second.value(second.entry(k)), reference.value(reference.entry(k))) << k;
    EXPECT_EQ(second.adjoints()[k], reference.adjoints()[k]) << k;
  }
  EXPECT_EQ(second.adjoint(unused), 0.0);  // the reused adjoint block was cleared

  // Another thread's tapes fill that thread's cache, which its end frees.
  std::thread([&] {
    ScalarTape elsewhere;
    record_and_differentiate(elsewhere, 1.0);
  }).join();
  EXPECT_EQ(ScalarTape::cached_memory_bytes(), 0U);
}

TEST(ScalarTape, GrowingKeepsEntriesAndClearKeepsCapacity) {
  ScalarTape tape;
  std::vector<Scalar> recorded;
  for (int k = 0; k < 100'000; ++k) recorded.push_back(tape.variable(k));
  EXPECT_EQ(tape.size(), 100'000U);
  for (int k = 0; k < 100'000; k += 997) EXPECT_EQ(tape.value(recorded[k]), k);
  const std::size_t capacity = tape.capacity();
  tape.clear();
  EXPECT_EQ(tape.size(), 0U);
  EXPECT_EQ(tape.capacity(), capacity);
}

TEST(ScalarTape, MixingTapesThrowsAndSaysWhatToDo) {
  ScalarTape one, other;
  const Scalar a = one.variable(1), b = other.variable(2);
  const std::string message = error_message([&] { (void)(a + b); });
  EXPECT_THAT(message, HasSubstr("'add'"));
  EXPECT_THAT(message, HasSubstr("belongs to another ScalarTape"));
  EXPECT_THAT(message, HasSubstr("record every Scalar of one computation on the same tape"));
  EXPECT_THAT(error_message([&] { one.backward(b); }), HasSubstr("another ScalarTape"));
}

TEST(ScalarTape, DefaultConstructedScalarThrows) {
  const std::string message = error_message([] { (void)(Scalar{} * 2.0); });
  EXPECT_THAT(message, HasSubstr("'*'"));
  EXPECT_THAT(message, HasSubstr("default-constructed"));
  EXPECT_THAT(error_message([] { (void)sigmoid(Scalar{}); }), HasSubstr("'sigmoid'"));
}

TEST(ScalarTape, ScalarOfADestroyedTapeThrowsEvenWhenANewTapeTakesItsSlot) {
  Scalar orphan;
  {
    ScalarTape gone;
    orphan = gone.variable(1);
  }
  EXPECT_EQ(orphan.tape(), nullptr);
  EXPECT_THAT(error_message([&] { (void)(orphan + 1.0); }), HasSubstr("tape was destroyed"));
  ScalarTape successor;  // takes the freed slot, under another id
  successor.variable(5);
  EXPECT_NE(successor.id(), orphan.tape_id());
  EXPECT_EQ(orphan.tape(), nullptr);
  EXPECT_THAT(error_message([&] { (void)successor.value(orphan); }),
              HasSubstr("tape was destroyed"));
}

TEST(ScalarTape, ScalarFromBeforeClearIsOutOfRange) {
  ScalarTape tape;
  tape.variable(1);
  const Scalar late = tape.variable(2);
  tape.clear();
  tape.variable(3);
  const std::string message = error_message([&] { (void)tape.value(late); });
  EXPECT_THAT(message, HasSubstr("entry #1 but the tape holds 1 entries"));
  EXPECT_THAT(message, HasSubstr("record the value again after clear()"));
  EXPECT_THAT(error_message([&] { (void)tape.entry(7); }), HasSubstr("no entry #7"));
}

TEST(ScalarTape, AdjointBeforeBackwardThrows) {
  ScalarTape tape;
  const Scalar x = tape.variable(1);
  EXPECT_THAT(error_message([&] { (void)tape.adjoint(x); }), HasSubstr("call backward(loss)"));
  tape.backward(x);
  const Scalar y = x * 2.0;
  EXPECT_THAT(error_message([&] { (void)tape.adjoint(y); }),
              HasSubstr("recorded after the last backward()"));
}

TEST(ScalarTape, RecordingAnOpWithTheWrongArityThrows) {
  ScalarTape tape;
  const Scalar x = tape.variable(1);
  EXPECT_THAT(error_message([&] { (void)tape.unary(TapeOp::mul, x); }),
              HasSubstr("op 'mul' takes 2 arguments, not 1; record it with binary()"));
}

}  // namespace
}  // namespace dagprop
