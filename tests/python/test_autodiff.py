"""Gradients as expressions (second order), gradcheck, node-local checks, threads, optimizers."""

import numpy as np
import pytest

import dagprop as D


def test_grad_returns_expressions_and_second_derivatives_work():
    g = D.Graph()
    x = g.parameter(np.array([0.3, -1.2, 2.0]), name="x")
    y = D.sum(x ** 3)
    (dx,) = D.grad(y, [x])
    assert isinstance(dx, D.Expr)
    np.testing.assert_allclose(g.run(dx), 3 * x.value ** 2)
    d2 = D.grad(D.sum(dx), x)  # a single Expr in, a single Expr out
    np.testing.assert_allclose(g.run(d2), 6 * x.value)


def test_grad_with_a_seed_is_a_vector_jacobian_product():
    g = D.Graph()
    x = g.parameter(np.array([1.0, 2.0]))
    seed = np.array([10.0, -1.0])
    np.testing.assert_allclose(g.run(D.grad(x * x, x, seed=seed)), 2 * x.value * seed)


def test_gradcheck_passes_a_right_gradient_and_reports_as_text():
    g = D.Graph()
    w = g.parameter(np.array([[0.1, -0.2], [0.3, 0.4]]), name="W")
    x = g.input((3, 2), name="x")
    loss = D.mean(D.sigmoid(x @ w))
    result = D.gradcheck(loss, [w], {x: np.arange(6.0).reshape(3, 2) / 6})
    assert result and result.ok and result.elements_checked == 4
    assert isinstance(result.report(), str)


def test_check_local_gradients_finds_no_failure_in_built_in_ops():
    g = D.Graph()
    w = g.parameter(np.array([0.5, -0.3]))
    assert D.check_local_gradients(D.sum(D.tanh(w) * D.exp(w))) == []


def test_results_are_bitwise_equal_at_any_thread_count():
    def run(threads):
        g = D.Graph()
        g.set_num_threads(threads)
        rng = np.random.default_rng(0)
        x = g.parameter(rng.normal(size=(64, 32)))
        w = g.parameter(rng.normal(size=(32, 16)))
        loss = D.mean(D.relu(x @ w))
        g.backward(loss)
        return loss.value.copy(), w.grad.copy(), g.num_threads

    serial, parallel = run(0), run(2)
    assert parallel[2] == 2
    np.testing.assert_array_equal(serial[0], parallel[0])
    np.testing.assert_array_equal(serial[1], parallel[1])


def test_backward_accumulates_when_asked():
    g = D.Graph()
    w = g.parameter(1.0)
    y = w * 3.0
    g.backward(y)
    g.backward(y, accumulate=True)
    assert w.grad == 6.0
    g.zero_grad()
    assert w.grad == 0.0


def test_an_sgd_step_moves_a_parameter_against_its_gradient():
    g = D.Graph()
    w = g.parameter(np.array([1.0, -2.0]), name="w")
    loss = D.sum(w * w)
    opt = D.nn.SGD([w], lr=0.25)
    g.backward(loss)
    opt.step()
    np.testing.assert_allclose(w.value, [0.5, -1.0])
    assert opt.steps_taken == 1


def test_adam_trains_a_tiny_regression():
    g = D.Graph()
    rng = np.random.default_rng(1)
    x = g.input((32, 3), name="x")
    t = g.input((32, 1), name="t")
    w = g.parameter(np.zeros((3, 1)), name="w")
    loss = D.mse_loss(x @ w, t)
    opt = D.nn.Adam([w], lr=0.05)
    xs = rng.normal(size=(32, 3))
    ts = xs @ np.array([[1.0], [-2.0], [0.5]])
    for _ in range(300):
        g.backward(loss, {x: xs, t: ts})
        opt.step()
    assert g.run(loss, {x: xs, t: ts}).item() < 1e-3


def test_initializers_give_numpy_arrays():
    w = D.nn.initialize("he_normal", 4, 3, seed=5)
    assert w.shape == (4, 3) and w.dtype == np.float32
    np.testing.assert_array_equal(w, D.nn.initialize("he_normal", 4, 3, seed=5))
    with pytest.raises(D.Error):
        D.nn.initialize("kaiming", 4, 3)
