# Warnings, sanitizers and floating-point flags shared by every target.

# No fused multiply-add contraction: results must be the same bits whatever the compiler flags.
add_compile_options(-ffp-contract=off)
# Math functions need not set errno (nothing here reads it): std::sqrt is then one instruction the
# vectorizer can use (the Adam update's loop was scalar, 23 % of a 2-thread training run). No result
# changes: sqrt is correctly rounded either way, and exp, log and the rest stay library calls.
add_compile_options(-fno-math-errno)

if(DAGPROP_SANITIZE)
  string(REPLACE ";" "," _dagprop_sanitizers "${DAGPROP_SANITIZE}")
  add_compile_options(-fsanitize=${_dagprop_sanitizers} -fno-omit-frame-pointer -fno-sanitize-recover=all)
  add_link_options(-fsanitize=${_dagprop_sanitizers})
  # Sanitizers keep null checks (-fno-delete-null-pointer-checks), under which GCC will not fold a
  # function's address against null: op_definition_is_complete leaves the op table's check to the
  # registry at start-up there (<dagprop/op_def.hpp>); the unsanitized builds check at compile time.
  add_compile_definitions(DAGPROP_SANITIZER_BUILD)
endif()

# Fuzzing: every target gets coverage instrumentation and ASan/UBSan; the fuzz targets add the
# libFuzzer driver (tests/fuzz/CMakeLists.txt).
if(DAGPROP_FUZZ)
  if(NOT CMAKE_CXX_COMPILER_ID STREQUAL "Clang")
    message(FATAL_ERROR "DAGPROP_FUZZ needs clang (libFuzzer): configure a separate build directory "
                        "with CXX=clang++")
  endif()
  add_compile_options(-fsanitize=fuzzer-no-link,address,undefined -fno-omit-frame-pointer
                      -fno-sanitize-recover=all)
  add_link_options(-fsanitize=address,undefined)
  add_compile_definitions(DAGPROP_SANITIZER_BUILD)
endif()

function(dagprop_set_warnings target)
  # -Wno-restrict: GCC 12 reports false positives on std::string concatenation at -O3 (GCC bug 105329);
  # -Wno-missing-field-initializers: op tables use designated initializers over defaulted members.
  # (-Wno-restrict only for GCC: clang, used by the fuzz build, does not know the flag.)
  target_compile_options(${target} PRIVATE -Wall -Wextra -Wpedantic -Wshadow -Wnon-virtual-dtor
                         $<$<CXX_COMPILER_ID:GNU>:-Wno-restrict> -Wno-missing-field-initializers)
  if(DAGPROP_WERROR)
    target_compile_options(${target} PRIVATE -Werror)
  endif()
endfunction()
