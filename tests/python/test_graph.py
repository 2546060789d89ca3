"""Building graphs from Python: the seed neuron, operators with numbers and arrays on either side,
inputs and feeds, scopes, dtypes."""

import numpy as np
import pytest

import dagprop as D


def seed_neuron():
    g = D.Graph()
    x1, x2 = g.constant(0.5), g.constant(0.6)
    w1, w2 = g.parameter(0.1, name="w1"), g.parameter(0.2, name="w2")
    b = g.parameter(0.3, name="b")
    a = D.relu(w1 * x1 + w2 * x2 + b)
    return g, a, (w1, w2, b)


def test_seed_neuron_value_and_gradients():
    g, a, (w1, w2, b) = seed_neuron()
    g.backward(a)
    assert a.item() == pytest.approx(0.47)
    assert w1.grad == pytest.approx(0.5)
    assert w2.grad == pytest.approx(0.6)
    assert b.grad == pytest.approx(1.0)
    assert isinstance(w1.grad, np.ndarray) and w1.grad.shape == ()
    assert isinstance(a.item(), float)
    assert a.value == pytest.approx(0.47)


def test_expressions_know_their_shape_dtype_name_and_op():
    g, a, (w1, _, _) = seed_neuron()
    assert w1.name == "w1" and w1.op == "parameter" and w1.shape == () and w1.dtype == np.float64
    assert a.op == "relu" and a.name is None
    assert w1.graph is g
    assert "w1" in repr(w1)


@pytest.mark.parametrize("other", [2.0, 2, np.float64(2.0), np.float32(2.0), np.array(2.0)])
def test_operators_take_numbers_and_numpy_values_on_either_side(other):
    g = D.Graph()
    x = g.parameter(3.0)
    results = {
        "x + o": (x + other, 5.0), "o + x": (other + x, 5.0),
        "x - o": (x - other, 1.0), "o - x": (other - x, -1.0),
        "x * o": (x * other, 6.0), "o * x": (other * x, 6.0),
        "x / o": (x / other, 1.5), "o / x": (other / x, 2.0 / 3.0),
    }
    for text, (e, expected) in results.items():
        assert isinstance(e, D.Expr), f"{text} with {type(other).__name__} is a {type(e)}"
        assert g.run(e).item() == pytest.approx(expected), text


def test_unary_minus_power_and_matmul():
    g = D.Graph()
    x = g.parameter(np.array([[1.0, 2.0], [3.0, 4.0]]))
    np.testing.assert_allclose(g.run(-x), -x.value)
    np.testing.assert_allclose(g.run(x ** 2), x.value ** 2)
    np.testing.assert_allclose(g.run(x ** np.float64(0.5)), np.sqrt(x.value))
    m = np.array([[0.5], [-1.0]])
    np.testing.assert_allclose(g.run(x @ m), x.value @ m)
    np.testing.assert_allclose(g.run(m.T @ x), m.T @ x.value)
    np.testing.assert_allclose(g.run(x @ x), x.value @ x.value)


def test_an_array_on_either_side_becomes_a_constant_broadcast_like_numpy():
    g = D.Graph()
    x = g.parameter(np.arange(6.0).reshape(2, 3))
    row = np.array([1.0, 10.0, 100.0])
    left, right = row * x, x + row
    assert isinstance(left, D.Expr) and isinstance(right, D.Expr)
    np.testing.assert_allclose(g.run(left), row * x.value)
    np.testing.assert_allclose(g.run(right), x.value + row)
    np.testing.assert_allclose(g.run(row - x), row - x.value)


def test_inputs_are_fed_per_run_and_backward_takes_feeds():
    g = D.Graph()
    x = g.input((2, 3), name="x")
    w = g.parameter(np.ones((3, 1)), name="w")
    y = D.sum(D.tanh(x @ w))
    batch = np.array([[0.1, 0.2, 0.3], [-0.4, 0.5, -0.6]])
    value = g.run(y, {x: batch})
    assert value.item() == pytest.approx(np.tanh(batch @ np.ones((3, 1))).sum())
    g.backward(y, {x: batch})
    expected = batch.T @ (1 - np.tanh(batch @ np.ones((3, 1))) ** 2)
    np.testing.assert_allclose(w.grad, expected)
    values = g.run([y, x @ w], {x: batch})
    assert isinstance(values, list) and values[1].shape == (2, 1)


def test_an_input_with_requires_grad_gets_a_gradient():
    g = D.Graph()
    x = g.input((3,), requires_grad=True)
    y = D.sum(x * x)
    g.backward(y, {x: np.array([1.0, 2.0, 3.0])})
    np.testing.assert_allclose(x.grad, [2.0, 4.0, 6.0])


def test_float32_graphs_stay_float32():
    g = D.Graph()
    x = g.input((4,), np.float32)
    w = g.parameter(np.full(4, 0.5, dtype=np.float32))
    y = D.sum(w * x + 1.0)
    assert y.dtype == np.float32 and w.dtype == np.float32
    out = g.run(y, {x: np.arange(4, dtype=np.float32)})
    assert out.dtype == np.float32 and out.item() == pytest.approx(7.0)
    g.backward(y, {x: np.arange(4, dtype=np.float32)})
    assert w.grad.dtype == np.float32
    np.testing.assert_array_equal(w.grad, np.arange(4, dtype=np.float32))


def test_scopes_prefix_names():
    g = D.Graph()
    with g.scope("layer1"):
        w = g.parameter(1.0, name="W")
    assert w.name == "layer1/W"
    assert g.find("layer1/W") == w
    assert [p.name for p in g.parameters()] == ["layer1/W"]


