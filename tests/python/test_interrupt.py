"""Long runs release the GIL, and Ctrl-C stops them: SIGINT during a graph run, a Function run, a
backward pass or Trainer.fit raises KeyboardInterrupt within a second, and the graph runs right
afterwards. The interrupted program is a child process; the test sends it SIGINT."""

import os
import signal
import subprocess
import sys
import textwrap
import threading
import time

import numpy as np
import pytest

import dagprop as D

# A chain of products [8, 2000] x [2000, 2000] (each some milliseconds, and small to keep for the
# backward pass: A is a constant), 1,500 of them: seconds even on a fast machine, so the run is
# still going when SIGINT comes after half a second, and only a stop between steps ends it within
# a second.
CHAIN = """
import sys, time
import numpy as np
import dagprop as D

def chain(steps):
    g = D.Graph()
    rng = np.random.default_rng(1)
    A = g.constant((rng.standard_normal((2000, 2000)) / 45).astype(np.float32), name="A")
    h = g.parameter(rng.standard_normal((8, 2000)).astype(np.float32), name="h0")
    first = None
    for i in range(steps):
        h = D.tanh(h @ A)
        if i == 1:
            first = h
    return g, A, first, D.sum(h)

def check_still_runs(g, A, first):
    h0 = g.find("h0").value
    expected = np.tanh(np.tanh(h0 @ A.value) @ A.value)
    assert np.allclose(g.run(first), expected, rtol=1e-4, atol=1e-5), "wrong values after the stop"
"""

CASES = {
    "run": "g.run(loss)",
    "function": "f = g.compile(loss)\nf.run()",
    "backward": "g.backward(loss)",
}


def interrupt_child(body, threads=0, delay=0.5):
    script = CHAIN + textwrap.dedent(f"""
        g, A, first, loss = chain(1500)
        g.set_num_threads({threads})
        print("ready", flush=True)
        try:
{textwrap.indent(body, "            ")}
            print("finished", flush=True)
        except KeyboardInterrupt:
            print("interrupted", flush=True)
        check_still_runs(g, A, first)
        print("still runs", flush=True)
    """)
    child = subprocess.Popen([sys.executable, "-c", script], stdout=subprocess.PIPE,
                             stderr=subprocess.PIPE, text=True, env=os.environ.copy())
    watchdog = threading.Timer(120, child.kill)  # a child that never stops fails, not hangs
    watchdog.start()
    try:
        assert child.stdout.readline().strip() == "ready", child.stderr.read()
        time.sleep(delay)
        sent = time.monotonic()
        child.send_signal(signal.SIGINT)
        line = child.stdout.readline().strip()
        elapsed = time.monotonic() - sent
        rest = child.stdout.read()
        child.wait(timeout=60)
    finally:
        watchdog.cancel()
        child.kill()
    return line, elapsed, rest, child.stderr.read()


@pytest.mark.parametrize("case", sorted(CASES))
@pytest.mark.parametrize("threads", [0, 2])
def test_ctrl_c_stops_a_long_run_within_a_second_and_the_graph_runs_afterwards(case, threads):
    line, elapsed, rest, errors = interrupt_child(CASES[case], threads)
    assert line == "interrupted", errors
    assert elapsed < 1.0
    assert "still runs" in rest, errors


def test_ctrl_c_stops_fit_between_steps_and_the_trainer_evaluates_afterwards():
    body = textwrap.dedent("""
        train, test = D.data.synthetic("moons", samples=2000, seed=1), D.data.synthetic("moons", samples=200, seed=2)
        t = D.nn.Trainer(train, test, hidden=[64, 64], epochs=100000, batch_size=16)
        try:
            t.fit()
            print("finished", flush=True)
        except KeyboardInterrupt:
            print("interrupted", flush=True)
        assert t.evaluate(test)["accuracy"] > 0.5
    """)
    line, elapsed, rest, errors = interrupt_child(body, delay=1.0)
    assert line == "interrupted", errors
    assert elapsed < 1.0
    assert "still runs" in rest, errors


def test_a_python_signal_handler_runs_instead_of_the_keyboard_interrupt():
    body = textwrap.dedent("""
        import signal
        caught = []
        signal.signal(signal.SIGINT, lambda *args: caught.append(1))
        try:
            g.run(loss)
        except D.Error as error:  # the handler did not raise: the stopped run says so
            assert "run stopped" in str(error) and caught == [1], (str(error), caught)
            raise KeyboardInterrupt
    """)
    line, _, rest, errors = interrupt_child(body)
    assert line == "interrupted", errors
    assert "still runs" in rest, errors


def test_a_long_run_releases_the_gil():
    namespace = {}
    exec(compile(CHAIN, "chain", "exec"), namespace)  # noqa: S102  (the chain above)
    g, _, _, loss = namespace["chain"](100)
    ticks = 0
    done = threading.Event()

    def run():
        g.run(loss)
        done.set()

    worker = threading.Thread(target=run)
    worker.start()
    while not done.is_set():
        ticks += 1  # Python code running while the graph runs
        time.sleep(0.001)
    worker.join()
    assert ticks > 20
