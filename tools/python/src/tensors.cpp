// numpy in and out: dtypes, shapes, views of dagprop's memory and borrowed buffers for feeds.
#include <cstdint>
#include <string>
#include <utility>

#include "common.hpp"

namespace dagprop::python {

Graph& PyGraph::get() {
  if (busy.load()) {
    throw Error(
        "this Graph is busy in another thread (run, backward or render); wait for that call to "
        "return before using the graph again");
  }
  return graph;
}

BusyGraph::BusyGraph(PyGraph& graph) : graph_(graph) {
  if (graph.busy.exchange(true)) {
    throw Error(
        "this Graph is already running in another thread; a graph runs one call at a time (build "
        "one Graph per thread)");
  }
}

PyExpr wrap(const GraphPtr& owner, Expr e) {
  return PyExpr{owner, e};
}

std::vector<Expr> unwrap(const std::vector<PyExpr>& exprs) {
  std::vector<Expr> out;
  out.reserve(exprs.size());
  for (const PyExpr& e : exprs) out.push_back(e.expr);
  return out;
}

DType dtype_from_python(py::handle dtype) {
  const py::dtype dt = py::dtype::from_args(py::reinterpret_borrow<py::object>(dtype));
  if (dt.kind() == 'f' && dt.itemsize() == 4) return DType::f32;
  if (dt.kind() == 'f' && dt.itemsize() == 8) return DType::f64;
  throw Error("dagprop computes in float32 or float64, got dtype " +
              py::str(static_cast<py::handle>(dt)).cast<std::string>());
}

py::dtype dtype_to_python(DType dtype) {
  return dtype == DType::f32 ? py::dtype::of<float>() : py::dtype::of<double>();
}

Shape shape_from_python(py::handle shape) {
  if (py::isinstance<py::int_>(shape)) return Shape{shape.cast<std::int64_t>()};
  std::vector<std::int64_t> dims;
  for (py::handle d : py::iter(shape)) dims.push_back(d.cast<std::int64_t>());
  return Shape(std::span<const std::int64_t>(dims));
}

py::tuple shape_to_python(const Shape& shape) {
  py::tuple t(static_cast<std::size_t>(shape.rank()));
  for (int i = 0; i < shape.rank(); ++i) t[static_cast<std::size_t>(i)] = py::int_(shape[i]);
  return t;
}

namespace {

std::vector<py::ssize_t> dims_of(const Shape& shape) {
  return {shape.dims().begin(), shape.dims().end()};
}
std::vector<py::ssize_t> byte_strides_of(const Shape& shape, DType dtype) {
  const auto strides = strides_of(shape);
  std::vector<py::ssize_t> bytes(static_cast<std::size_t>(shape.rank()));
  for (int i = 0; i < shape.rank(); ++i) {
    bytes[static_cast<std::size_t>(i)] = static_cast<py::ssize_t>(
        strides[static_cast<std::size_t>(i)] * static_cast<std::int64_t>(dtype_size(dtype)));
  }
  return bytes;
}

py::array array_over(const TensorView& view, py::capsule base) {
  return py::array(dtype_to_python(view.dtype()), dims_of(view.shape()),
                   byte_strides_of(view.shape(), view.dtype()), view.raw(), base);
}

py::module_ numpy() {
  return py::module_::import("numpy");
}

BorrowedTensor borrow_array(py::array array, bool copied) {
  // np.require returns the array itself when it already is C-contiguous and aligned: the view below
  // is then of the caller's own buffer.
  py::object required = numpy().attr("require")(array, py::none(), "CA");
  if (!required.is(array)) copied = true;
  py::array a = py::reinterpret_borrow<py::array>(required);
  std::vector<std::int64_t> dims(a.shape(), a.shape() + a.ndim());
  const Shape shape{std::span<const std::int64_t>(dims)};
  const DType dtype = dtype_from_python(a.dtype());
  // mutable_data would refuse a read-only array; dagprop only reads what it borrows.
  TensorView view(const_cast<void*>(a.data()), shape, dtype);
  return {a, view, copied};
}

}  // namespace

py::array view_kept_by(const TensorView& view, py::object owner) {
  auto* keep = new py::object(std::move(owner));
  py::capsule base(keep, [](void* p) { delete static_cast<py::object*>(p); });
  return array_over(view, base);
}

py::array view_as_array(const TensorView& view, const GraphPtr& owner) {
  auto* keep = new GraphPtr(owner);
  py::capsule base(keep, [](void* p) { delete static_cast<GraphPtr*>(p); });
  return array_over(view, base);
}

py::array tensor_as_array(Tensor tensor) {
  auto* owned = new Tensor(std::move(tensor));
  py::capsule base(owned, [](void* p) { delete static_cast<Tensor*>(p); });
  return array_over(owned->view(), base);
}

BorrowedTensor borrow_tensor(py::handle value, std::optional<DType> dtype) {
  if (py::isinstance<py::array>(value)) {
    py::array a = py::reinterpret_borrow<py::array>(value);
    const py::dtype dt = a.dtype();
    const bool is_float = dt.kind() == 'f' && (dt.itemsize() == 4 || dt.itemsize() == 8);
    if (is_float && (!dtype || dtype_from_python(dt) == *dtype)) return borrow_array(a, false);
    const DType target = dtype.value_or(DType::f64);
    return borrow_array(a.attr("astype")(dtype_to_python(target)), true);
  }
  // Numbers, numpy scalars, nested lists: numpy converts them (a numpy float32 scalar stays float32
  // unless a dtype is asked for).
  py::object converted = numpy().attr("asarray")(value);
  py::array a = py::reinterpret_borrow<py::array>(converted);
  const py::dtype dt = a.dtype();
  const bool is_float = dt.kind() == 'f' && (dt.itemsize() == 4 || dt.itemsize() == 8);
  if (dt.kind() == 'O' || dt.kind() == 'U' || dt.kind() == 'S') {
    throw Error("cannot make a tensor of a " +
                py::str(py::type::of(value).attr("__name__")).cast<std::string>() +
                "; pass a number, a list of numbers or a numpy array");
  }
  if (!is_float || (dtype && dtype_from_python(dt) != *dtype)) {
    a = a.attr("astype")(dtype_to_python(dtype.value_or(DType::f64)));
  }
  return borrow_array(a, true);
}

std::shared_ptr<const void> keep_alive(py::object object) {
  // Released by the engine, possibly while this thread runs without the GIL (a plan's next run
  // drops the last run's feeds): the reference is dropped holding the GIL, and not at all once the
  // interpreter is gone.
  return std::shared_ptr<const void>(new py::object(std::move(object)), [](const void* p) {
    auto* kept = static_cast<py::object*>(const_cast<void*>(p));
    if (Py_IsInitialized() == 0) return;
    const py::gil_scoped_acquire gil;
    delete kept;
  });
}

BorrowedTensor borrow_feed(const Graph& graph, Expr input, py::handle value) {
  const DType want = graph.node(input.id()).dtype;
  if (py::isinstance<py::array>(value)) {
    py::array a = py::reinterpret_borrow<py::array>(value);
    const py::dtype dt = a.dtype();
    if (!(dt.kind() == 'f' && (dt.itemsize() == 4 || dt.itemsize() == 8))) {
      throw Error("input " + graph.describe(input.id()) + " was fed a numpy array of dtype " +
                  py::str(static_cast<py::handle>(dt)).cast<std::string>() + "; feed " +
                  std::string(dtype_name(want)) + " (array.astype(numpy." +
                  std::string(dtype_name(want)) + "))");
    }
    // A float array of the other dtype passes through: run() refuses it naming both dtypes.
    return borrow_array(a, false);
  }
  return borrow_tensor(value, want);
}

Feeds feeds_from_python(const PyGraph& graph, py::handle feeds) {
  Feeds out;
  if (feeds.is_none()) return out;
  if (!py::isinstance<py::dict>(feeds)) {
    throw py::type_error("feeds must be a dict {input: array}, got " +
                         py::str(py::type::of(feeds).attr("__name__")).cast<std::string>());
  }
  for (auto [key, value] : py::reinterpret_borrow<py::dict>(feeds)) {
    if (!py::isinstance<PyExpr>(key)) {
      throw py::type_error("feeds are keyed by the input expressions (graph.input(...)), got a " +
                           py::str(py::type::of(key).attr("__name__")).cast<std::string>());
    }
    const PyExpr& input = key.cast<const PyExpr&>();
    if (input.owner.get() != &graph) {
      throw Error("feed: " + input.owner->graph.describe(input.expr.id()) +
                  " belongs to another Graph");
    }
    // Integer class indices for an input of labels (Graph.labels): passed as they are, checked and
    // converted by the engine as it copies them in.
    if (graph.graph.num_classes_of(input.expr.id()) > 0 && py::isinstance<py::array>(value)) {
      py::array a = py::reinterpret_borrow<py::array>(value);
      const char kind = a.dtype().kind();
      if (kind == 'i' || kind == 'u') {
        py::array indices = numpy().attr("ascontiguousarray")(a, numpy().attr("int64"));
        const auto* first = static_cast<const std::int64_t*>(indices.data());
        out.feeds.push_back(Feed::classes(
            input.expr,
            std::span<const std::int64_t>(first, static_cast<std::size_t>(indices.size()))));
        out.keep.push_back(std::move(indices));
        continue;
      }
    }
    // The run reads the array where it lies (the caller's own buffer when it is C-contiguous and
    // aligned, else the one copy np.require made), and the plan keeps it alive until its next run.
    BorrowedTensor borrowed = borrow_feed(graph.graph, input.expr, value);
    out.feeds.push_back(Feed::borrowed(input.expr, borrowed.view, keep_alive(borrowed.array)));
    out.keep.push_back(std::move(borrowed.array));
  }
  return out;
}

std::optional<PyExpr> as_expr(const PyExpr& like, py::handle value) {
  if (py::isinstance<PyExpr>(value)) return value.cast<PyExpr>();
  Graph& g = like.owner->get();
  const DType dtype = like.expr.dtype();
  if (py::isinstance<py::float_>(value) || py::isinstance<py::int_>(value)) {
    return wrap(like.owner, g.constant(value.cast<double>(), dtype));
  }
  const bool numpy_value = py::isinstance<py::array>(value) ||
                           py::isinstance(value, numpy().attr("generic")) ||
                           py::isinstance<py::list>(value) || py::isinstance<py::tuple>(value);
  if (!numpy_value) return std::nullopt;
  // An array beside an expression becomes a constant of the expression's dtype, as a Python float
  // does (numpy's own promotion would mix dtypes, which no op accepts).
  const BorrowedTensor t = borrow_tensor(value, dtype);
  return wrap(like.owner, g.constant(t.view));
}

void bind_tensors(py::module_& m) {
  m.def(
      "_live_graphs", [] { return PyGraph::live.load(); },
      "How many C++ graphs are alive (for the keep-alive tests).");
}

}  // namespace dagprop::python
