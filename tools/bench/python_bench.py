"""Python-side benchmarks of issue 14, one line per figure (one run; a shared machine is noisy):

  W2   one MLP training step (784-512-512-10, ReLU, cross-entropy, SGD 0.01, batch 128, float32)
       driven from Python: plan compiled once, numpy batches fed each step
  W4   building and running (forward + backward) the 100,000-op chain from Python, per op, against
       PyTorch eager's per-op time for the same chain (python3-torch; skipped without it)
  feed feeding a 64 MB float32 array and reading a 64 MB gradient: time and peak Python memory,
       against an explicit copy

  PYTHONPATH=build/tools/python /usr/bin/python3 tools/bench/python_bench.py [--steps 50]
       [--cpp-w2 build/tools/dagprop_bench_w2] [--repeats 3]
The C++ W2 step is measured in the same run (dagprop_bench_w2 --threads 1 --blocks 1, found next to
the package in a build tree or given with --cpp-w2; reported as skipped where it is not built; its
figure is the mean of 5 blocks of 200 steps), and
the Python step is timed again after it, so the ratio compares neighbouring minutes."""

import argparse
import pathlib
import re
import subprocess
import time
import tracemalloc

import numpy as np

import dagprop as D


def w2(steps):
    rng = np.random.default_rng(0)
    g = D.Graph()
    g.set_num_threads(1)  # the TBB executor on one thread, as dagprop_bench_w2 --threads 1
    x = g.input((128, 784), np.float32, name="x")
    y = g.input((128,), np.float32, name="y")
    sizes = [784, 512, 512, 10]
    params, h = [], x
    for i, (fan_in, fan_out) in enumerate(zip(sizes, sizes[1:])):
        w = g.parameter(D.nn.initialize("he_uniform", fan_in, fan_out, seed=i), name=f"W{i}")
        b = g.parameter(np.zeros(fan_out, np.float32), name=f"b{i}")
        params += [w, b]
        h = h @ w + b
        if i < 2:
            h = D.relu(h)
    loss = D.cross_entropy(h, y)
    opt = D.nn.SGD(params, lr=0.01)
    batches = [(rng.uniform(0, 1, (128, 784)).astype(np.float32),
                rng.integers(0, 10, 128).astype(np.float32)) for _ in range(8)]
    g.backward(loss, {x: batches[0][0], y: batches[0][1]})  # compiles the plan
    times = []
    for t in range(steps):
        xs, ys = batches[t % 8]
        start = time.perf_counter()
        g.backward(loss, {x: xs, y: ys})
        opt.step()
        times.append(time.perf_counter() - start)
    ms = float(np.median(times)) * 1e3
    print(f"W2 MLP step from Python, 1 thread: median {ms:.3f} ms per step ({steps} steps, min "
          f"{min(times) * 1e3:.3f})")
    return ms


def cpp_w2(path):
    """The C++ W2 step's ms/step as dagprop_bench_w2 prints it, or None."""
    if path is None:
        guess = pathlib.Path(D.__file__).resolve().parents[2] / "dagprop_bench_w2"
        path = guess if guess.exists() else None
    if path is None:
        print("W2 C++ step: skipped (dagprop_bench_w2 is not built next to the package)")
        return None
    out = subprocess.run([str(path), "--threads", "1", "--blocks", "5", "--engine",
                          "dagprop-backward"], check=True, capture_output=True, text=True).stdout
    line = next(line for line in out.splitlines() if "ms/step" in line)
    ms = float(re.search(r"ms/step\D*([0-9.]+)", line).group(1))
    print(f"W2 C++ step (dagprop_bench_w2 --threads 1 --blocks 5 --engine dagprop-backward, the "
          f"same Graph::backward step): {ms:.3f} ms per step ({line.split('(')[-1].rstrip(')')})")
    return ms


W4_OPS = 100_000


