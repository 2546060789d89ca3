// What an op is: name, arity, shape rule, forward kernels per dtype, gradient rule and
// documentation. The op registry holds one OpDef per op; built-in ops and user ops are registered
// the same way. Part of the core: ops/ builds on it.
#pragma once

#include <cstddef>
#include <cstdint>
#include <deque>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include <dagprop/attributes.hpp>
#include <dagprop/export.hpp>
#include <dagprop/expr.hpp>
#include <dagprop/node.hpp>
#include <dagprop/shape.hpp>

DAGPROP_API_BEGIN
namespace dagprop {

// An operand as a kernel sees it: bytes and shape. No allocation, no virtual call.
struct KernelArg {
  std::byte* data = nullptr;
  const Shape* shape = nullptr;

  template <class T>
  T* as() const {
    return reinterpret_cast<T*>(data);
  }
  std::int64_t numel() const { return shape->numel(); }
};

struct KernelCall {
  std::span<const KernelArg> inputs;
  KernelArg output;
  const OpAttrs& attrs;
};
using ForwardKernel = void (*)(const KernelCall&);
// Estimated nanoseconds of one core for a call with these operands (inputs, then the output), for
// ops whose time does not follow their largest operand (matmul: m * n * k).
using WorkRule = double (*)(std::span<const KernelArg> operands);

// What a shape rule sees. It returns the output shape or throws dagprop::Error naming the shapes
// and the fix; the graph adds which node it was.
struct ShapeQuery {
  std::span<const Shape> inputs;
  std::span<const DType> dtypes;
  const OpAttrs& attrs;
};
using ShapeRule = Shape (*)(const ShapeQuery&);

class GradContext;
using GradRule = void (*)(GradContext&);

// How an op's gradient is defined: a choice stated in the table, never an accident.
enum class GradKind : std::uint8_t {
  smooth,            // the rule gives the derivative (a convention at kinks is documented)
  zero,              // the derivative is zero wherever it exists (step, sign, stop_gradient)
  straight_through,  // forward is not differentiable; backward passes the gradient through
  leaf,              // inputs, parameters, constants
};

// The activation family of an op's output units, for unit health in pictures: a rectifier's unit
// is dead when it is zero on every row; a sigmoid's or tanh's saturated when it is flat on every
// row.
enum class UnitKind : std::uint8_t { none, rectifier, sigmoid, tanh };

struct OpDef {
  std::string_view name;
  int arity = 1;  // -1: any number of inputs
  ShapeRule shape = nullptr;
  ForwardKernel forward_f32 = nullptr;
  ForwardKernel forward_f64 = nullptr;
  GradRule vjp = nullptr;  // required unless grad_kind is zero or leaf
  GradKind grad_kind = GradKind::smooth;
  std::uint32_t nondifferentiable_inputs = 0;  // bit i: input i carries no gradient (class labels)
  // Scheduling and the span report: cost_per_element * kNanosecondsPerCostUnit per element of the
  // largest operand, or `work` where the op has a rule of its own.
  double cost_per_element = 1.0;
  WorkRule work = nullptr;
  std::string_view forward_doc;   // "y = 1 / (1 + exp(-x))"
  std::string_view gradient_doc;  // "dx = g * y * (1 - y)"
  std::string_view notes_doc;     // conventions, NaN cases
  // What a picture calls the inputs, one name each, separated by ", " ("numerator, denominator";
  // for an op of any number of inputs, the first ones); empty: "input 1", "input 2", ... An op
  // whose inputs commute (add, mul) says so instead: its edges need no names.
  std::string_view operand_names;
  bool commutative = false;
  UnitKind units = UnitKind::none;
  // The op's parameters by name, kind, slot, default and doc (<dagprop/attributes.hpp>). Graph
  // files, Graph::apply by name and docs/ops.md go through this table; the registry checks it.
  AttrTable attributes{};
  // Graph files before version 3 stored the raw OpAttrs fields; an op that has since moved a value
  // to another slot converts the old fields here (one_hot's class count was kept in `axis`).
  OpAttrs (*upgrade_attrs)(const OpAttrs& raw) = nullptr;