def test_expressions_are_dict_keys_by_node():
    g = D.Graph()
    x = g.input((), name="x")
    assert g.find("x") == x and hash(g.find("x")) == hash(x)
    assert g.run(x * 2, {g.find("x"): 1.5}).item() == 3.0


def test_ops_take_their_attributes_as_keywords():
    g = D.Graph()
    x = g.parameter(np.arange(6.0).reshape(2, 3))
    np.testing.assert_allclose(g.run(D.sum(x)), 15.0)
    np.testing.assert_allclose(g.run(D.sum(x, axis=0)), [3.0, 5.0, 7.0])
    np.testing.assert_allclose(g.run(D.mean(x, axis=1, keepdim=True)), [[1.0], [4.0]])
    np.testing.assert_allclose(g.run(D.leaky_relu(x - 3, slope=0.1)),
                               np.where(x.value > 3, x.value - 3, 0.1 * (x.value - 3)))
    np.testing.assert_allclose(g.run(D.reshape(x, shape=(3, 2))), x.value.reshape(3, 2))
    np.testing.assert_allclose(g.run(D.concat(x, x, axis=0)), np.concatenate([x.value] * 2))
    np.testing.assert_allclose(g.run(D.transpose(x)), x.value.T)
    assert D.relu(x, name="h").name == "h"


def test_the_type_stubs_name_every_op_and_class():
    import ast
    import pathlib

    stubs = pathlib.Path(D.__file__).with_name("__init__.pyi")
    tree = ast.parse(stubs.read_text())
    names = {node.name for node in tree.body if isinstance(node, (ast.FunctionDef, ast.ClassDef))}
    table = {info["name"] for info in D.op_table()
             if info["grad_kind"] != "leaf" and "dagprop.register_op" not in info["notes_doc"]}
    assert table <= names  # ops registered from Python by other tests come after the stubs
    assert {"Graph", "Expr", "Error", "grad", "gradcheck"} <= names
    assert pathlib.Path(D.__file__).with_name("py.typed").exists()


def test_a_saved_graph_loads_back_with_its_parameters_and_runs(tmp_path):
    g, a, (w1, _, _) = seed_neuron()
    path = tmp_path / "neuron.json"
    g.save(str(path))
    h = D.load(str(path))
    assert h.find("w1").item() == 0.1
    out = h.node(a.id)  # a graph file keeps the node order
    assert out.op == "relu"
    h.backward(out)
    assert out.item() == pytest.approx(0.47) and h.find("w1").grad == pytest.approx(0.5)
    assert D.read_json(g.to_json()).find("b").item() == 0.3
    with pytest.raises(D.Error):
        D.read_json("{}")


def test_a_compiled_function_keeps_its_values_whatever_else_runs():
    g = D.Graph()
    x = g.input((3,), name="x")
    doubled, squared = x * 2.0, x * x
    f = g.compile(doubled)
    h = g.compile([squared])
    f.run({x: np.array([1.0, 2.0, 3.0])})
    h.run({x: np.array([-1.0, 5.0, 0.5])})
    g.run(squared, {x: np.array([9.0, 9.0, 9.0])})
    np.testing.assert_array_equal(f.value(doubled), [2.0, 4.0, 6.0])
    np.testing.assert_array_equal(h.value(squared), [1.0, 25.0, 0.25])
    np.testing.assert_array_equal(f({x: np.array([0.5, 0.5, 0.5])}), [1.0, 1.0, 1.0])
    assert f.has_run and f.num_steps == 1 and f.outputs[0] == doubled
    view = f.value(doubled)
    del f  # the view keeps its Function (and the graph) alive
    np.testing.assert_array_equal(view, [1.0, 1.0, 1.0])


def test_a_function_names_what_it_cannot_read():
    g = D.Graph()
    x = g.input((2,), name="x")
    y = D.exp(x)
    f = g.compile(D.sum(y))
    with pytest.raises(D.Error, match="has not completed a run yet"):
        f.value(f.outputs[0])
    f.run({x: np.zeros(2)})
    with pytest.raises(D.Error, match="keep"):
        f.value(y)
    kept = g.compile(D.sum(y), keep=[y])
    kept.run({x: np.zeros(2)})
    np.testing.assert_array_equal(kept.value(y), [1.0, 1.0])


def test_backward_retains_inner_gradients_on_request():
    g = D.Graph()
    w = g.parameter(np.array([0.5, -1.0]), name="w")
    h = D.tanh(w * 2.0)
    loss = D.sum(h * h)
    g.backward(loss, retain_grad=[h])
    t = np.tanh(np.array([1.0, -2.0]))
    np.testing.assert_allclose(h.grad, 2 * t, rtol=1e-15)
    np.testing.assert_allclose(w.grad, 2 * t * (1 - t * t) * 2.0, rtol=1e-14)


def test_labels_take_integer_arrays_and_reject_what_is_not_a_class():
    g = D.Graph()
    logits = g.parameter(np.array([[2.0, -1.0, 0.5], [0.0, 1.0, 3.0]]), name="logits")
    labels = g.labels(2, 3, name="labels", dtype=np.float64)
    loss = D.cross_entropy(logits, labels)
    from_ints = g.run(loss, {labels: np.array([0, 2])})
    from_floats = g.run(loss, {labels: np.array([0.0, 2.0])})
    assert from_ints == from_floats
    with pytest.raises(D.Error, match=r"was fed 3 in row 1; class labels are whole numbers in 0..2"):
        g.run(loss, {labels: np.array([0, 3], dtype=np.int32)})
    with pytest.raises(D.Error, match=r"was fed 0.5 in row 0"):
        g.run(loss, {labels: np.array([0.5, 1.0])})
