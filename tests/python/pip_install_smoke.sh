#!/usr/bin/env bash
# The package installed with Debian's pip, offline, into a fresh virtual environment that sees the
# system's numpy, imports from there and runs the seed neuron with the C++ example's output.
# Usage: pip_install_smoke.sh SOURCE_DIR WORK_DIR [PREBUILT_PACKAGE_DIR]
# With PREBUILT_PACKAGE_DIR (the build's tools/python/dagprop), pip packages that module instead of
# building the libraries again with CMake (minutes); everything else is the same pip install.
set -euo pipefail
source_dir="$1"
work="$2"
if [ -n "${3:-}" ]; then export DAGPROP_PYTHON_PREBUILT="$3"; fi
rm -rf "$work"
mkdir -p "$work"
/usr/bin/python3 -m venv --system-site-packages "$work/venv"
"$work/venv/bin/python" -m pip install --no-build-isolation --no-index --quiet "$source_dir"
cd "$work"  # not the source tree: the import must find the installed package
location="$("$work/venv/bin/python" -c 'import dagprop; print(dagprop.__file__)')"
case "$location" in
  "$work"/venv/*) ;;
  *) echo "dagprop was imported from $location, not from the virtual environment" >&2; exit 1 ;;
esac
"$work/venv/bin/python" "$source_dir/docs/examples/seed_neuron.py" > seed_neuron.out
diff -u "$source_dir/docs/examples/seed_neuron.expected" seed_neuron.out
echo "pip install smoke test passed: $location"
