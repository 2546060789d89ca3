"""Values and gradients of several ops against PyTorch (Debian's python3-torch), in float64."""

import numpy as np
import pytest

import dagprop as D

torch = pytest.importorskip("torch", reason="python3-torch is not installed: apt-get install "
                                            "python3-torch to compare against PyTorch")


def compare(build_dagprop, build_torch, *arrays, atol=1e-12, rtol=1e-10):
    g = D.Graph()
    params = [g.parameter(a) for a in arrays]
    y = build_dagprop(*params)
    loss = D.sum(y * np.linspace(-1, 1, int(np.prod(y.shape))).reshape(y.shape))
    g.backward(loss)
    tensors = [torch.tensor(a, requires_grad=True) for a in arrays]
    ty = build_torch(*tensors)
    weights = torch.tensor(np.linspace(-1, 1, ty.numel()).reshape(tuple(ty.shape)))
    (ty * weights).sum().backward()
    np.testing.assert_allclose(g.run(y), ty.detach().numpy(), atol=atol, rtol=rtol)
    for p, t in zip(params, tensors):
        np.testing.assert_allclose(p.grad, t.grad.numpy(), atol=atol, rtol=rtol)


rng = np.random.default_rng(11)
A, B = rng.normal(size=(4, 5)), rng.normal(size=(5, 3))

CASES = {
    "matmul": (lambda a, b: a @ b, lambda a, b: a @ b, A, B),
    "sigmoid": (D.sigmoid, torch.sigmoid, A),
    "tanh": (D.tanh, torch.tanh, A),
    "softplus": (D.softplus, torch.nn.functional.softplus, A),
    "gelu": (D.gelu, torch.nn.functional.gelu, A),
    "silu": (D.silu, torch.nn.functional.silu, A),
    "elu": (lambda x: D.elu(x, alpha=1.0), torch.nn.functional.elu, A),
    "softmax": (D.softmax, lambda x: torch.softmax(x, -1), A),
    "log_softmax": (D.log_softmax, lambda x: torch.log_softmax(x, -1), A),
    "mean axis 0": (lambda x: D.mean(x, axis=0), lambda x: x.mean(0), A),
    "layer_norm": (lambda x, gamma, beta: D.layer_norm(x, gamma, beta, eps=1e-5),
                   lambda x, gamma, beta: torch.nn.functional.layer_norm(x, (5,), gamma, beta),
                   A, rng.uniform(0.5, 1.5, 5), rng.normal(size=5)),
    "conv2d": (lambda x, w: D.conv2d(x, w, stride=[1, 1], padding=[1, 1], dilation=[1, 1], groups=1),
               lambda x, w: torch.nn.functional.conv2d(x, w, padding=1),
               rng.normal(size=(2, 3, 5, 5)), rng.normal(size=(4, 3, 3, 3))),
    "max_pool2d": (lambda x: D.max_pool2d(x, kernel=[2, 2], stride=[2, 2], padding=[0, 0]),
                   lambda x: torch.nn.functional.max_pool2d(x, 2),
                   rng.normal(size=(2, 2, 4, 6))),
}


@pytest.mark.parametrize("name", sorted(CASES))
def test_values_and_gradients_match_pytorch(name):
    build_dagprop, build_torch, *arrays = CASES[name]
    compare(build_dagprop, build_torch, *arrays, atol=1e-9 if name == "conv2d" else 1e-12)


def test_cross_entropy_matches_pytorch():
    g = D.Graph()
    z = g.parameter(A)
    labels = np.array([0, 4, 2, 1])
    loss = D.cross_entropy(z, labels.astype(np.float64))
    g.backward(loss)
    tz = torch.tensor(A, requires_grad=True)
    tl = torch.nn.functional.cross_entropy(tz, torch.tensor(labels))
    tl.backward()
    assert loss.item() == pytest.approx(tl.item(), rel=1e-12)
    np.testing.assert_allclose(z.grad, tz.grad.numpy(), atol=1e-12)


def test_second_derivatives_match_torch_autograd_grad_with_create_graph():
    x0 = np.array([0.3, -0.7, 1.1])
    g = D.Graph()
    x = g.parameter(x0)
    y = D.sum(D.tanh(x) * D.sigmoid(x))
    dx = D.grad(y, x)
    d2 = D.grad(D.sum(dx * dx), x)
    tx = torch.tensor(x0, requires_grad=True)
    ty = (torch.tanh(tx) * torch.sigmoid(tx)).sum()
    (tdx,) = torch.autograd.grad(ty, tx, create_graph=True)
    (td2,) = torch.autograd.grad((tdx * tdx).sum(), tx)
    np.testing.assert_allclose(g.run(dx), tdx.detach().numpy(), atol=1e-12)
    np.testing.assert_allclose(g.run(d2), td2.numpy(), atol=1e-12)
