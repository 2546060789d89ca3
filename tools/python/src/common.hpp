// What the module's files share: the Python-side Graph (a dagprop::Graph that expressions and numpy
// views keep alive), the Python-side Expr, and the conversions between numpy and dagprop tensors.
#pragma once

#include <pybind11/numpy.h>
#include <pybind11/pybind11.h>
#include <pybind11/stl.h>

#include <atomic>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include <dagprop/dagprop.hpp>

namespace dagprop::python {

namespace py = pybind11;

// A Graph as Python holds it: by shared_ptr, so every Expr, every numpy view of a value or gradient
// and every optimizer keeps it alive (the C++ Graph dies with the last of them, not with the Python
// Graph object). `busy` is set while run/backward/render work without the GIL: another Python
// thread must not grow or read the graph meanwhile (growing reallocates the node arrays the
// executor reads), so it gets an Error instead of a crash.
struct PyGraph {
  PyGraph() : PyGraph(std::make_unique<Graph>()) {}
  // A graph made elsewhere (a graph file's): the Graph never moves, so expressions stay valid.
  explicit PyGraph(std::unique_ptr<Graph> made) : owned(std::move(made)), graph(*owned) {
    live.fetch_add(1);
  }
  // A graph that lives inside another object (a Trainer's): `keeper` keeps that object alive.
  PyGraph(Graph& borrowed, std::shared_ptr<void> kept) : keeper(std::move(kept)), graph(borrowed) {
    live.fetch_add(1);
  }
  ~PyGraph() { live.fetch_sub(1); }
  PyGraph(const PyGraph&) = delete;
  PyGraph& operator=(const PyGraph&) = delete;

  // The graph, for work done with the GIL held; throws while another thread runs it.
  Graph& get();

  std::unique_ptr<Graph> owned;
  std::shared_ptr<void> keeper;
  Graph& graph;
  std::atomic<bool> busy{false};
  // Graphs alive in this process: the keep-alive tests count them.
  static inline std::atomic<long> live{0};
};
using GraphPtr = std::shared_ptr<PyGraph>;

// Marks a graph busy for the duration of a call that releases the GIL; a second call on the same
// graph from another thread meanwhile is refused with an Error.
class BusyGraph {
 public:
  explicit BusyGraph(PyGraph& graph);
  ~BusyGraph() { graph_.busy.store(false); }
  BusyGraph(const BusyGraph&) = delete;
  BusyGraph& operator=(const BusyGraph&) = delete;

 private:
  PyGraph& graph_;
};

// An expression as Python holds it: the node and the graph it belongs to.
struct PyExpr {
  GraphPtr owner;
  Expr expr;
};

PyExpr wrap(const GraphPtr& owner, Expr e);
std::vector<Expr> unwrap(const std::vector<PyExpr>& exprs);

// ---- dtypes and shapes (tensors.cpp)
DType dtype_from_python(py::handle dtype);  // np.float32, "float64", np.dtype(...); Error otherwise
py::dtype dtype_to_python(DType dtype);
Shape shape_from_python(py::handle shape);  // a tuple or list of ints, or an int
py::tuple shape_to_python(const Shape& shape);

// A numpy array over dagprop's memory, without a copy; the array keeps `owner` alive.
py::array view_as_array(const TensorView& view, const GraphPtr& owner);
// A numpy array over dagprop's memory that keeps `owner` (any Python object) alive.
py::array view_kept_by(const TensorView& view, py::object owner);
// A numpy array that owns a tensor's elements (moved, not copied).
py::array tensor_as_array(Tensor tensor);

// A TensorView over a Python value: the array's own buffer when it is a C-contiguous, aligned
// float32/float64 ndarray, else one converted copy (held in `array`, which must outlive `view`).
struct BorrowedTensor {
  py::array array;
  TensorView view;
  bool copied = false;
};
// `dtype`: convert to it (parameters, constants); nullopt: keep a float array's dtype, float64 for
// anything else (Python numbers, lists, integer arrays).
BorrowedTensor borrow_tensor(py::handle value, std::optional<DType> dtype);
// A feed for `input`: a float ndarray is passed as it is (the graph checks its dtype and shape and
// names the input); a Python number or list becomes the input's dtype; other array dtypes are
// refused naming the input.
BorrowedTensor borrow_feed(const Graph& graph, Expr input, py::handle value);

// Holds a Python object for the engine (a borrowed feed's array): released with the GIL.
std::shared_ptr<const void> keep_alive(py::object object);

// The feeds of a run: {expr: array}. `keep` holds the arrays (or their copies) during the run.
struct Feeds {
  std::vector<Feed> feeds;
  std::vector<py::array> keep;
};
Feeds feeds_from_python(const PyGraph& graph, py::handle feeds);

// A Python operand as an expression of `like`'s graph: an Expr as it is, a number or array as a
// constant of like's dtype. nullopt for anything else (operators then return NotImplemented).
std::optional<PyExpr> as_expr(const PyExpr& like, py::handle value);

// (features [n, d], labels [n]) numpy arrays as a Dataset, copied as float32 (data.cpp); its
// num_classes is the largest label plus one. `name` names it in messages.
data::Dataset dataset_from_python(py::handle set, const std::string& name);

// ---- the module's parts, one per file
void bind_tensors(py::module_& m);
void bind_graph(py::module_& m, py::class_<PyGraph, GraphPtr>& graph, py::class_<PyExpr>& expr);
void bind_autodiff(py::module_& m);
void bind_ops(py::module_& m);
void bind_nn(py::module_& m);
void bind_layers(py::module_& nn_module);   // layers.cpp
void bind_trainer(py::module_& nn_module);  // trainer.cpp
void bind_scalar_tape(py::module_& m);
void bind_pictures(py::module_& m, py::class_<PyGraph, GraphPtr>& graph);
void bind_graph_files(py::module_& m, py::class_<PyGraph, GraphPtr>& graph);
void bind_user_ops(py::module_& m);
void bind_data(py::module_& m);
void bind_functions(py::module_& m, py::class_<PyGraph, GraphPtr>& graph);

}  // namespace dagprop::python
