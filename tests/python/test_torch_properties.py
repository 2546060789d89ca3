"""Property-based comparison with PyTorch (python3-hypothesis, python3-torch; derandomized, so CI
sees the same examples every run): random graphs over
the differentiable elementwise ops, with broadcasting, fan-out and diamonds, in float64; the stable
ops at magnitudes up to 800; an MLP training step."""

import numpy as np
import pytest

import dagprop as D

torch = pytest.importorskip("torch", reason="python3-torch is not installed: apt-get install "
                                            "python3-torch to compare against PyTorch")
hypothesis = pytest.importorskip("hypothesis", reason="python3-hypothesis is not installed")
from hypothesis import given, settings  # noqa: E402
from hypothesis import strategies as st  # noqa: E402
from hypothesis.extra import numpy as hnp  # noqa: E402

# (dagprop, torch) pairs that are smooth on all of [-2, 2].
UNARY = {
    "tanh": (D.tanh, torch.tanh),
    "sigmoid": (D.sigmoid, torch.sigmoid),
    "softplus": (D.softplus, torch.nn.functional.softplus),
    "silu": (D.silu, torch.nn.functional.silu),
    "gelu": (D.gelu, torch.nn.functional.gelu),
    "exp": (D.exp, torch.exp),
    "neg": (D.neg, torch.neg),
}
BINARY = {
    "add": (lambda a, b: a + b, lambda a, b: a + b),
    "sub": (lambda a, b: a - b, lambda a, b: a - b),
    "mul": (lambda a, b: a * b, lambda a, b: a * b),
}


@st.composite
def graphs(draw):
    """Two broadcastable leaves and a program over them: each step applies a unary op to an
    earlier node or a binary op to two earlier nodes (reusing nodes: fan-out and diamonds)."""
    shapes = draw(hnp.mutually_broadcastable_shapes(num_shapes=2, min_dims=0, max_dims=3,
                                                    max_side=3))
    values = [draw(hnp.arrays(np.float64, s, elements=st.floats(-2, 2))) for s in shapes.input_shapes]
    steps = []
    for i in range(draw(st.integers(1, 6))):
        available = 2 + i
        if draw(st.booleans()):
            steps.append(("unary", draw(st.sampled_from(sorted(UNARY))),
                          draw(st.integers(0, available - 1))))
        else:
            steps.append(("binary", draw(st.sampled_from(sorted(BINARY))),
                          draw(st.integers(0, available - 1)), draw(st.integers(0, available - 1))))
    return values, steps


def build(values, steps, leaf, ops):
    nodes = [leaf(v) for v in values]
    for step in steps:
        if step[0] == "unary":
            nodes.append(ops[0][step[1]](nodes[step[2]]))
        else:
            nodes.append(ops[1][step[1]](nodes[step[2]], nodes[step[3]]))
    return nodes


@settings(max_examples=60, deadline=None, derandomize=True, database=None)
@given(graphs())
def test_random_graphs_match_pytorch_in_values_and_gradients(graph):
    values, steps = graph
    g = D.Graph()
    d_ops = ({k: v[0] for k, v in UNARY.items()}, {k: v[0] for k, v in BINARY.items()})
    t_ops = ({k: v[1] for k, v in UNARY.items()}, {k: v[1] for k, v in BINARY.items()})
    nodes = build(values, steps, g.parameter, d_ops)
    # Every node feeds the loss, so each gradient sees every path (fan-out, diamonds).
    loss = nodes[0] * 0.0
    for n in nodes:
        loss = loss + D.sum(n)
    loss = D.sum(loss)
    g.backward(loss)
    tensors = [torch.tensor(v, requires_grad=True) for v in values]
    t_nodes = build(tensors, steps, lambda t: t, t_ops)
    t_loss = (t_nodes[0] * 0.0 + sum(n.sum() for n in t_nodes)).sum()
    t_loss.backward()
    assert loss.item() == pytest.approx(t_loss.item(), rel=1e-10, abs=1e-10)
    for p, t in zip(nodes[:2], tensors):
        np.testing.assert_allclose(p.grad, t.grad.numpy(), rtol=1e-9, atol=1e-9)


@settings(max_examples=40, deadline=None, derandomize=True, database=None)
@given(hnp.arrays(np.float64, st.integers(1, 8), elements=st.floats(-800, 800)))
def test_stable_ops_stay_finite_and_match_pytorch_at_magnitude_800(x0):
    g = D.Graph()
    x = g.parameter(x0)
    t = torch.tensor(x0, requires_grad=True)
    cases = [
        (D.sigmoid(x), torch.sigmoid(t)),
        (D.softplus(x), torch.nn.functional.softplus(t)),
        (D.log_softmax(x), torch.log_softmax(t, -1)),
        (D.binary_cross_entropy_with_logits(x, np.full(x0.shape, 0.25)),
         torch.nn.functional.binary_cross_entropy_with_logits(t, torch.full(x0.shape, 0.25, dtype=torch.float64))),
    ]
    for y, ty in cases:
        value = g.run(y)
        assert np.all(np.isfinite(value))
        np.testing.assert_allclose(value, ty.detach().numpy(), rtol=1e-12, atol=1e-12)
        gx = g.run(D.grad(D.sum(y), x))
        (tg,) = torch.autograd.grad(ty.sum(), t)
        assert np.all(np.isfinite(gx))
        np.testing.assert_allclose(gx, tg.numpy(), rtol=1e-10, atol=1e-12)


def test_an_mlp_training_step_matches_pytorch():
    rng = np.random.default_rng(5)
    xs, labels = rng.normal(size=(16, 4)), rng.integers(0, 3, size=16)
    w1, b1, w2, b2 = (rng.normal(size=(4, 8)) * 0.5, np.zeros(8), rng.normal(size=(8, 3)) * 0.5,
                      np.zeros(3))
    g = D.Graph()
    x = g.input((16, 4), name="x")
    y = g.input((16,), name="y")
    params = [g.parameter(p) for p in (w1, b1, w2, b2)]
    loss = D.cross_entropy(D.tanh(x @ params[0] + params[1]) @ params[2] + params[3], y)
    opt = D.nn.SGD(params, lr=0.1, momentum=0.9)
    tparams = [torch.tensor(p, requires_grad=True) for p in (w1, b1, w2, b2)]
    topt = torch.optim.SGD(tparams, lr=0.1, momentum=0.9)
    tx, ty = torch.tensor(xs), torch.tensor(labels)
    for _ in range(3):
        g.backward(loss, {x: xs, y: labels.astype(np.float64)})
        opt.step()
        topt.zero_grad()
        tl = torch.nn.functional.cross_entropy(
            torch.tanh(tx @ tparams[0] + tparams[1]) @ tparams[2] + tparams[3], ty)
        tl.backward()
        topt.step()
        assert loss.item() == pytest.approx(tl.item(), rel=1e-12)
    for p, t in zip(params, tparams):
        np.testing.assert_allclose(p.value, t.detach().numpy(), rtol=1e-12, atol=1e-13)
