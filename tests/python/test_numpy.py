"""numpy in and out: values and gradients are views of the graph's memory (no copy), the views keep
the graph alive, feeds use the caller's buffer when they can, and run() returns arrays of their
own."""

import gc
import tracemalloc
import weakref

import numpy as np
import pytest

import dagprop as D


def address(array):
    return array.__array_interface__["data"][0]


def test_a_parameter_value_is_a_writable_view_of_the_graph():
    g = D.Graph()
    w = g.parameter(np.array([1.0, 2.0, 3.0]))
    y = D.sum(w * w)
    assert address(w.value) == address(w.value)
    assert np.shares_memory(w.value, w.value)
    w.value[:] = [0.0, 0.0, 2.0]  # writes the parameter itself
    assert g.run(y).item() == 4.0


def test_a_gradient_is_a_view_that_the_next_backward_fills_in_place():
    g = D.Graph()
    w = g.parameter(np.array([1.0, 2.0]))
    y = D.sum(w * w)
    g.backward(y)
    first = w.grad
    np.testing.assert_array_equal(first, [2.0, 4.0])
    w.value[:] = [5.0, 6.0]
    g.backward(y)
    assert address(first) == address(w.grad)
    np.testing.assert_array_equal(first, [10.0, 12.0])  # the old view sees the new gradient


def test_run_returns_arrays_of_their_own():
    g = D.Graph()
    w = g.parameter(np.array([1.0, 2.0]))
    y = w * 2.0
    out = g.run(y)
    assert out.flags.owndata or out.base is not None
    assert not np.shares_memory(out, w.value)
    w.value[:] = 0.0
    g.run(y)
    np.testing.assert_array_equal(out, [2.0, 4.0])  # not overwritten by the second run


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_views_have_the_nodes_dtype_and_shape(dtype):
    g = D.Graph()
    w = g.parameter(np.zeros((2, 3), dtype=dtype))
    g.backward(D.sum(w))
    assert w.value.dtype == dtype and w.grad.dtype == dtype
    assert w.value.shape == (2, 3) and w.grad.shape == (2, 3)
    assert w.value.flags.c_contiguous


def test_a_view_keeps_the_graph_alive_after_everything_else_is_gone():
    gc.collect()
    live = D._dagprop._live_graphs()
    g = D.Graph()
    w = g.parameter(np.array([1.0, 2.0, 3.0]))
    g.backward(D.sum(w * w))
    grad, value = w.grad, w.value
    del g, w
    gc.collect()
    assert D._dagprop._live_graphs() == live + 1  # held by the arrays
    np.testing.assert_array_equal(grad, [2.0, 4.0, 6.0])
    np.testing.assert_array_equal(value, [1.0, 2.0, 3.0])
    del grad, value
    gc.collect()
    assert D._dagprop._live_graphs() == live


def test_an_expression_keeps_its_graph_alive():
    gc.collect()
    live = D._dagprop._live_graphs()
    g = D.Graph()
    x = g.parameter(2.0)
    y = x * x
    del g, x
    gc.collect()
    assert D._dagprop._live_graphs() == live + 1
    assert y.graph.run(y).item() == 4.0
    assert D.grad(y, y.graph.parameters()[0]).graph.run(
        D.grad(y, y.graph.parameters()[0])).item() == 4.0
    del y
    gc.collect()
    assert D._dagprop._live_graphs() == live


def peak_bytes_allocated_by_a_run(g, y, feeds):
    g.run(y, feeds)  # compiles the plan first: its workspace is not what is measured
    tracemalloc.start()
    try:
        g.run(y, feeds)
        return tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()


def test_feeding_a_contiguous_array_copies_nothing_and_a_strided_one_copies_once():
    n = 1 << 20  # 8 MB of float64
    g = D.Graph()
    x = g.input((n,))
    y = D.sum(x)
    contiguous = np.ones(n)
    assert peak_bytes_allocated_by_a_run(g, y, {x: contiguous}) < 64 * 1024
    strided = np.ones(2 * n)[::2]  # not contiguous: one copy of 8 MB
    assert peak_bytes_allocated_by_a_run(g, y, {x: strided}) >= n * 8
    assert g.run(y, {x: strided}).item() == n


def test_a_run_reads_a_fed_array_in_place_and_holds_it_until_the_next_run():
    g = D.Graph()
    x = g.input((4,))
    y = D.sum(x * 2.0)
    f = g.compile([y])
    fed = np.arange(4.0)
    watch = weakref.ref(fed)
    f.run({x: fed})
    assert f.value(y).item() == 12.0
    # The plan's steps read the array itself: changed after the run, the input's value changes too
    # (a feed copied into the workspace would still read 0, 1, 2, 3).
    fed[0] = 100.0
    assert f.value(x)[0] == 100.0
    assert not np.shares_memory(f.value(x), fed)  # reading an input's value gives a copy
    del fed
    gc.collect()
    assert watch() is not None  # the plan holds the array until its next run
    f.run({x: np.ones(4)})
    gc.collect()
    assert watch() is None
    assert f.value(y).item() == 8.0


def test_read_only_and_python_values_can_be_fed():
    g = D.Graph()
    x = g.input((3,))
    frozen = np.array([1.0, 2.0, 3.0])
    frozen.flags.writeable = False
    assert g.run(D.sum(x), {x: frozen}).item() == 6.0
    assert g.run(D.sum(x), {x: [1, 2, 3]}).item() == 6.0  # a list: converted to float64


def test_parameters_and_constants_copy_their_initial_value():
    g = D.Graph()
    init = np.array([1.0, 2.0])
    w = g.parameter(init)
    init[:] = 0.0
    np.testing.assert_array_equal(w.value, [1.0, 2.0])
    assert g.parameter(np.array([1, 2])).dtype == np.float64  # integers become float64
    assert g.constant(np.float32(1.5)).dtype == np.float32
    assert g.parameter(1.0, dtype=np.float32).dtype == np.float32
