"""Every op of the table, built from Python and gradient-checked in float64: the analytic gradient
(dagprop.grad, run) against central finite differences computed here in numpy, by perturbing the
parameters through their zero-copy value views. Ops whose gradient is zero or straight-through by
definition, and one_hot (not differentiable), are checked for exactly that, as the C++ suite does."""

import numpy as np
import pytest

import dagprop as D
from op_cases import (CASES, FINITE_DIFFERENCES, NOT_DIFFERENTIABLE, STRAIGHT_THROUGH,
                      ZERO_BY_DEFINITION)


def projected(g, y):
    """A scalar of y: y itself, or y projected on a fixed random vector."""
    if y.shape == ():
        return y
    r = np.random.default_rng(7).uniform(-1, 1, size=y.shape)
    return D.sum(y * r)


def numeric_gradients(g, loss, wrt, eps=1e-6):
    grads = []
    for p in wrt:
        value = p.value  # a view of the parameter's own storage: writes perturb it in place
        flat = value.reshape(-1)
        numeric = np.zeros(flat.shape)
        for i in range(flat.size):
            saved = flat[i]
            flat[i] = saved + eps
            up = g.run(loss).item()
            flat[i] = saved - eps
            down = g.run(loss).item()
            flat[i] = saved
            numeric[i] = (up - down) / (2 * eps)
        grads.append(numeric.reshape(value.shape))
    return grads


@pytest.mark.parametrize("op, label, expectation, build", CASES,
                         ids=[f"{c[0]}-{c[1]}" for c in CASES])
def test_op_gradient_matches_its_definition(op, label, expectation, build):
    g = D.Graph()
    y, wrt = build(g)
    assert y.op == op, f"the case for {op} builds a {y.op} node"
    if expectation == FINITE_DIFFERENCES:
        loss = projected(g, y)
        analytic = g.run(D.grad(loss, wrt))
        numeric = numeric_gradients(g, loss, wrt)
        for p, a, n in zip(wrt, analytic, numeric):
            np.testing.assert_allclose(a, n, atol=1e-5, rtol=1e-3, err_msg=f"d{op}/d{p.name}")
        # The engine's own check agrees from Python too.
        result = D.gradcheck(y, wrt)
        assert result.ok, result.report()
    elif expectation == STRAIGHT_THROUGH:
        seed = np.random.default_rng(3).uniform(-1, 1, size=y.shape)
        dx = g.run(D.grad(y, wrt[0], seed=seed))
        np.testing.assert_array_equal(dx, seed)
    elif expectation == ZERO_BY_DEFINITION:
        dx = g.run(D.grad(D.sum(y), wrt[0]))
        np.testing.assert_array_equal(dx, np.zeros(wrt[0].shape))
    else:
        assert expectation == NOT_DIFFERENTIABLE
        with pytest.raises(D.Error):
            D.grad(D.sum(y), wrt)


def test_every_op_of_the_table_has_a_case():
    covered = {c[0] for c in CASES}
    # Ops registered from Python by other tests (dagprop.register_op) are test_user_ops.py's.
    missing = [info["name"] for info in D.op_table()
               if info["grad_kind"] != "leaf" and info["name"] not in covered
               and "dagprop.register_op" not in info["notes_doc"]]
    assert not missing, f"ops without a case in tests/python/op_cases.py: {missing}"


def test_every_op_is_a_function_with_its_formulas_as_docstring():
    for info in D.op_table():
        if info["grad_kind"] == "leaf":
            assert not hasattr(D, info["name"]), "leaves are Graph methods"
            continue
        f = getattr(D, info["name"])
        assert info["name"] in D.ops
        assert info["forward_doc"] in f.__doc__
        assert info["gradient_doc"] in f.__doc__
