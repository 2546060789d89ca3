"""Misuse from Python is a dagprop.Error (a ValueError) or a TypeError with a message, never a
crash of the interpreter. One test per misuse, each checking the message."""

import gc
import threading

import numpy as np
import pytest

import dagprop as D


def test_error_is_a_value_error():
    assert issubclass(D.Error, ValueError)


def test_feeding_the_wrong_float_dtype_names_the_input_and_both_dtypes():
    g = D.Graph()
    x = g.input((3,), name="x")
    with pytest.raises(D.Error, match=r"input 'x' .* was fed a float32 tensor of shape \[3\]; "
                                      r"feed float64 of shape \[3\]"):
        g.run(D.sum(x), {x: np.ones(3, dtype=np.float32)})


def test_feeding_an_integer_array_names_the_dtype_to_feed():
    g = D.Graph()
    x = g.input((3,), name="x")
    with pytest.raises(D.Error, match=r"input 'x' .* was fed a numpy array of dtype int64; "
                                      r"feed float64 \(array.astype\(numpy.float64\)\)"):
        g.run(D.sum(x), {x: np.arange(3)})


def test_feeding_the_wrong_shape_names_both_shapes():
    g = D.Graph()
    x = g.input((3,), name="x")
    with pytest.raises(D.Error, match=r"was fed a float64 tensor of shape \[2\]; feed float64 of "
                                      r"shape \[3\]"):
        g.run(D.sum(x), {x: np.ones(2)})


def test_a_missing_feed_names_the_input():
    g = D.Graph()
    x = g.input((3,), name="x")
    with pytest.raises(D.Error, match=r"input 'x' .* has no feed"):
        g.run(D.sum(x))


def test_feeding_a_parameter_is_refused():
    g = D.Graph()
    w = g.parameter(1.0, name="w")
    with pytest.raises(D.Error, match=r"'w' .* which is not an input"):
        g.run(w * 2, {w: 3.0})


def test_feeds_must_be_a_dict_keyed_by_inputs():
    g = D.Graph()
    x = g.input((), name="x")
    with pytest.raises(TypeError, match="feeds must be a dict"):
        g.run(x, [1.0])
    with pytest.raises(TypeError, match="feeds are keyed by the input expressions"):
        g.run(x, {"x": 1.0})


def test_an_expression_of_another_graph_is_refused_in_operators():
    g, h = D.Graph(), D.Graph()
    a, b = g.parameter(1.0, name="a"), h.parameter(2.0, name="b")
    with pytest.raises(D.Error, match=r"'b' .* belongs to another Graph"):
        a + b
    with pytest.raises(D.Error, match=r"belongs to another Graph"):
        D.maximum(a, b)


def test_an_expression_of_another_graph_is_refused_in_run_backward_grad_and_feeds():
    g, h = D.Graph(), D.Graph()
    a = g.parameter(1.0, name="a")
    x = h.input((), name="x")
    with pytest.raises(D.Error, match=r"run: 'a' .* belongs to another Graph"):
        h.run(a)
    with pytest.raises(D.Error, match=r"backward: 'a' .* belongs to another Graph"):
        h.backward(a)
    with pytest.raises(D.Error, match=r"grad: 'x' .* belongs to another Graph"):
        D.grad(a * 2, [x])
    with pytest.raises(D.Error, match=r"feed: 'x' .* belongs to another Graph"):
        g.run(a, {x: 1.0})


def test_an_expression_outlives_its_collected_graph_object():
    def build():
        g = D.Graph()
        w = g.parameter(3.0, name="w")
        return w * w, w  # the Graph object itself goes out of scope here

    y, w = build()
    gc.collect()
    assert y.graph.run(y).item() == 9.0
    y.graph.backward(y)
    assert w.grad == 6.0


def test_grad_of_a_non_scalar_without_a_seed_says_a_seed_is_needed():
    g = D.Graph()
    w = g.parameter(np.ones(3), name="w")
    with pytest.raises(D.Error, match=r"the output is not a scalar, so the gradient needs a seed "
                                      r"of shape \[3\]"):
        D.grad(w * 2, [w])
    with pytest.raises(D.Error, match=r"the loss is not a scalar; pass a seed tensor of shape \[3\]"):
        g.backward(w * 2)


