// Loading a CSV dataset: numeric features, a label column chosen by name, text labels numbered in
// sorted order. A bad line is an error that names the file, the line and the fix.
#include <cstdio>
#include <sstream>

#include <dagprop/dagprop.hpp>

int main() {
  using namespace dagprop;
  std::istringstream good(
      "length,width,species\n"
      "5.1,3.5,setosa\n"
      "7.0,3.2,versicolor\n"
      "6.3,3.3,virginica\n"
      "4.9,3.0,setosa\n");
  const data::Dataset iris = data::parse_csv(good, "iris.csv", {.label_column = "species"});
  std::printf("%lld examples, %lld features, %lld classes:", static_cast<long long>(iris.size()),
              static_cast<long long>(iris.num_features()),
              static_cast<long long>(iris.num_classes));
  for (const std::string& name : iris.class_names) std::printf(" %s", name.c_str());
  std::printf("\nlabels:");
  for (std::int64_t i = 0; i < iris.size(); ++i) std::printf(" %.0f", iris.labels.at(i));
  std::printf("\n");

  std::istringstream bad("length,width,species\n5.1,3.5,setosa\n7.0,wide,versicolor\n");
  try {
    data::parse_csv(bad, "iris.csv");
  } catch (const Error& e) {
    std::printf("error: %s\n", e.what());
  }
}
