// Fashion-MNIST (Zalando's 70,000 28x28 grey images of clothes in 10 classes), read from the IDX
// files that the Debian package dataset-fashion-mnist installs.
#pragma once

#include <string>
#include <string_view>

#include <dagprop/data/dataset.hpp>
#include <dagprop/export.hpp>

DAGPROP_API_BEGIN
namespace dagprop::data {

inline constexpr std::string_view kFashionMnistDirectory = "/usr/share/datasets/fashion-mnist";
inline constexpr std::string_view kFashionMnistPackage = "dataset-fashion-mnist";

struct TrainTest {
  Dataset train, test;
};

// Reads train-*-idx?-ubyte[.gz] and t10k-*-idx?-ubyte[.gz] from `directory`. A missing file gives
// an error naming the package and the command that installs it.
TrainTest load_fashion_mnist(const std::string& directory = std::string(kFashionMnistDirectory));

}  // namespace dagprop::data
DAGPROP_API_END
