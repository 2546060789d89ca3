#!/usr/bin/env bash
# Builds the benchmarks (Release, in build-bench/) and runs every one that is available: the
# machine's ceilings, W2 and W5 through dagprop with their references, dagprop's W1/W3/W4 benchmark
# where it is built, and the peers (libtorch, ADOL-C) where installed, with the default allocator
# and with glibc's malloc on transparent huge pages. Threads are set explicitly for every program
# (OMP_NUM_THREADS, OPENBLAS_NUM_THREADS, MKL_NUM_THREADS, OMP_WAIT_POLICY=PASSIVE, and inside each
# program). Every figure is the median of >= 5 repetitions. Ends with the ratios dagprop/peer of
# the figures both printed, and says what was skipped and why. The log goes to runs/bench/.
# W6 (the CNN step of issue 19) runs through dagprop_bench_w6 and the libtorch peer.
#
#   bash tools/bench/run.sh                  everything, 1 and 2 threads
#   bash tools/bench/run.sh --reps 9         more repetitions
#   bash tools/bench/run.sh --openblas-core keep    OpenBLAS kernels as the environment says
#
# OpenBLAS's kernels: on a CPU with AVX-512 the run sets OPENBLAS_CORETYPE=SkylakeX (for dagprop
# and the peers alike) unless told otherwise. This machine's environment sets Haswell, whose AVX2
# kernels take 2.9 us for a 32x64x64 SGEMM instead of 1.2 us, and W3's products written by hand
# on two threads scale 1.4x with them instead of 1.8x (docs/performance.md, "The machine").
#
# Peers are optional: bash tools/setup.sh --peers installs libtorch and ADOL-C.
set -euo pipefail
cd "$(dirname "$0")/../.."

reps=5
threads="1 2"
openblas_core=auto
while [ $# -gt 0 ]; do
  case "$1" in
    --reps) reps="$2"; shift 2 ;;
    --threads) threads="$2"; shift 2 ;;
    --openblas-core) openblas_core="$2"; shift 2 ;;
    *) echo "usage: bash tools/bench/run.sh [--reps N] [--threads \"1 2\"] [--openblas-core NAME|keep]" >&2; exit 2 ;;
  esac
done
if [ "$openblas_core" = auto ]; then
  grep -qw avx512f /proc/cpuinfo && export OPENBLAS_CORETYPE=SkylakeX
elif [ "$openblas_core" != keep ]; then
  export OPENBLAS_CORETYPE="$openblas_core"
fi
max_threads=$(echo "$threads" | tr ' ' '\n' | sort -n | tail -1)

build=build-bench
mkdir -p "$build" runs/bench
cmake -S . -B "$build" -G Ninja -DCMAKE_BUILD_TYPE=Release -DDAGPROP_BUILD_TESTS=OFF \
  -DDAGPROP_BUILD_EXAMPLES=OFF > "$build/configure.log" 2>&1 || { cat "$build/configure.log"; exit 1; }
# -j2 at most: the machine is shared, and builds of libtorch programs take gigabytes each.
available=$(ninja -C "$build" -t targets all | sed -n 's/^\(dagprop_bench_[a-z0-9_]*\): .*/\1/p' | sort -u)
ninja -C "$build" -j 2 $available

log="runs/bench/$(date +%Y%m%d-%H%M%S).log"
skipped=()
has() { echo "$available" | grep -qx "$1"; }

# Runs a program with every thread setting of the environment at `t` threads.
with_threads() {  # t, command...
  local t="$1"
  shift
  OMP_NUM_THREADS="$t" OPENBLAS_NUM_THREADS="$t" MKL_NUM_THREADS="$t" OMP_WAIT_POLICY=PASSIVE "$@"
}
hugetlb=GLIBC_TUNABLES=glibc.malloc.hugetlb=1

