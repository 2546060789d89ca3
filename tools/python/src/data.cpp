// Datasets as numpy arrays: Fashion-MNIST from Debian's dataset-fashion-mnist, the generated sets
// (xor, moons, circles, spirals) and CSV files. The arrays own the loaders' tensors (moved, not
// copied).
#include <algorithm>
#include <string>
#include <utility>

#include <dagprop/data/csv.hpp>
#include <dagprop/data/fashion_mnist.hpp>
#include <dagprop/data/synthetic.hpp>

#include "common.hpp"

namespace dagprop::python {
namespace {

// (features [n, d] float32, labels [n] float32 class indices)
py::tuple as_arrays(data::Dataset dataset) {
  return py::make_tuple(tensor_as_array(std::move(dataset.features)),
                        tensor_as_array(std::move(dataset.labels)));
}

}  // namespace

data::Dataset dataset_from_python(py::handle set, const std::string& name) {
  if (!py::isinstance<py::tuple>(set) || py::len(set) != 2) {
    throw Error("dataset '" + name + "': pass a tuple (features [n, d], labels [n]) of arrays");
  }
  using Floats = py::array_t<float, py::array::c_style | py::array::forcecast>;
  const py::handle features_obj = set[py::int_(0)], labels_obj = set[py::int_(1)];
  const Floats features = Floats::ensure(features_obj), labels = Floats::ensure(labels_obj);
  if (!features || !labels || features.ndim() != 2 || labels.ndim() != 1 ||
      labels.shape(0) != features.shape(0)) {
    PyErr_Clear();  // ensure() leaves numpy's conversion error set
    throw Error("dataset '" + name + "': features must be a numeric array [n, d] and labels [n] " +
                "with the same n; got " + py::str(py::type::of(features_obj)).cast<std::string>() +
                " and " + py::str(py::type::of(labels_obj)).cast<std::string>() +
                (features && labels
                     ? " of shapes " + py::str(features_obj.attr("shape")).cast<std::string>() +
                           " and " + py::str(labels_obj.attr("shape")).cast<std::string>()
                     : std::string()));
  }
  data::Dataset d;
  d.name = name;
  const std::int64_t n = features.shape(0), width = features.shape(1);
  d.features = Tensor(Shape{n, width}, DType::f32);
  d.labels = Tensor(Shape{n}, DType::f32);
  std::copy_n(features.data(), n * width, d.features.data<float>());
  std::copy_n(labels.data(), n, d.labels.data<float>());
  float largest = -1.0F;
  for (std::int64_t i = 0; i < n; ++i) largest = std::max(largest, labels.data()[i]);
  d.num_classes = static_cast<std::int64_t>(largest) + 1;
  return d;
}

void bind_data(py::module_& m) {
  py::module_ d = m.def_submodule("data", "Datasets as numpy arrays");
  d.def(
      "fashion_mnist",
      [](const std::string& directory) {
        data::TrainTest sets;
        {
          py::gil_scoped_release release;  // decompressing 70,000 images takes a moment
          sets = data::load_fashion_mnist(directory);
        }
        return py::make_tuple(as_arrays(std::move(sets.train)), as_arrays(std::move(sets.test)));
      },
      py::arg("directory") = std::string(data::kFashionMnistDirectory),
      "((x_train, y_train), (x_test, y_test)): images as float32 rows of 784 pixels, labels as "
      "float32 class indices 0..9 (cross_entropy takes float labels). From Debian's "
      "dataset-fashion-mnist; a missing directory is a dagprop.Error naming the package.");
  d.def(
      "synthetic",
      [](const std::string& name, std::int64_t samples, double noise, std::uint64_t seed) {
        data::SyntheticOptions options;
        options.samples = samples;
        options.noise = noise;
        options.seed = seed;
        return as_arrays(data::make_synthetic(name, options));
      },
      py::arg("name"), py::arg("samples") = 1000, py::arg("noise") = 0.1, py::arg("seed") = 1,
      "(features [n, 2], labels [n]) of a generated set: xor, moons, circles or spirals.");
  d.def(
      "split",
      [](py::handle set, double fraction, std::uint64_t seed) {
        auto [rest, held_out] = data::split(dataset_from_python(set, "split"), fraction, seed);
        return py::make_tuple(as_arrays(std::move(rest)), as_arrays(std::move(held_out)));
      },
      py::arg("data"), py::arg("fraction"), py::arg("seed") = 1,
      "(rest, held_out): the rows shuffled with seed, round(fraction n) of them held out, as "
      "`dagprop train` splits a generated set or a CSV file.");
  d.def(
      "standardize",
      [](py::handle train, py::args others) {
        data::Dataset fitted = dataset_from_python(train, "standardize");
        const data::Standardizer s = data::Standardizer::fit(fitted);
        s.apply(fitted);
        py::list out;
        out.append(as_arrays(std::move(fitted)));
        for (py::handle other : others) {
          data::Dataset applied = dataset_from_python(other, "standardize");
          s.apply(applied);
          out.append(as_arrays(std::move(applied)));
        }
        return py::tuple(out);
      },
      py::arg("train"),
      "Each feature centred and scaled with the training set's mean and deviation, applied to "
      "train and to every other set given: a tuple of (features, labels).");
  d.def(
      "load_csv", [](const std::string& path) { return as_arrays(data::load_csv(path)); },
      py::arg("path"), "(features, labels) of a CSV file (the last column is the class).");
}

}  // namespace dagprop::python
