// Finding and reading the Fashion-MNIST files; a missing file says which package to install.
#include <dagprop/data/fashion_mnist.hpp>

#include <array>
#include <filesystem>

#include <dagprop/data/idx.hpp>
#include <dagprop/error.hpp>

namespace dagprop::data {
namespace {

const std::array<std::string, 10> kClassNames{"T-shirt/top", "Trouser",   "Pullover", "Dress",
                                              "Coat",        "Sandal",    "Shirt",    "Sneaker",
                                              "Bag",         "Ankle boot"};

// The package installs the .gz files; an unpacked copy (as from other sources) is accepted too.
std::string find_file(const std::string& directory, const std::string& stem) {
  const std::filesystem::path base(directory);
  for (const char* suffix : {".gz", ""}) {
    const std::filesystem::path candidate = base / (stem + suffix);
    std::error_code ignored;
    if (std::filesystem::is_regular_file(candidate, ignored)) return candidate.string();
  }
  throw Error("Fashion-MNIST is not installed: " + (base / (stem + ".gz")).string() +
              " does not exist. It comes with the Debian package " +
              std::string(kFashionMnistPackage) + "; install it with `apt-get install " +
              std::string(kFashionMnistPackage) +
              "` (as root), or point to a folder holding the four IDX files");
}

Dataset load_part(const std::string& directory, const std::string& prefix,
                  const std::string& name) {
  Dataset d = load_idx_dataset(find_file(directory, prefix + "-images-idx3-ubyte"),
                               find_file(directory, prefix + "-labels-idx1-ubyte"));
  // The image shape, not only the pixel count: 14x56 images have 784 pixels too, but a model
  // trained on 28x28 images would read them as noise.
  const std::vector<std::int64_t> expected{28, 28};
  if (d.example_shape != expected || d.num_classes > 10) {
    std::string shape;
    for (const std::int64_t dim : d.example_shape)
      shape += (shape.empty() ? "" : "x") + std::to_string(dim);
    throw Error("the Fashion-MNIST file " + d.name + " holds images of " +
                (shape.empty() ? std::string("no shape") : shape) + " pixels and labels up to " +
                std::to_string(d.num_classes - 1) +
                "; expected 28x28 images and labels 0..9 (the four files of one Fashion-MNIST "
                "copy)");
  }
  d.name = name;
  d.num_classes = 10;
  d.class_names.assign(kClassNames.begin(), kClassNames.end());
  check_dataset(d);
  return d;
}

}  // namespace

TrainTest load_fashion_mnist(const std::string& directory) {
  return {load_part(directory, "train", "fashion-mnist/train"),
          load_part(directory, "t10k", "fashion-mnist/test")};
}

}  // namespace dagprop::data
