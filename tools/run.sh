#!/usr/bin/env bash
# The two entry points of the README:
#   bash tools/run.sh demo   installs what is missing, builds (Release) and runs the demo
#   bash tools/run.sh test   installs what is missing, builds and runs the whole test suite:
#                            Release, then AddressSanitizer+UBSan, then ThreadSanitizer on the
#                            parallel tests
set -euo pipefail
cd "$(dirname "$0")/.."

mode="${1:-demo}"
jobs="$(nproc)"

bash tools/setup.sh

configure_and_build() {  # build-dir, extra cmake arguments... (builds $target, default all)
  local dir="$1"
  shift
  cmake -S . -B "$dir" -G Ninja "$@" > "$dir.configure.log" 2>&1 || { cat "$dir.configure.log"; exit 1; }
  cmake --build "$dir" -j "$jobs" --target "${target:-all}"
}

case "$mode" in
  demo)
    configure_and_build build -DCMAKE_BUILD_TYPE=Release -DDAGPROP_BUILD_TESTS=OFF \
      -DPython_EXECUTABLE=/usr/bin/python3
    ./build/tools/dagprop demo
    # The seed neuron from Python (docs/python.md).
    PYTHONPATH=build/tools/python /usr/bin/python3 docs/examples/seed_neuron.py
    ;;
  test)
    configure_and_build build -DCMAKE_BUILD_TYPE=Release -DPython_EXECUTABLE=/usr/bin/python3
    ctest --test-dir build --output-on-failure -j "$jobs"
    # The sanitizer builds leave the Python package out: the interpreter is not instrumented.
    configure_and_build build-asan -DCMAKE_BUILD_TYPE=Debug "-DDAGPROP_SANITIZE=address;undefined" \
      -DDAGPROP_BUILD_TOOLS=OFF -DDAGPROP_BUILD_EXAMPLES=OFF -DDAGPROP_BUILD_PYTHON=OFF
    # The 10-million-node chain needs tens of gigabytes under ASan; it runs in the Release build.
    ctest --test-dir build-asan --output-on-failure -j "$jobs" -LE long
    # The TBB executor's tests under ThreadSanitizer (tests/tsan.supp says what it ignores in TBB).
    target=dagprop_parallel_tests configure_and_build build-tsan -DCMAKE_BUILD_TYPE=RelWithDebInfo \
      -DDAGPROP_SANITIZE=thread -DDAGPROP_BUILD_TOOLS=OFF -DDAGPROP_BUILD_EXAMPLES=OFF \
      -DDAGPROP_BUILD_PYTHON=OFF
    ctest --test-dir build-tsan --output-on-failure -j "$jobs" -L parallel
    ;;
  *)
    echo "usage: bash tools/run.sh demo|test" >&2
    exit 2
    ;;
esac
