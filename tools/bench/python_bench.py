"""Python-side benchmarks of issue 14, one line per figure (one run; a shared machine is noisy):

  W2   one MLP training step (784-512-512-10, ReLU, cross-entropy, SGD 0.01, batch 128, float32)
       driven from Python: plan compiled once, numpy batches fed each step
  W4   building and running (forward + backward) the 100,000-op chain from Python, per op, against
       PyTorch eager's per-op time for the same chain (python3-torch; skipped without it)
  feed feeding a 64 MB float32 array and reading a 64 MB gradient: time and peak Python memory,
       against an explicit copy

  PYTHONPATH=build/tools/python /usr/bin/python3 tools/bench/python_bench.py [--steps 50]
       [--cpp-w2 build/tools/dagprop_bench_w2]
The C++ W2 step is measured in the same run (dagprop_bench_w2 --threads 1 --blocks 1, found next to
the package in a build tree or given with --cpp-w2; reported as skipped where it is not built), and
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
    start = time.perf_counter()
    for t in range(steps):
        xs, ys = batches[t % 8]
        g.backward(loss, {x: xs, y: ys})
        opt.step()
    ms = (time.perf_counter() - start) / steps * 1e3
    print(f"W2 MLP step from Python, 1 thread: {ms:.3f} ms per step ({steps} steps)")
    return ms


def cpp_w2(path):
    """The C++ W2 step's ms/step as dagprop_bench_w2 prints it, or None."""
    if path is None:
        guess = pathlib.Path(D.__file__).resolve().parents[2] / "dagprop_bench_w2"
        path = guess if guess.exists() else None
    if path is None:
        print("W2 C++ step: skipped (dagprop_bench_w2 is not built next to the package)")
        return None
    out = subprocess.run([str(path), "--threads", "1", "--blocks", "1"], check=True,
                         capture_output=True, text=True).stdout
    line = next(line for line in out.splitlines() if "ms/step" in line)
    ms = float(re.search(r"ms/step\D*([0-9.]+)", line).group(1))
    print(f"W2 C++ step (dagprop_bench_w2 --threads 1 --blocks 1): {ms:.3f} ms per step")
    return ms


def w4():
    ops = 100_000
    x0 = np.random.default_rng(400).uniform(-1, 1, 16).astype(np.float32)
    start = time.perf_counter()
    g = D.Graph()
    x = p = g.parameter(x0, name="x0")
    factor, offset = g.constant(0.999, dtype=np.float32), g.constant(0.001, dtype=np.float32)
    for k in range(ops):
        x = x * factor + offset if k % 2 == 0 else D.tanh(x)
    loss = D.sum(x)
    built = time.perf_counter()
    g.backward(loss)
    done = time.perf_counter()
    g.backward(loss)  # again: the gradient graph and the plans exist, only the run is left
    rerun = time.perf_counter() - done
    ours = (done - start) / ops * 1e9
    print(f"W4 chain from Python: build {(built - start) / ops * 1e9:.0f} ns/op, first backward "
          f"(builds the gradient graph and plans, runs) {(done - built) / ops * 1e9:.0f} ns/op, "
          f"together {ours:.0f} ns/op; a second backward {rerun / ops * 1e9:.0f} ns/op "
          f"(loss {loss.item():.7f}, gradient sum {float(p.grad.sum()):.6e}; numpy's data, not "
          "the C++ bench's SplitMix64 stream)")
    try:
        import torch
    except ImportError:
        print("W4 PyTorch eager: skipped (python3-torch is not installed)")
        return
    torch.set_num_threads(1)
    start = time.perf_counter()
    t = tx = torch.tensor(x0, requires_grad=True)
    for k in range(ops):
        t = t * 0.999 + 0.001 if k % 2 == 0 else torch.tanh(t)
    t.sum().backward()
    theirs = (time.perf_counter() - start) / ops * 1e9
    print(f"W4 PyTorch eager: {theirs:.0f} ns/op; dagprop from Python / PyTorch = "
          f"{ours / theirs:.3f}x (gradient sum {float(tx.grad.sum()):.6e})")


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
          "(the engine's own copy into the plan's workspace included in the time)")
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
    args = parser.parse_args()
    before = w2(args.steps)
    cpp = cpp_w2(args.cpp_w2)
    after = w2(args.steps)
    if cpp is not None:
        python = (before + after) / 2
        print(f"W2 from Python / C++ = {python / cpp:.3f}x (the mean of the Python runs before "
              "and after the C++ one)")
    w4()
    feed()


if __name__ == "__main__":
    main()
