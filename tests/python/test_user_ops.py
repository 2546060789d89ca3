"""Ops written in Python: forward and gradient as numpy functions, usable in graphs, differentiated,
checked by gradcheck, drawn; their mistakes reach the caller with a message."""

import itertools

import numpy as np
import pytest

import dagprop as D

_names = itertools.count()


def unique(name):
    """The op table is per process: every test registers its own names."""
    return f"py_{name}_{next(_names)}"


def register_cube():
    return D.register_op(unique("cube"), lambda x: x ** 3, lambda g, y, x: [3 * x ** 2 * g],
                         forward_doc="y = x^3", gradient_doc="dx = 3 x^2 g")


def test_a_python_op_runs_differentiates_and_passes_gradcheck():
    cube = register_cube()
    g = D.Graph()
    x = g.parameter(np.array([0.5, -1.5, 2.0]), name="x")
    y = D.sum(cube(x) * D.sigmoid(x))
    np.testing.assert_allclose(g.run(cube(x)), x.value ** 3)
    g.backward(y)
    s = 1 / (1 + np.exp(-x.value))
    np.testing.assert_allclose(x.grad, 3 * x.value ** 2 * s + x.value ** 3 * s * (1 - s))
    assert D.gradcheck(y, [x]).ok
    assert D.check_local_gradients(y) == []
    assert cube.__name__ in D.ops and "y = x^3" in cube.__doc__


def test_a_python_op_of_two_inputs_with_its_own_shape_rule_in_float32():
    outer = D.register_op(unique("outer"), lambda a, b: np.multiply.outer(a, b),
                          lambda g, y, a, b: (g @ b, a @ g), shape=lambda a, b: a + b)
    g = D.Graph()
    a = g.parameter(np.array([1.0, 2.0], dtype=np.float32))
    b = g.parameter(np.array([3.0, 4.0, 5.0], dtype=np.float32))
    y = outer(a, b)
    assert y.shape == (2, 3)
    g.backward(D.sum(y))
    assert a.grad.dtype == np.float32
    np.testing.assert_allclose(a.grad, [12.0, 12.0])
    np.testing.assert_allclose(b.grad, [3.0, 3.0, 3.0])


def test_a_python_op_runs_in_the_parallel_executor_and_is_drawn():
    cube = register_cube()
    g = D.Graph()
    g.set_num_threads(2)
    x = g.parameter(np.linspace(-1, 1, 8), name="x")
    y = D.sum(cube(x) + cube(x * 2.0))
    g.backward(y)
    np.testing.assert_allclose(x.grad, 3 * x.value ** 2 + 24 * x.value ** 2)
    assert cube.__name__ in g.to_dot()


def test_an_exception_in_forward_reaches_the_caller_as_itself_naming_the_op():
    def forward(x):
        raise ZeroDivisionError("no luck")

    bad = D.register_op(unique("raises"), forward, lambda g, y, x: [g])
    g = D.Graph()
    x = g.parameter(np.ones(2))
    with pytest.raises(ZeroDivisionError, match="no luck") as info:
        g.run(bad(x))
    assert f"dagprop Python op '{bad.__name__}'" in "".join(getattr(info.value, "__notes__", []))
    assert g.run(x * 2.0).tolist() == [2.0, 2.0]  # the graph stays usable


def test_a_python_op_returning_the_wrong_shape_or_dtype_is_an_error_naming_both():
    wrong_shape = D.register_op(unique("shape"), lambda x: x[:1], lambda g, y, x: [g])
    wrong_dtype = D.register_op(unique("dtype"), lambda x: x.astype(np.float32),
                                lambda g, y, x: [g])
    g = D.Graph()
    x = g.parameter(np.ones(3))
    with pytest.raises(D.Error, match=r"returned float64 of shape \(1,\), but the node is float64 "
                                      r"of shape \[3\]"):
        g.run(wrong_shape(x))
    with pytest.raises(D.Error, match=r"returned float32 of shape \(3,\), but the node is float64"):
        g.run(wrong_dtype(x))


def test_a_gradient_returning_the_wrong_number_of_arrays_is_an_error():
    bad = D.register_op(unique("grads"), lambda a, b: a + b, lambda g, y, a, b: [g])
    g = D.Graph()
    a, b = g.parameter(np.ones(2)), g.parameter(np.ones(2))
    with pytest.raises(D.Error, match=r"gradient must return one array per input \(2\)"):
        g.backward(D.sum(bad(a, b)))


def test_second_derivatives_through_a_python_op_are_refused_in_words():
    cube = register_cube()
    g = D.Graph()
    x = g.parameter(np.ones(2))
    dx = D.grad(D.sum(cube(x)), x)
    with pytest.raises(D.Error, match=r"no gradient of its own, so second derivatives"):
        D.grad(D.sum(dx), x)


def test_a_name_of_the_op_table_is_refused():
    # "constant" is a leaf of the table (a Graph method, so no function of the package).
    with pytest.raises(D.Error, match=r"an op named 'constant' .* is already registered"):
        D.register_op("constant", lambda x: x, lambda g, y, x: [g])


def test_a_name_of_the_package_is_refused():
    with pytest.raises(D.Error, match=r"'grad' is already a name in dagprop"):
        D.register_op("grad", lambda x: x, lambda g, y, x: [g])