def test_only_float32_and_float64_are_dtypes():
    g = D.Graph()
    with pytest.raises(D.Error, match=r"float32 or float64, got dtype int64"):
        g.input((2,), np.int64)


def test_a_shape_of_rank_above_six_is_refused():
    g = D.Graph()
    with pytest.raises(D.Error, match=r"rank 7 .* at most 6 dimensions"):
        g.input((1,) * 7)


def test_an_unknown_attribute_lists_the_attributes():
    g = D.Graph()
    x = g.parameter(np.ones(3))
    with pytest.raises(D.Error, match=r"dagprop.leaky_relu: unknown keyword 'scalar'; its "
                                      r"attributes are slope \(and name=\)"):
        D.leaky_relu(x, scalar=0.1)
    with pytest.raises(D.Error, match=r"dagprop.sum: attribute 'axis' is integer, got a str"):
        D.sum(x, axis="rows")
    with pytest.raises(D.Error, match=r"attribute 'transpose_b' is boolean, got a int"):
        D.matmul(x, x, transpose_b=1)
    with pytest.raises(D.Error, match=r"classes"):
        D.one_hot(g.constant(np.zeros(2)), classes=0)  # out of range: at least one class


def test_the_wrong_number_of_inputs_says_how_many():
    g = D.Graph()
    x = g.parameter(1.0)
    with pytest.raises(D.Error, match=r"\(op add\): takes 2 input\(s\) but was given 1"):
        D.add(x)


def test_shapes_that_do_not_broadcast_fail_where_the_graph_is_built():
    g = D.Graph()
    a, b = g.parameter(np.ones((2, 3))), g.parameter(np.ones(4))
    with pytest.raises(D.Error, match=r"\[2, 3\].*\[4\]"):
        a + b


def test_an_op_needs_an_expression_to_know_its_graph():
    with pytest.raises(D.Error, match=r"dagprop.relu: none of the inputs is a dagprop.Expr"):
        D.relu(1.0)


def test_an_operand_that_is_not_a_number_or_array_is_a_type_error():
    g = D.Graph()
    x = g.parameter(1.0)
    with pytest.raises(TypeError):
        x + "one"
    with pytest.raises(TypeError):
        x ** x
    with pytest.raises(TypeError, match=r"dagprop.add: an input is a dict"):
        D.add(x, {})


def test_reading_a_gradient_before_backward_says_what_to_do():
    g = D.Graph()
    w = g.parameter(1.0, name="w")
    with pytest.raises(D.Error, match=r"'w' .* has no stored gradient: call graph.backward"):
        w.grad


def test_reading_a_value_that_no_run_computed_says_what_to_do():
    g = D.Graph()
    w = g.parameter(1.0, name="w")
    with pytest.raises(D.Error, match=r"has no value yet from the graph.s run\(\) or backward\(\): run it first"):
        (w * 2).value


def test_item_of_a_tensor_needs_one_element():
    g = D.Graph()
    w = g.parameter(np.ones(3))
    with pytest.raises(D.Error, match=r"item\(\) needs a tensor of one element, but the shape is "
                                      r"\[3\]"):
        w.item()


def test_anomaly_mode_names_the_node_that_made_a_nan():
    g = D.Graph()
    w = g.parameter(-1.0, name="w")
    y = D.log(w, name="logw") * 2
    g.anomaly_mode = True
    with pytest.raises(D.Error, match=r"logw"):
        g.run(y)
    assert g.anomaly_node == g.find("logw")


def test_a_graph_running_in_another_thread_refuses_to_be_touched_and_the_gil_is_released():
    g = D.Graph()
    x = g.parameter(np.full((300, 300), 1e-3))
    y = x
    for _ in range(40):
        y = D.tanh(y @ x)
    y = D.sum(y)
    g.run(y)  # compile the plan first
    errors = []
    worker = threading.Thread(target=lambda: [g.run(y) for _ in range(3)])
    worker.start()
    while worker.is_alive():  # this loop only runs while the worker holds no GIL
        try:
            g.constant(1.0)
        except D.Error as e:
            errors.append(str(e))
    worker.join()
    assert errors, "the main thread never ran while the worker was inside run()"
    assert "this Graph is busy in another thread" in errors[0]
