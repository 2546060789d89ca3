// ScalarTape: the fast path for scalar-heavy code (float64). Operations on Scalar handles compute
// their value at once and append one entry to a flat tape; backward() sweeps the whole tape in
// reverse with one switch loop. No graph, no plan, no per-entry allocation: 17 bytes per entry
// plus 8 for its adjoint (a weighted sum: 4 more per argument index). to_graph() turns a recorded
// computation into Graph nodes for drawing and for gradients of gradients.
#pragma once

#include <algorithm>
#include <atomic>
#include <cmath>
#include <cstddef>
#include <cstdint>
#include <span>
#include <string_view>
#include <vector>

#include <dagprop/activation_formulas.hpp>
#include <dagprop/export.hpp>
#include <dagprop/expr.hpp>

DAGPROP_API_BEGIN
namespace dagprop {

class Graph;

// X(name, arity): every tape op; arity -1 for weighted_sum, whose arguments are a list. The enum,
// the name table, the reverse sweep and to_graph() are all generated from or switch over this list
// (without a default case, so -Wswitch flags a missing op), and tests/engine/scalar_tape_test.cpp
// checks each one against finite differences.
// clang-format off
#define DAGPROP_TAPE_OPS(X) \
  X(variable, 0)            \
  X(constant, 0)            \
  X(add, 2)                 \
  X(sub, 2)                 \
  X(mul, 2)                 \
  X(div, 2)                 \
  X(neg, 1)                 \
  X(exp, 1)                 \
  X(log, 1)                 \
  X(sigmoid, 1)             \
  X(tanh, 1)                \
  X(relu, 1)                \
  X(softplus, 1)            \
  X(weighted_sum, -1)
// clang-format on

enum class TapeOp : std::uint8_t {
#define DAGPROP_TAPE_OP_ENUM(name, arity) name,
  DAGPROP_TAPE_OPS(DAGPROP_TAPE_OP_ENUM)
#undef DAGPROP_TAPE_OP_ENUM
};
inline constexpr std::size_t kTapeOpCount = 0
#define DAGPROP_TAPE_OP_COUNT(name, arity) +1
    DAGPROP_TAPE_OPS(DAGPROP_TAPE_OP_COUNT)
#undef DAGPROP_TAPE_OP_COUNT
    ;
std::string_view tape_op_name(TapeOp op);
int tape_op_arity(TapeOp op);

// The unary ops' values, computed at record time. Their adjoint rules (in scalar_tape.cpp's
// reverse sweep) are stated here beside them; y is the output.
// The tape's local derivatives. sigmoid, tanh, relu and softplus: the formulas of
// <dagprop/activation_formulas.hpp>, shared with the graph's ops (sigmoid and tanh from the
// output; softplus: dx = g * sigmoid(x); relu: dx = g * (x > 0)). exp: dx = g * y. log: dx = g / x;
// log follows IEEE: log(0) = -inf, log(x < 0) = NaN, and their adjoints are infinite or NaN.
// weighted_sum, y = x[0] w[0] + ... + x[n-1] w[n-1] + b: dx[k] = g * w[k], dw[k] = g * x[k],
// db = g.

class ScalarTape;

// A handle to one tape entry, copied freely: its index, its tape's id and (a copy of) its value, 16
// bytes. The value rides along because scalar code reads its operands' values at random places of
// a long tape: from the handle that is one cache miss, from the tape's value column a second,
// dependent one (W1 at N = 1M: record+forward took 510 ns/neuron that way). The tape is named by a
// 32-bit id rather than a pointer so that a handle fills a quarter of a cache line, not 24 bytes:
// W1 reads 4 random handles per neuron from an array of a million. Valid until its tape is cleared
// or destroyed; a stale handle is an error, not a wrong answer.
class Scalar {
 public:
  Scalar() = default;
  // The tape that recorded this Scalar; null for a default-constructed one or a destroyed tape.
  ScalarTape* tape() const;
  std::uint32_t tape_id() const { return tape_id_; }  // 0 for a default-constructed Scalar
  std::uint32_t index() const { return index_; }
  double value() const;  // throws for a default-constructed Scalar

