#!/usr/bin/env bash
# Installs the Debian 12 packages dagprop needs, only those missing. Run as root (or with sudo).
#   bash tools/setup.sh           what dagprop needs to build, test and run its benchmarks
#   bash tools/setup.sh --peers   also the optional peers the benchmarks compare against
#                                 (libtorch C++, ADOL-C) and oneDNN for the conv kernel
#                                 measurement; dagprop never needs them
# PyTorch for Python (python3-torch) is installed for the tests only: tests/python compares values
# and gradients against it (and says so, skipping, where it is missing).
set -euo pipefail

packages=(
  g++ cmake ninja-build pkg-config
  libboost-graph-dev libtbb-dev libgraphviz-dev graphviz
  libgtest-dev libgmock-dev libeigen3-dev libcli11-dev nlohmann-json3-dev libfmt-dev zlib1g-dev
  libopenblas-dev libbenchmark-dev gnuplot-nox dataset-fashion-mnist
  pybind11-dev python3-dev python3-numpy python3-pytest python3-hypothesis python3-torch
  # dagprop::onnx (ONNX import and export) and its checker test; its PyTorch comparisons export
  # their models with python3-torch at test time
  libonnx-dev libprotobuf-dev protobuf-compiler python3-onnx
  # MPI training (dagprop::distributed, docs/distributed.md)
  libopenmpi-dev openmpi-bin
)
case "${1:-}" in
  --peers) packages+=(libtorch-dev libadolc-dev libdnnl-dev) ;;
  "") ;;
  *) echo "usage: bash tools/setup.sh [--peers]" >&2; exit 2 ;;
esac

missing=()
for package in "${packages[@]}"; do
  if ! dpkg-query -W -f='${Status}' "$package" 2>/dev/null | grep -q "install ok installed"; then
    missing+=("$package")
  fi
done

if [ ${#missing[@]} -eq 0 ]; then
  echo "setup: all ${#packages[@]} packages are installed"
  exit 0
fi

echo "setup: installing ${missing[*]}"
sudo_cmd=()
if [ "$(id -u)" -ne 0 ]; then sudo_cmd=(sudo); fi
export DEBIAN_FRONTEND=noninteractive
"${sudo_cmd[@]}" apt-get update -qq
"${sudo_cmd[@]}" apt-get install -y -qq --no-install-recommends "${missing[@]}"