def w4_dagprop(x0):
    """Building the chain and its first backward from Python: (build, first backward, second
    backward) in ns per op."""
    start = time.perf_counter()
    g = D.Graph()
    x = p = g.parameter(x0, name="x0")
    factor, offset = g.constant(0.999, dtype=np.float32), g.constant(0.001, dtype=np.float32)
    for k in range(W4_OPS):
        x = x * factor + offset if k % 2 == 0 else D.tanh(x)
    loss = D.sum(x)
    built = time.perf_counter()
    g.backward(loss)
    done = time.perf_counter()
    g.backward(loss)  # again: the gradient graph and the plans exist, only the run is left
    rerun = time.perf_counter() - done
    per_op = 1e9 / W4_OPS
    return (built - start) * per_op, (done - built) * per_op, rerun * per_op, float(p.grad.sum())


def w4_torch(torch, x0):
    start = time.perf_counter()
    t = tx = torch.tensor(x0, requires_grad=True)
    for k in range(W4_OPS):
        t = t * 0.999 + 0.001 if k % 2 == 0 else torch.tanh(t)
    t.sum().backward()
    return (time.perf_counter() - start) * 1e9 / W4_OPS, float(tx.grad.sum())


def w4(repeats):
    x0 = np.random.default_rng(400).uniform(-1, 1, 16).astype(np.float32)
    try:
        import torch

        torch.set_num_threads(1)
    except ImportError:
        torch = None
    ours, theirs = [], []
    for _ in range(repeats):  # alternating, so that both see the same load
        ours.append(w4_dagprop(x0))
        if torch is not None:
            theirs.append(w4_torch(torch, x0))
    build, first, second = (float(np.median([r[i] for r in ours])) for i in range(3))
    print(f"W4 chain from Python (median of {repeats}): build {build:.0f} ns/op, first backward "
          f"(builds the gradient graph and plans, runs) {first:.0f} ns/op, together "
          f"{build + first:.0f} ns/op; a second backward {second:.0f} ns/op (gradient sum "
          f"{ours[0][3]:.6e}; numpy's data, not the C++ bench's SplitMix64 stream)")
    if torch is None:
        print("W4 PyTorch eager: skipped (python3-torch is not installed)")
        return
    eager = float(np.median([r[0] for r in theirs]))
    print(f"W4 PyTorch eager, 1 thread (median of {repeats}): {eager:.0f} ns/op; dagprop from "
          f"Python / PyTorch = {(build + first) / eager:.3f}x (gradient sum {theirs[0][1]:.6e})")


def measured(f):
    tracemalloc.start()
    start = time.perf_counter()
    f()
    seconds = time.perf_counter() - start
    peak = tracemalloc.get_traced_memory()[1]
    tracemalloc.stop()
    return seconds * 1e3, peak / 2**20


def feed():
    n = 16 * 2**20  # 64 MB of float32
    g = D.Graph()
    x = g.input((n,), np.float32, name="x")
    w = g.parameter(np.ones(n, np.float32), name="w")
    y = D.sum(x)
    array = np.ones(n, np.float32)
    g.run(y, {x: array})
    g.backward(D.sum(w * 2.0))
    ms, mb = measured(lambda: g.run(y, {x: array}))
    print(f"feed 64 MB float32: {ms:.2f} ms, peak Python memory {mb:.2f} MB "
          "(the run reads the array in place: the time is the sum over it)")
    ms, mb = measured(lambda: g.run(y, {x: array.copy()}))
    print(f"feed 64 MB with an explicit copy first: {ms:.2f} ms, peak Python memory {mb:.2f} MB")
    ms, mb = measured(lambda: float(w.grad[-1]))
    print(f"read a 64 MB gradient (a view): {ms:.3f} ms, peak Python memory {mb:.3f} MB")
    ms, mb = measured(lambda: float(w.grad.copy()[-1]))
    print(f"read a 64 MB gradient as a copy: {ms:.2f} ms, peak Python memory {mb:.2f} MB")


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--steps", type=int, default=50)
    parser.add_argument("--cpp-w2", type=pathlib.Path, default=None)
    parser.add_argument("--repeats", type=int, default=3, help="W4 runs (medians are printed)")
    args = parser.parse_args()
    before = w2(args.steps)
    cpp = cpp_w2(args.cpp_w2)
    after = w2(args.steps)
    if cpp is not None:
        python = (before + after) / 2
        print(f"W2 from Python / C++ = {python / cpp:.3f}x (the mean of the Python runs before "
              "and after the C++ one)")
    w4(args.repeats)
    feed()


if __name__ == "__main__":
    main()