 private:
  friend class ScalarTape;
  Scalar(std::uint32_t tape_id, std::uint32_t index, double value)
      : index_(index), tape_id_(tape_id), value_(value) {}
  std::uint32_t index_ = 0;
  std::uint32_t tape_id_ = 0;  // 0: no tape
  double value_ = 0;
};
static_assert(sizeof(Scalar) == 16);

// The nodes that to_graph() built: the output, and per tape entry up to the output the node it
// became (an invalid Expr where the output does not depend on the entry).
struct TapeGraph {
  Expr output;
  std::vector<Expr> nodes;
  Expr node(Scalar entry) const;  // throws if the entry was not exported
};

class ScalarTape {
 public:
  // Registers the tape under a fresh id (at most 65,536 tapes live at once).
  ScalarTape();
  ~ScalarTape();
  ScalarTape(const ScalarTape&) = delete;
  ScalarTape& operator=(const ScalarTape&) = delete;
  std::uint32_t id() const { return id_; }

  // ---- recording (inline: the hot path of scalar code)
  Scalar variable(double value) { return {id_, push(TapeOp::variable, 0, 0, value), value}; }
  Scalar constant(double value) { return {id_, push(TapeOp::constant, 0, 0, value), value}; }
  Scalar unary(TapeOp op, Scalar x);
  Scalar binary(TapeOp op, Scalar a, Scalar b);
  // x[0] w[0] + x[1] w[1] + ... + x[n-1] w[n-1] + b, the products added left to right and b last
  // (as the graph's weighted_sum), without fused multiply-adds: the neuron's weighted sum as ONE
  // entry holding 2n + 1 argument indices, where * and + would record 2n entries. x and w have the
  // same length n >= 1; an operand may appear more than once.
  Scalar weighted_sum(std::span<const Scalar> x, std::span<const Scalar> w, Scalar b);

  // Room for `entries` entries and `weighted_sum_arguments` argument indices of weighted sums (2n +
  // 1 each) in total without growing. Growth otherwise doubles the capacity with realloc, which for
  // large columns (glibc: mmap'd blocks) moves pages instead of copying them.
  void reserve(std::size_t entries, std::size_t weighted_sum_arguments = 0);
  std::size_t size() const { return size_; }
  std::size_t capacity() const { return capacity_; }
  // Forgets every entry (every Scalar of this tape becomes stale); keeps the memory for reuse.
  void clear() {
    size_ = 0;
    adjoint_size_ = 0;
    arguments_size_ = 0;
  }
  // Bytes held: the capacity of every column, the adjoints included.
  std::size_t memory_bytes() const;
  // A destroyed tape's large columns (64 KiB and more) are kept for the next tape recorded on the
  // same thread, as Stan Math keeps its arena: recording a new tape per evaluation then reuses
  // memory instead of faulting in fresh pages. At most 8 blocks per thread; freed at thread exit
  // or by release_cached_memory().
  static void release_cached_memory();
  static std::size_t cached_memory_bytes();  // this thread's

  // ---- values and gradients
  double value(Scalar x) const { return values_[checked(x, "value")]; }
  // Sweeps the WHOLE tape from the end to the start (like ADOL-C and Stan: no pruning of entries
  // the loss does not depend on; their adjoints stay 0), seeding d loss / d loss = 1. The adjoint
  // array is the tape's own and reused: a second backward() of a tape no larger allocates nothing.
  // An entry whose adjoint is exactly 0 passes nothing on, so an infinite local derivative (log at
  // 0) off the loss's paths does not turn into NaN.
  void backward(Scalar loss);
  // d loss / d x from the last backward(); throws if no backward() has covered x.
  double adjoint(Scalar x) const;
  std::span<const double> adjoints() const { return {adjoints_, adjoint_size_}; }

  // ---- raw entries (for tools and tests)
  TapeOp op(std::uint32_t entry) const { return ops_[entry]; }
  std::uint32_t first_argument(std::uint32_t entry) const { return first_[entry]; }
  std::uint32_t second_argument(std::uint32_t entry) const { return second_[entry]; }
  // A weighted_sum entry's arguments: x[0..n), w[0..n), b (empty for other ops).
  std::span<const std::uint32_t> weighted_sum_arguments(std::uint32_t entry) const;
  // A handle to entry `index` of this tape (throws if out of range).
  Scalar entry(std::size_t index);

  // Rebuilds the entries `output` depends on as Graph nodes (variables become parameters "v<entry>"
  // holding their values, constants constants, ops the graph's builtin ops), in one forward pass
  // over the tape, which is already in topological order.
  TapeGraph to_graph(Graph& graph, Scalar output) const;

