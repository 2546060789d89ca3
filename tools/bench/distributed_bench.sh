#!/usr/bin/env bash
# Fashion-MNIST training throughput (images/s) of the same sharded run at 1 rank x 1 thread,
# 1 rank x 2 threads and 2 ranks x 1 thread (mpirun), in one run, with the bytes each rank handed
# to collectives per step (docs/distributed.md). Each configuration trains --epochs epochs; the
# figure is the median over the epochs of timing.csv's train_examples_per_second (training and
# evaluation of each epoch), and the metric files of all configurations must be the same bytes.
#
#   bash tools/bench/distributed_bench.sh [--build build] [--epochs 3] [--shards 8]
set -euo pipefail
cd "$(dirname "$0")/../.."
build=build
epochs=3
shards=8
while [ $# -gt 0 ]; do
  case "$1" in
    --build) build="$2"; shift 2 ;;
    --epochs) epochs="$2"; shift 2 ;;
    --shards) shards="$2"; shift 2 ;;
    *) echo "usage: bash tools/bench/distributed_bench.sh [--build DIR] [--epochs N] [--shards S]" >&2; exit 2 ;;
  esac
done
dagprop="$build/tools/dagprop"
out=runs/distributed_bench
rm -rf "$out"
mkdir -p "$out"
export OMPI_ALLOW_RUN_AS_ROOT=1 OMPI_ALLOW_RUN_AS_ROOT_CONFIRM=1 OMPI_MCA_btl=self,vader,tcp \
  OMPI_MCA_btl_tcp_if_include=lo OMPI_MCA_oob_tcp_if_include=lo
run=(train --data fashion-mnist --hidden 256,128 --batch 128 --shards "$shards" --epochs "$epochs"
     --seed 1 --no-plots)
median() { sort -n | awk '{a[NR]=$1} END {print (NR % 2) ? a[(NR+1)/2] : (a[NR/2]+a[NR/2+1])/2}'; }
rate() { tail -n +2 "$1/timing.csv" | cut -d, -f3 | median; }

DAGPROP_NUM_THREADS=1 "$dagprop" "${run[@]}" --out "$out/1x1" > "$out/1x1.log"
DAGPROP_NUM_THREADS=2 "$dagprop" "${run[@]}" --out "$out/1x2" > "$out/1x2.log"
mpirun --oversubscribe --bind-to none -np 2 -x DAGPROP_NUM_THREADS=1 "$dagprop" "${run[@]}" \
  --out "$out/2x1" > "$out/2x1.log"
DAGPROP_NUM_THREADS=1 "$dagprop" train --data fashion-mnist --hidden 256,128 --batch 128 \
  --epochs "$epochs" --seed 1 --no-plots --out "$out/whole" > "$out/whole.log"
for config in 1x2 2x1; do
  cmp -s "$out/1x1/metrics.json" "$out/$config/metrics.json" ||
    { echo "$config: metrics.json differs from 1x1's" >&2; exit 1; }
done
echo "fashion-mnist 784-256-128-10, batch 128, $shards shards, $epochs epochs (median epoch):"
printf '  1 rank  x 1 thread : %8.0f images/s\n' "$(rate "$out/1x1")"
printf '  1 rank  x 2 threads: %8.0f images/s\n' "$(rate "$out/1x2")"
printf '  2 ranks x 1 thread : %8.0f images/s\n' "$(rate "$out/2x1")"
printf '  unsharded, 1 x 1   : %8.0f images/s\n' "$(rate "$out/whole")"
python3=/usr/bin/python3
"$python3" - "$out/2x1/communication.json" <<'PY'
import json, sys
r = json.load(open(sys.argv[1]))
per_step = r["payload_bytes_per_rank"][0] / r["steps"]
print(f"  2 ranks: {per_step:.0f} payload bytes per rank per step "
      f"({per_step / r['gradient_elements']:.2f} per gradient element, {r['gradient_elements']} elements)")
PY
echo "metric files of 1x1, 1x2 and 2x1: the same bytes"
