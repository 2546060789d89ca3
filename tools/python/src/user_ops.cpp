// Ops written in Python: a forward function and a gradient function on numpy arrays (like
// torch.autograd.Function), registered in the op table like any op, so they run, differentiate,
// pass gradcheck and are drawn. Each registration takes a slot: a set of kernel, shape and gradient
// rule functions instantiated for that slot, because the op table holds plain function pointers
// (no closures) and a kernel call does not say which op it runs.
#include <array>
#include <deque>
#include <string>
#include <utility>

#include "common.hpp"

namespace dagprop::python {
namespace {

constexpr std::size_t kSlots = 32;  // Python ops per process
// The notes of a Python op and of its gradient op: how tests tell them from the built-in ops.
constexpr std::string_view kNotes = "a Python op (dagprop.register_op)";
constexpr std::string_view kGradNotes = "the gradient of a Python op (dagprop.register_op)";

struct PythonOp {
  std::string name, grad_name;
  std::string forward_doc, gradient_doc, grad_forward_doc, grad_gradient_doc;
  int arity = 1;
  py::object forward, gradient, shape;  // shape: None for "the first input's shape"
  OpId grad_op = 0;
};

// Never freed: the op table refers to the names and documents for the life of the process, and
// the functions must not be released after the interpreter has shut down.
std::deque<PythonOp>& python_ops() {
  static auto* ops = new std::deque<PythonOp>();
  return *ops;
}

template <class T>
py::array copy_to_numpy(const KernelArg& arg) {
  std::vector<py::ssize_t> dims(arg.shape->dims().begin(), arg.shape->dims().end());
  py::array_t<T> a(dims);  // a copy: the function may keep its arguments after the call
  std::copy(arg.as<T>(), arg.as<T>() + arg.numel(), a.mutable_data());
  return a;
}

template <class T>
void copy_from_numpy(const PythonOp& op, const char* what, py::handle result,
                     const KernelArg& out) {
  if (!py::isinstance<py::array>(result) && !py::isinstance<py::float_>(result) &&
      !py::isinstance(result, py::module_::import("numpy").attr("generic"))) {
    throw Error("Python op '" + op.name + "': " + what + " returned a " +
                py::str(py::type::of(result).attr("__name__")).cast<std::string>() +
                ", not a numpy array");
  }
  py::array a = py::module_::import("numpy").attr("asarray")(result);
  const DType want = dtype_of<T>();
  std::vector<std::int64_t> dims(a.shape(), a.shape() + a.ndim());
  const bool right_dtype = a.dtype().kind() == 'f' && a.dtype().itemsize() == sizeof(T);
  if (!right_dtype || !(Shape(std::span<const std::int64_t>(dims)) == *out.shape)) {
    throw Error("Python op '" + op.name + "': " + what + " returned " +
                py::str(static_cast<py::handle>(a.dtype())).cast<std::string>() + " of shape " +
                py::str(a.attr("shape")).cast<std::string>() + ", but the node is " +
                std::string(dtype_name(want)) + " of shape " + out.shape->to_string() +
                " (return arrays of the inputs' dtype; give register_op a shape= rule if the "
                "output is not shaped like the first input)");
  }
  py::array_t<T, py::array::c_style | py::array::forcecast> c(a);
  std::copy(c.data(), c.data() + out.numel(), out.as<T>());
}

// A Python exception leaves the kernel as itself (pybind11 raises it again in the caller), with a
// note naming the op.
[[noreturn]] void rethrow_with_note(py::error_already_set& e, const PythonOp& op,
                                    const char* what) {
  py::object add_note = py::getattr(e.value(), "add_note", py::none());
  if (!add_note.is_none())
    add_note("raised in the " + std::string(what) + " of dagprop Python op '" + op.name + "'");
  throw;
}

template <std::size_t N, class T>
void forward_kernel(const KernelCall& call) {
  const PythonOp& op = python_ops()[N];
  py::gil_scoped_acquire gil;
  try {
    py::tuple args(call.inputs.size());
    for (std::size_t i = 0; i < call.inputs.size(); ++i) args[i] = copy_to_numpy<T>(call.inputs[i]);
    copy_from_numpy<T>(op, "forward", op.forward(*args), call.output);
  } catch (py::error_already_set& e) {
    rethrow_with_note(e, op, "forward");
  }
}

template <std::size_t N>
Shape shape_rule(const ShapeQuery& q) {
  const PythonOp& op = python_ops()[N];
  if (op.shape.is_none()) return q.inputs[0];
  py::gil_scoped_acquire gil;
  try {
    py::tuple shapes(q.inputs.size());
    for (std::size_t i = 0; i < q.inputs.size(); ++i) shapes[i] = shape_to_python(q.inputs[i]);
    return shape_from_python(op.shape(*shapes));
  } catch (py::error_already_set& e) {
    rethrow_with_note(e, op, "shape rule");
  }
}

// The gradient of input i (attrs.axis) is a node of the op's gradient op: its inputs are g, the
// output y and the op's inputs, and its kernel calls gradient(g, y, *inputs)[i].
template <std::size_t N>
void vjp(GradContext& c) {
  const PythonOp& op = python_ops()[N];
  std::vector<Expr> inputs{c.grad_output(), c.output()};
  for (int i = 0; i < c.num_inputs(); ++i) inputs.push_back(c.input(i));
  for (int i = 0; i < c.num_inputs(); ++i) {
    if (!c.wanted(i)) continue;
    OpAttrs attrs;
    attrs.axis = i;
    c.set(i, c.graph().apply(op.grad_op, inputs, attrs));
  }
}

template <std::size_t N, class T>
void grad_forward_kernel(const KernelCall& call) {
  const PythonOp& op = python_ops()[N];
  py::gil_scoped_acquire gil;
  try {
    py::tuple args(call.inputs.size());
    for (std::size_t i = 0; i < call.inputs.size(); ++i) args[i] = copy_to_numpy<T>(call.inputs[i]);
    py::object grads = op.gradient(*args);
    const auto i = static_cast<std::size_t>(call.attrs.axis);
    if (py::isinstance<py::array>(grads) && op.arity == 1) grads = py::make_tuple(grads);
    if (!py::isinstance<py::sequence>(grads) ||
        py::len(grads) != static_cast<std::size_t>(op.arity)) {
      throw Error("Python op '" + op.name + "': gradient must return one array per input (" +
                  std::to_string(op.arity) + "), got " +
                  py::str(py::type::of(grads).attr("__name__")).cast<std::string>());
    }
    py::object g = grads[py::int_(i)];
    if (g.is_none()) {  // no gradient for this input: zeros, as the function said
      std::fill(call.output.as<T>(), call.output.as<T>() + call.output.numel(), T(0));
      return;
    }
    copy_from_numpy<T>(op, "gradient", g, call.output);
  } catch (py::error_already_set& e) {
    rethrow_with_note(e, op, "gradient");
  }
}

Shape grad_shape_rule(const ShapeQuery& q) {
  return q.inputs[2 + static_cast<std::size_t>(q.attrs.axis)];
}

template <std::size_t N>
void grad_vjp(GradContext& c) {
  throw Error(c.graph().describe(c.output().id()) + ": the gradient of Python op '" +
              python_ops()[N].name +
              "' is a Python function on numpy arrays and has no gradient of its own, so second "
              "derivatives through it are not available");
}

struct SlotFunctions {
  ForwardKernel forward_f32, forward_f64, grad_f32, grad_f64;
  ShapeRule shape;
  GradRule vjp, grad_vjp;
};

template <std::size_t... N>
constexpr std::array<SlotFunctions, sizeof...(N)> make_slots(std::index_sequence<N...>) {
  return {SlotFunctions{forward_kernel<N, float>, forward_kernel<N, double>,
                        grad_forward_kernel<N, float>, grad_forward_kernel<N, double>,
                        shape_rule<N>, vjp<N>, grad_vjp<N>}...};
}
constexpr auto kSlotFunctions = make_slots(std::make_index_sequence<kSlots>{});

OpId register_python_op(const std::string& name, py::object forward, py::object gradient, int arity,
                        py::object shape, const std::string& forward_doc,
                        const std::string& gradient_doc) {
  OpRegistry& registry = OpRegistry::global();
  std::deque<PythonOp>& ops = python_ops();
  if (ops.size() >= kSlots) {
    throw Error("register_op('" + name + "'): a process holds at most " + std::to_string(kSlots) +
                " Python ops");
  }
  if (arity < 1) throw Error("register_op('" + name + "'): arity must be at least 1");
  if (registry.find(name) || registry.find(name + "_grad")) {
    throw Error("an op named '" + name + "' (or '" + name + "_grad') is already registered");
  }
  const std::size_t slot = ops.size();
  PythonOp& op = ops.emplace_back();
  op.name = name;
  op.grad_name = name + "_grad";
  op.forward_doc = forward_doc;
  op.gradient_doc = gradient_doc;
  op.grad_forward_doc = "dx_i = gradient(g, y, *inputs)[i] (Python, attrs.axis = i)";
  op.grad_gradient_doc = "not available (the gradient is a Python function on numpy arrays)";
  op.arity = arity;
  op.forward = std::move(forward);
  op.gradient = std::move(gradient);
  op.shape = std::move(shape);
  const SlotFunctions& f = kSlotFunctions[slot];
  try {
    op.grad_op = registry.add(OpDef{.name = op.grad_name,
                                    .arity = arity + 2,
                                    .shape = grad_shape_rule,
                                    .forward_f32 = f.grad_f32,
                                    .forward_f64 = f.grad_f64,
                                    .vjp = f.grad_vjp,
                                    .forward_doc = op.grad_forward_doc,
                                    .gradient_doc = op.grad_gradient_doc,
                                    .notes_doc = kGradNotes});
    return registry.add(OpDef{.name = op.name,
                              .arity = arity,
                              .shape = f.shape,
                              .forward_f32 = f.forward_f32,
                              .forward_f64 = f.forward_f64,
                              .vjp = f.vjp,
                              .forward_doc = op.forward_doc,
                              .gradient_doc = op.gradient_doc,
                              .notes_doc = kNotes});
  } catch (...) {
    ops.pop_back();
    throw;
  }
}

}  // namespace

void bind_user_ops(py::module_& m) {
  m.def("_register_op", &register_python_op, py::arg("name"), py::arg("forward"),
        py::arg("gradient"), py::arg("arity"), py::arg("shape"), py::arg("forward_doc"),
        py::arg("gradient_doc"));
}

}  // namespace dagprop::python
