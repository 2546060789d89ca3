// The record of what a run's bits depend on: every setting present, in order, with a value, and
// the settings that can change in a process (the FPU state, the environment) read when asked.
#include <gtest/gtest.h>

#include <cstdlib>
#include <string>
#include <vector>

#include <dagprop/dagprop.hpp>

#if defined(__x86_64__)
#include <xmmintrin.h>
#endif

namespace dagprop {
namespace {

std::string value_of(const std::vector<ReproducibilitySetting>& settings, const std::string& key) {
  for (const ReproducibilitySetting& s : settings)
    if (s.key == key) return s.value;
  return "missing";
}

// run.json and the study report copy this list; a setting dropped from it fails here.
TEST(ReproducibilitySettings, NameEverySettingInAFixedOrderEachWithAValue) {
  const std::vector<std::string> expected{"dagprop.version",
                                          "compiler",
                                          "build.type",
                                          "build.flags",
                                          "matmul.kernels",
                                          "matmul.blocks",
                                          "products.fingerprint",
                                          "blas.config",
                                          "blas.core",
                                          "blas.threads",
                                          "vector_math.isa",
                                          "vector_math.fingerprint",
                                          "libc",
                                          "libm.fingerprint",
                                          "cpu.model",
                                          "cpu.id",
                                          "cpu.features",
                                          "cpu.threads",
                                          "fpu.mxcsr",
                                          "dagprop.threads",
                                          "environment"};
  const std::vector<ReproducibilitySetting> settings = reproducibility_settings();
  std::vector<std::string> keys;
  for (const ReproducibilitySetting& s : settings) {
    keys.push_back(s.key);
    EXPECT_FALSE(s.value.empty()) << s.key;
  }
  EXPECT_EQ(keys, expected);
}

TEST(ReproducibilitySettings, NameTheBlasLibraryTheBuildAndTheLibc) {
  const auto settings = reproducibility_settings();
  EXPECT_EQ(value_of(settings, "blas.config").rfind("OpenBLAS ", 0), 0U);
  EXPECT_EQ(value_of(settings, "blas.threads"), "1");  // each product on one OpenBLAS thread
  EXPECT_NE(value_of(settings, "build.flags").find("-ffp-contract=off"), std::string::npos);
  EXPECT_EQ(value_of(settings, "libc").rfind("glibc 2.", 0), 0U);
  EXPECT_EQ(value_of(settings, "products.fingerprint").size(), 16U);
}

TEST(ReproducibilitySettings, FingerprintsAreTheSameOnEveryCall) {
  const auto first = reproducibility_settings(), second = reproducibility_settings();
  for (const char* key : {"products.fingerprint", "vector_math.fingerprint", "libm.fingerprint"})
    EXPECT_EQ(value_of(first, key), value_of(second, key)) << key;
}

TEST(ReproducibilitySettings, ListTheEnvironmentVariablesThatChooseKernels) {
  ::setenv("OPENBLAS_VERBOSE", "0", 1);
  const std::string environment = value_of(reproducibility_settings(), "environment");
  ::unsetenv("OPENBLAS_VERBOSE");
  EXPECT_NE(environment.find("OPENBLAS_VERBOSE=0"), std::string::npos) << environment;
}

#if defined(__x86_64__)
TEST(ReproducibilitySettings, ShowFlushToZeroWhenSomethingSetsIt) {
  const unsigned int saved = _mm_getcsr();
  EXPECT_NE(value_of(reproducibility_settings(), "fpu.mxcsr").find("flush-to-zero off"),
            std::string::npos);
  _mm_setcsr(saved | 0x8040U);  // FTZ and DAZ, as -ffast-math's startup code sets them
  const std::string state = value_of(reproducibility_settings(), "fpu.mxcsr");
  _mm_setcsr(saved);
  EXPECT_NE(state.find("flush-to-zero on, denormals-are-zero on"), std::string::npos) << state;
}
#endif

}  // namespace
}  // namespace dagprop
