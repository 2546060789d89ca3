"""The scalar tape from Python: values as recorded, adjoints from one reverse sweep, each against
central finite differences; stale and foreign handles are refused."""

import math

import numpy as np
import pytest

import dagprop as D

UNARY = ["exp", "log", "sigmoid", "tanh", "relu", "softplus"]


def record(values, body):
    tape = D.ScalarTape()
    variables = [tape.variable(v) for v in values]
    return tape, variables, body(tape, *variables)


def finite_differences(values, body, eps=1e-6):
    out = []
    for i in range(len(values)):
        up, down = list(values), list(values)
        up[i] += eps
        down[i] -= eps
        out.append((record(up, body)[2].value - record(down, body)[2].value) / (2 * eps))
    return out


def check(values, body):
    tape, variables, y = record(values, body)
    tape.backward(y)
    expected = finite_differences(values, body)
    for v, e in zip(variables, expected):
        assert v.adjoint == pytest.approx(e, rel=1e-6, abs=1e-8)
    return y


REFERENCE = {
    "exp": math.exp,
    "log": math.log,
    "sigmoid": lambda v: 1 / (1 + math.exp(-v)),
    "tanh": math.tanh,
    "relu": lambda v: max(v, 0.0),
    "softplus": lambda v: math.log1p(math.exp(v)),
}


@pytest.mark.parametrize("a", [0.7, -0.7])
@pytest.mark.parametrize("op", UNARY)
def test_each_unary_op_has_its_value_and_the_adjoint_of_finite_differences(op, a):
    if op == "log" and a < 0:
        pytest.skip("log of a negative number is NaN")
    y = check([a, 1.3], lambda t, a, b: getattr(a * b + 0.2, op)() * a)
    assert y.value == pytest.approx(REFERENCE[op](a * 1.3 + 0.2) * a, rel=1e-12)


def test_arithmetic_with_numbers_on_either_side():
    y = check([0.5, -1.5, 2.0], lambda t, a, b, c: (2.0 - a) * b / c + 1 / (a + 3) - -c)
    assert y.value == pytest.approx((2.0 - 0.5) * -1.5 / 2.0 + 1 / 3.5 + 2.0)


def test_the_seed_neuron_on_the_tape():
    tape = D.ScalarTape()
    x1, x2 = tape.constant(0.5), tape.constant(0.6)
    w1, w2, b = tape.variable(0.1), tape.variable(0.2), tape.variable(0.3)
    a = tape.weighted_sum([x1, x2], [w1, w2], b).relu()
    tape.backward(a)
    assert a.value == pytest.approx(0.47)
    assert (w1.adjoint, w2.adjoint, b.adjoint) == pytest.approx((0.5, 0.6, 1.0))
    assert tape.adjoint(x1) == pytest.approx(0.1) and len(tape) == 7


def test_weighted_sum_matches_finite_differences():
    check([0.3, -0.2, 0.9, 0.4, 0.1],
          lambda t, x1, x2, w1, w2, b: t.weighted_sum([x1, x2], [w1, w2], b).sigmoid())


def test_to_graph_gives_the_same_value_and_gradients():
    tape, (a, b), y = record([0.4, 0.9], lambda t, a, b: (a * b).tanh() + a.exp())
    tape.backward(y)
    g = D.Graph()
    node = tape.to_graph(g, y)
    assert g.run(node) == pytest.approx(y.value)
    g.backward(node)
    assert g.find(f"v{a.index}").grad == pytest.approx(a.adjoint)


def test_mixing_tapes_and_stale_handles_are_errors():
    one, two = D.ScalarTape(), D.ScalarTape()
    x = one.variable(1.0)
    with pytest.raises(D.Error, match="two tapes"):
        x + two.variable(2.0)
    one.clear()
    with pytest.raises(D.Error):
        x.value
    with pytest.raises(TypeError):
        x + "a"
    assert math.isnan(D.ScalarTape().variable(-1.0).log().value)