{
  echo "# $(date -u +%FT%TZ) $(lscpu | sed -n 's/^Model name: *//p'), $(nproc) CPUs; load $(cut -d' ' -f1-3 /proc/loadavg)"
  echo "# OPENBLAS_CORETYPE=${OPENBLAS_CORETYPE:-unset}; reps $reps; threads $threads"
  bin="$build/tools"
  # dagprop's own programs set OpenBLAS's threads themselves per figure; the pool may grow to the
  # largest count.
  with_threads "$max_threads" "$bin/dagprop_bench_ceilings" --threads $threads --reps $((reps > 7 ? reps : 7))
  with_threads "$max_threads" "$bin/dagprop_bench_w2" --threads $threads --blocks "$reps"
  with_threads "$max_threads" "$bin/dagprop_bench_w5" --threads $threads --reps "$reps"
  with_threads "$max_threads" "$bin/dagprop_bench_w6" --threads $threads --blocks "$reps"
  if has dagprop_bench_parallel; then
    with_threads "$max_threads" "$bin/dagprop_bench_parallel" --reps "$reps"
  else
    skipped+=("dagprop W1/W3/W4: dagprop_bench_parallel is not part of this source tree")
  fi
  if has dagprop_bench_peer_torch; then
    for t in $threads; do
      with_threads "$t" "$bin/dagprop_bench_peer_torch" --threads "$t" --reps "$reps"
      with_threads "$t" env $hugetlb "$bin/dagprop_bench_peer_torch" --threads "$t" --reps "$reps" \
        --workload w2 --workload w5
    done
  else
    skipped+=("libtorch peer (W2-W5): libtorch not found at configure time (bash tools/setup.sh --peers)")
  fi
  if has dagprop_bench_peer_adolc; then
    with_threads 1 "$bin/dagprop_bench_peer_adolc" --reps "$reps"
    with_threads 1 env $hugetlb "$bin/dagprop_bench_peer_adolc" --reps "$reps"
  else
    skipped+=("ADOL-C peer (W1): ADOL-C not found at configure time (bash tools/setup.sh --peers)")
  fi
  for s in "${skipped[@]}"; do printf '%-28s skipped: %s\n' "SKIP" "$s"; done
} 2>&1 | tee "$log"

# Ratios dagprop/peer for every figure that both printed with the same workload, figure and
# threads. A row is "<workload> <engine> t<N>", or "<workload> tbb<N>" / "<workload> serial" for
# dagprop's executors, "<workload> tape[-ops][-reused]" for the scalar tape (one thread);
# columns are fixed: row 1-28, figure 30-53, value and unit after.
echo "# ratios dagprop/peer (time and memory: below 1 is dagprop ahead; GB/s, GFLOP/s: above 1)" | tee -a "$log"
awk '
  function trim(s) { sub(/^ +/, "", s); sub(/ +$/, "", s); return s }
  length($0) > 55 {
    row = trim(substr($0, 1, 28)); figure = trim(substr($0, 30, 24)); split(substr($0, 55), rest, " ")
    if (rest[1] !~ /^-?[0-9.]+$/ || figure ~ /^(checksum|skipped)/) next
    n = split(row, tok, " "); last = tok[n]
    if (last ~ /^t[0-9]+$/) { engine = tok[n - 1]; threads = substr(last, 2); words = n - 2 }
    else if (last ~ /^tbb[0-9]+$/) { engine = "dagprop-" last; threads = substr(last, 4); words = n - 1 }
    else if (last == "serial") { engine = "dagprop-serial"; threads = 1; words = n - 1 }
    else if (last ~ /^tape(-ops)?(-reused)?$/) { engine = "dagprop-" last; threads = 1; words = n - 1 }
    else next
    workload = tok[1]; for (i = 2; i <= words; ++i) workload = workload " " tok[i]
    key = workload SUBSEP figure SUBSEP threads
    value[key, engine] = rest[1]; unit[key] = rest[2]
    if (engine ~ /^dagprop/) ours[key, engine] = 1
    else if (engine ~ /^(libtorch|adolc)/) theirs[key, engine] = 1
  }
  END {
    for (o in ours) {
      split(o, a, SUBSEP); key = a[1] SUBSEP a[2] SUBSEP a[3]
      for (t in theirs) {
        split(t, b, SUBSEP)
        if (b[1] SUBSEP b[2] SUBSEP b[3] != key || value[key, b[4]] == 0) continue
        printf "%-28s %-24s %10.3f x          %s / %s (%s)\n", "RATIO " a[1] " t" a[3], a[2],
               value[key, a[4]] / value[key, b[4]], a[4], b[4], unit[key]
      }
    }
  }' "$log" | sort | tee -a "$log"
echo "# log: $log"