 private:
  std::uint32_t push(TapeOp op, std::uint32_t a, std::uint32_t b, double value) {
    if (size_ == capacity_) [[unlikely]]
      grow();
    ops_[size_] = op;
    first_[size_] = a;
    second_[size_] = b;
    values_[size_] = value;
    return static_cast<std::uint32_t>(size_++);
  }
  // The index of x on this tape; throws (naming `what`) if x belongs elsewhere or is stale.
  std::uint32_t checked(Scalar x, std::string_view what) const {
    if (x.tape_id_ != id_ || x.index_ >= size_) [[unlikely]]
      throw_foreign(x, what);
    return x.index_;
  }
  std::uint32_t checked(Scalar x, TapeOp op) const {
    if (x.tape_id_ != id_ || x.index_ >= size_) [[unlikely]]
      throw_foreign(x, tape_op_name(op));
    return x.index_;
  }
  [[noreturn]] void throw_foreign(Scalar x, std::string_view what) const;
  void grow();
  void grow_arguments(std::size_t needed);

  // Structure of arrays, all of capacity_ entries; TapeOp (not uint8_t) so that stores to it do not
  // alias the other columns for the optimizer. A weighted_sum entry's first_ is the offset of its
  // argument list in arguments_, its second_ the length n.
  std::uint32_t id_ = 0;
  TapeOp* ops_ = nullptr;
  std::uint32_t* first_ = nullptr;
  std::uint32_t* second_ = nullptr;
  double* values_ = nullptr;
  double* adjoints_ = nullptr;  // adjoint_capacity_ entries; the first adjoint_size_ are valid
  std::uint32_t* arguments_ = nullptr;
  std::size_t size_ = 0;
  std::size_t capacity_ = 0;
  std::size_t adjoint_size_ = 0;
  std::size_t adjoint_capacity_ = 0;
  std::size_t arguments_size_ = 0;
  std::size_t arguments_capacity_ = 0;
};

namespace tape_detail {
// Live tapes by the low 16 bits of their id (the high 16 count the reuses of a slot).
inline constexpr std::uint32_t kTapeSlots = std::uint32_t{1} << 16;
extern std::atomic<ScalarTape*> live_tapes[kTapeSlots];
inline ScalarTape* find_tape(std::uint32_t id) {
  ScalarTape* tape = live_tapes[id & (kTapeSlots - 1)].load(std::memory_order_acquire);
  return tape != nullptr && tape->id() == id ? tape : nullptr;
}
[[noreturn]] void throw_no_tape(std::string_view what, bool default_constructed);
[[noreturn]] void throw_wrong_arity(TapeOp op, int arity);
[[noreturn]] void throw_weighted_sum_lengths(std::size_t x_length, std::size_t w_length);
// The tape a Scalar operand records on; throws for a default-constructed Scalar or one whose tape
// was destroyed.
inline ScalarTape& tape_of(Scalar x, std::string_view what) {
  ScalarTape* tape = x.tape();
  if (tape == nullptr) [[unlikely]]
    throw_no_tape(what, x.tape_id() == 0);
  return *tape;
}
}  // namespace tape_detail

inline ScalarTape* Scalar::tape() const {
  return tape_id_ == 0 ? nullptr : tape_detail::find_tape(tape_id_);
}

inline double Scalar::value() const {
  tape_detail::tape_of(*this, "value");
  return value_;
}

inline Scalar ScalarTape::unary(TapeOp op, Scalar x) {
  const std::uint32_t i = checked(x, op);
  const double v = x.value_;
  double y = 0;
  switch (op) {
    case TapeOp::neg:
      y = -v;
      break;
    case TapeOp::exp:
      y = std::exp(v);
      break;
    case TapeOp::log:
      y = std::log(v);
      break;
    case TapeOp::sigmoid:
      y = formulas::sigmoid(v);
      break;
    case TapeOp::tanh:
      y = std::tanh(v);
      break;
    case TapeOp::relu:
      y = formulas::relu(v);
      break;
    case TapeOp::softplus:
      y = formulas::softplus(v);
      break;
    case TapeOp::variable:
    case TapeOp::constant:
    case TapeOp::add:
    case TapeOp::sub:
    case TapeOp::mul:
    case TapeOp::div:
    case TapeOp::weighted_sum:
      tape_detail::throw_wrong_arity(op, 1);
  }
  return {id_, push(op, i, 0, y), y};
}

inline Scalar ScalarTape::binary(TapeOp op, Scalar a, Scalar b) {
  const std::uint32_t i = checked(a, op);
  const std::uint32_t j = checked(b, op);
  const double x = a.value_, y = b.value_;
  double z = 0;
  switch (op) {
    case TapeOp::add:
      z = x + y;
      break;
    case TapeOp::sub:
      z = x - y;
      break;
    case TapeOp::mul:
      z = x * y;
      break;
    case TapeOp::div:
      z = x / y;
      break;
    case TapeOp::variable:
    case TapeOp::constant:
    case TapeOp::neg:
    case TapeOp::exp:
    case TapeOp::log:
    case TapeOp::sigmoid:
    case TapeOp::tanh:
    case TapeOp::relu:
    case TapeOp::softplus:
    case TapeOp::weighted_sum:
      tape_detail::throw_wrong_arity(op, 2);
  }
  return {id_, push(op, i, j, z), z};
}

inline Scalar ScalarTape::weighted_sum(std::span<const Scalar> x, std::span<const Scalar> w,
                                       Scalar b) {
  const std::size_t n = x.size();
  if (n != w.size() || n == 0) [[unlikely]]
    tape_detail::throw_weighted_sum_lengths(n, w.size());
  const std::size_t needed = arguments_size_ + 2 * n + 1;
  if (needed > arguments_capacity_) [[unlikely]]
    grow_arguments(needed);
  std::uint32_t* argument = arguments_ + arguments_size_;
  double y = x[0].value_ * w[0].value_;
  argument[0] = checked(x[0], TapeOp::weighted_sum);
  argument[n] = checked(w[0], TapeOp::weighted_sum);
  for (std::size_t k = 1; k < n; ++k) {
    y = y + x[k].value_ * w[k].value_;
    argument[k] = checked(x[k], TapeOp::weighted_sum);
    argument[n + k] = checked(w[k], TapeOp::weighted_sum);
  }
  y = y + b.value_;
  argument[2 * n] = checked(b, TapeOp::weighted_sum);
  const auto offset = static_cast<std::uint32_t>(arguments_size_);
  arguments_size_ = needed;
  return {id_, push(TapeOp::weighted_sum, offset, static_cast<std::uint32_t>(n), y), y};
}

// ---- operators and functions: the operand's tape records them; a double becomes a constant entry.
#define DAGPROP_TAPE_BINARY_OPERATOR(symbol, op)                      \
  inline Scalar operator symbol(Scalar a, Scalar b) {                 \
    return tape_detail::tape_of(a, #symbol).binary(TapeOp::op, a, b); \
  }                                                                   \
  inline Scalar operator symbol(Scalar a, double b) {                 \
    ScalarTape& tape = tape_detail::tape_of(a, #symbol);              \
    return tape.binary(TapeOp::op, a, tape.constant(b));              \
  }                                                                   \
  inline Scalar operator symbol(double a, Scalar b) {                 \
    ScalarTape& tape = tape_detail::tape_of(b, #symbol);              \
    return tape.binary(TapeOp::op, tape.constant(a), b);              \
  }                                                                   \
  inline Scalar& operator symbol##=(Scalar& a, Scalar b) {            \
    return a = a symbol b;                                            \
  }                                                                   \
  inline Scalar& operator symbol##=(Scalar& a, double b) {            \
    return a = a symbol b;                                            \
  }
DAGPROP_TAPE_BINARY_OPERATOR(+, add)
DAGPROP_TAPE_BINARY_OPERATOR(-, sub)
DAGPROP_TAPE_BINARY_OPERATOR(*, mul)
DAGPROP_TAPE_BINARY_OPERATOR(/, div)
#undef DAGPROP_TAPE_BINARY_OPERATOR

#define DAGPROP_TAPE_UNARY_FUNCTION(name)                         \
  inline Scalar name(Scalar x) {                                  \
    return tape_detail::tape_of(x, #name).unary(TapeOp::name, x); \
  }
DAGPROP_TAPE_UNARY_FUNCTION(neg)
DAGPROP_TAPE_UNARY_FUNCTION(exp)
DAGPROP_TAPE_UNARY_FUNCTION(log)
DAGPROP_TAPE_UNARY_FUNCTION(sigmoid)
DAGPROP_TAPE_UNARY_FUNCTION(tanh)
DAGPROP_TAPE_UNARY_FUNCTION(relu)
DAGPROP_TAPE_UNARY_FUNCTION(softplus)
#undef DAGPROP_TAPE_UNARY_FUNCTION
// x[0] w[0] + ... + x[n-1] w[n-1] + b on b's tape (see ScalarTape::weighted_sum).
inline Scalar weighted_sum(std::span<const Scalar> x, std::span<const Scalar> w, Scalar b) {
  return tape_detail::tape_of(b, "weighted_sum").weighted_sum(x, w, b);
}
inline Scalar operator-(Scalar x) {
  return neg(x);
}

}  // namespace dagprop
DAGPROP_API_END
