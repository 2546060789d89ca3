// Datasets as numpy arrays: Fashion-MNIST from Debian's dataset-fashion-mnist, the generated sets
// (xor, moons, circles, spirals) and CSV files. The arrays own the loaders' tensors (moved, not
// copied).
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
      "load_csv", [](const std::string& path) { return as_arrays(data::load_csv(path)); },
      py::arg("path"), "(features, labels) of a CSV file (the last column is the class).");
}

}  // namespace dagprop::python