  ForwardKernel forward(DType dtype) const {
    return dtype == DType::f32 ? forward_f32 : forward_f64;
  }
};

// The attributes of an instance of `def` from named values: the declared defaults, then each
// given value, checked against its declaration. Throws Error naming the op and the attribute, and
// listing the op's attributes when a name is unknown.
OpAttrs make_attributes(const OpDef& def, std::span<const NamedAttr> named);

// Whether a built-in op's definition is complete, checked where the op unit defines it:
//   static constexpr OpDef def{...};
//   static_assert(op_definition_is_complete(def));
// An incomplete definition (a missing kernel for either dtype, no gradient rule without a declared
// zero gradient, no shape rule, no docs) is then a compile error quoting what is missing, rather
// than a throw when the first graph is made. (User ops registered at run time are checked by
// OpRegistry::add.)
consteval bool op_definition_is_complete(const OpDef& def) {
#ifdef DAGPROP_SANITIZER_BUILD
  // Sanitizer builds keep null checks, under which GCC cannot compare a function's address with
  // null at compile time (cmake/Warnings.cmake); OpRegistry's start-up check still runs there.
  return !def.name.empty();
#else
  if (def.name.empty()) throw "an op definition needs a name (OpDef::name)";
  if (def.grad_kind == GradKind::leaf) return true;
  if (def.shape == nullptr) throw "the op has no shape rule (OpDef::shape)";
  if (def.forward_f32 == nullptr) throw "the op has no float32 kernel (OpDef::forward_f32)";
  if (def.forward_f64 == nullptr) throw "the op has no float64 kernel (OpDef::forward_f64)";
  if (def.vjp == nullptr && def.grad_kind != GradKind::zero) {
    throw "the op has no gradient rule (OpDef::vjp) and does not declare grad_kind = "
          "GradKind::zero";
  }
  if (def.forward_doc.empty()) throw "the op does not document its forward formula (forward_doc)";
  if (def.gradient_doc.empty()) throw "the op does not document its derivative (gradient_doc)";
  return true;
#endif
}

// The leaves are the core's own ops and take the first ids; the built-in ops of ops/ follow (in
// the order of DAGPROP_BUILTIN_OPS, <dagprop/ops.hpp>), then the ops a program registers.
enum class LeafOp : OpId { input = 0, parameter = 1, constant = 2 };
constexpr OpId op_id(LeafOp leaf) {
  return static_cast<OpId>(leaf);
}

// The op table.
class OpRegistry {
 public:
  static OpRegistry& global();

  // Registers a user op; throws if the definition is incomplete or the name is taken.
  OpId add(const OpDef& def);
  const OpDef& operator[](OpId id) const { return defs_[id]; }
  std::optional<OpId> find(std::string_view name) const;
  OpId id_of(std::string_view name) const;  // throws, listing the known ops, if absent
  std::size_t size() const { return defs_.size(); }

 private:
  OpRegistry();
  std::deque<OpDef> defs_;  // a deque: references to definitions stay valid as ops are added
};

// What a gradient rule sees and emits. Rules build nodes of the same graph, so gradients are
// expressions that can be run, drawn and differentiated again.
class GradContext {
 public:
  GradContext(Graph& graph, NodeId node, Expr grad_output, std::span<Expr> input_grads,
              std::span<const char> wanted)
      : graph_(graph),
        node_(node),
        grad_output_(grad_output),
        input_grads_(input_grads),
        wanted_(wanted) {}

  Graph& graph() const { return graph_; }
  Expr input(int i) const;
  Expr output() const;
  Expr grad_output() const { return grad_output_; }
  const OpAttrs& attrs() const;
  int num_inputs() const { return static_cast<int>(input_grads_.size()); }
  bool wanted(int i) const { return wanted_[static_cast<std::size_t>(i)] != 0; }
  // The gradient contribution for input i; its shape must equal the input's shape.
  void set(int i, Expr grad);

 private:
  Graph& graph_;
  NodeId node_;
  Expr grad_output_;
  std::span<Expr> input_grads_;
  std::span<const char> wanted_;
};

}  // namespace dagprop
DAGPROP_API_END
