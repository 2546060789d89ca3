"""Gradient cases for every op of the table, built from Python with the ops' raw attributes: the
Python twin of tests/ops/op_cases.cpp (same shapes, domains and expectations)."""

import zlib

import numpy as np

import dagprop as D

# What a case expects of its gradient, as tests/ops/op_cases.hpp says it.
FINITE_DIFFERENCES = "finite_differences"
STRAIGHT_THROUGH = "straight_through"
ZERO_BY_DEFINITION = "zero_by_definition"
NOT_DIFFERENTIABLE = "not_differentiable"

CASES = []  # (op, label, expectation, build(g) -> (y, wrt))


def case(op, label, expectation=FINITE_DIFFERENCES):
    def register(build):
        CASES.append((op, label, expectation, build))
        return build

    return register


def rng(name):
    return np.random.default_rng(zlib.crc32(name.encode()))


def param(g, name, shape, low, high):
    return g.parameter(rng(name).uniform(low, high, size=shape), name=name)


def signed(g, name, shape):
    """Values away from kinks and singularities: |x| in [0.2, 2] with random signs."""
    r = rng(name)
    magnitude = r.uniform(0.2, 2.0, size=shape)
    return g.parameter(np.where(r.uniform(size=shape) < 0.5, -magnitude, magnitude), name=name)


def labels(g, values):
    return g.constant(np.array(values, dtype=np.float64))


def unary(op, label, shape, low, high, expectation=FINITE_DIFFERENCES, /, **attrs):
    @case(op, label, expectation)
    def build(g):
        x = param(g, "x", shape, low, high)
        return getattr(D, op)(x, **attrs), [x]


def unary_signed(op, label, shape, expectation=FINITE_DIFFERENCES, /, **attrs):
    @case(op, label, expectation)
    def build(g):
        x = signed(g, "x", shape)
        return getattr(D, op)(x, **attrs), [x]


def binary(op, label, a, b, low=-2, high=2, expectation=FINITE_DIFFERENCES, /, **attrs):
    @case(op, label, expectation)
    def build(g):
        wrt = [param(g, "a", a, low, high), param(g, "b", b, low, high)]
        return getattr(D, op)(*wrt, **attrs), wrt


def fused(op, label, shape, low, high, signed_x, /, **attrs):
    """A fused local gradient f(x, g): x away from kinks, g any."""

    @case(op, label)
    def build(g):
        x = signed(g, "x", shape) if signed_x else param(g, "x", shape, low, high)
        wrt = [x, param(g, "g", shape, -1.5, 1.5)]
        return getattr(D, op)(*wrt, **attrs), wrt


for name in ("add", "sub", "mul"):
    binary(name, "same shape", (3, 4), (3, 4))
    binary(name, "bias row broadcast", (3, 4), (4,))
    binary(name, "both broadcast", (2, 1, 4), (3, 1))
    binary(name, "scalar and vector", (), (3,))
binary("div", "same shape", (3, 4), (3, 4), 0.5, 2)
binary("div", "broadcast divisor", (3, 4), (3, 1), 0.5, 2)
unary("neg", "matrix", (3, 4), -2, 2)
unary("scale", "matrix", (3, 4), -2, 2, factor=-1.7)
unary("pow", "cube", (5,), -2, 2, exponent=3.0)
unary("pow", "fractional exponent", (2, 3), 0.3, 2, exponent=-1.5)
unary("exp", "matrix", (3, 4), -2, 2)
unary("log", "positive", (3, 4), 0.2, 3)
unary("sqrt", "positive", (3, 4), 0.2, 3)
unary_signed("abs", "away from 0", (3, 4))
unary_signed("step", "zero gradient", (3, 4), ZERO_BY_DEFINITION)
unary_signed("sign", "zero gradient", (3, 4), ZERO_BY_DEFINITION)
unary("stop_gradient", "detached", (3, 4), -2, 2, ZERO_BY_DEFINITION)
unary_signed("step_ste", "straight through", (3, 4), STRAIGHT_THROUGH)

unary("sigmoid", "matrix", (3, 4), -4, 4)
unary("tanh", "matrix", (3, 4), -3, 3)
unary_signed("relu", "away from 0", (3, 4))
unary_signed("leaky_relu", "away from 0", (3, 4), slope=0.1)
unary_signed("elu", "away from 0", (3, 4), alpha=1.3)
unary("gelu", "matrix", (3, 4), -3, 3)
unary("softplus", "matrix", (3, 4), -5, 5)
unary("silu", "matrix", (3, 4), -4, 4)

fused("sigmoid_grad", "from the output", (3, 4), 0.05, 0.95, False)
fused("tanh_grad", "from the output", (3, 4), -0.95, 0.95, False)
fused("relu_grad", "mask", (3, 4), 0, 0, True)
fused("leaky_relu_grad", "mask", (3, 4), 0, 0, True, slope=0.1)
fused("elu_grad", "both sides", (3, 4), 0, 0, True, alpha=1.3)
fused("gelu_grad", "second derivative", (3, 4), -3, 3, False)
fused("silu_grad", "second derivative", (3, 4), -4, 4, False)

unary("sum", "all", (3, 4), -2, 2)
unary("sum", "axis 0", (3, 4), -2, 2, axis=0)
unary("sum", "last axis keepdim", (2, 3, 4), -2, 2, axis=-1, keepdim=True)
unary("mean", "all", (3, 4), -2, 2)
unary("mean", "middle axis", (2, 3, 4), -2, 2, axis=1)
unary("reshape", "matrix to matrix", (2, 6), -2, 2, shape=(3, 4))
unary("transpose", "last two axes", (2, 3, 4), -2, 2)
unary("transpose", "outer axes", (2, 3, 4), -2, 2, axis_a=0, axis_b=2)
unary("broadcast_to", "column to batch", (3, 1), -2, 2, shape=(2, 3, 4))
unary("sum_to", "batch to column", (2, 3, 4), -2, 2, shape=(3, 1))

binary("matmul", "2-D", (3, 4), (4, 5))
binary("matmul", "batched", (2, 3, 4), (2, 4, 5))
binary("matmul", "batch times shared matrix", (2, 3, 4), (4, 5))
binary("matmul", "shared matrix times batch", (3, 4), (2, 4, 5))
# Operands read transposed: axis -2 reads a transposed, axis2 -1 reads b transposed.
binary("matmul", "A B^T", (3, 4), (5, 4), transpose_b=True)
binary("matmul", "A^T B", (4, 3), (4, 5), transpose_a=True)
binary("matmul", "A^T B^T, batch times shared matrix", (2, 4, 3), (5, 4), transpose_a=True, transpose_b=True)


@case("weighted_sum", "one neuron")
def _(g):
    wrt = [param(g, "x", (5,), -2, 2), param(g, "w", (5,), -2, 2), param(g, "b", (), -2, 2)]
    return D.weighted_sum(*wrt), wrt


@case("weighted_sum", "per-row weights and bias")
def _(g):
    wrt = [param(g, "x", (3, 5), -2, 2), param(g, "w", (3, 5), -2, 2), param(g, "b", (3,), -2, 2)]
    return D.weighted_sum(*wrt), wrt


unary("softmax", "rows", (3, 5), -3, 3)
unary("log_softmax", "rows", (3, 5), -3, 3)


@case("softmax_grad", "second order")
def _(g):
    wrt = [param(g, "y", (3, 5), 0.05, 0.5), param(g, "g", (3, 5), -1, 1)]
    return D.softmax_grad(*wrt), wrt


@case("log_softmax_grad", "second order")
def _(g):
    wrt = [param(g, "y", (3, 5), -3, -0.1), param(g, "g", (3, 5), -1, 1)]
    return D.log_softmax_grad(*wrt), wrt


binary("mse_loss", "matrix", (3, 4), (3, 4))


@case("cross_entropy", "logits")
def _(g):
    z = param(g, "z", (4, 5), -3, 3)
    return D.cross_entropy(z, labels(g, [0, 4, 2, 2])), [z]


@case("cross_entropy_grad", "second order")
def _(g):
    wrt = [param(g, "z", (4, 5), -3, 3), param(g, "g", (), 0.5, 2)]
    return D.cross_entropy_grad(wrt[0], labels(g, [1, 0, 3, 4]), wrt[1]), wrt


@case("binary_cross_entropy_with_logits", "logits and targets")
def _(g):
    wrt = [param(g, "z", (3, 4), -4, 4), param(g, "t", (3, 4), 0, 1)]
    return D.binary_cross_entropy_with_logits(*wrt), wrt


@case("one_hot", "labels", NOT_DIFFERENTIABLE)
def _(g):
    x = g.parameter(np.array([0.0, 2.0, 1.0]), name="labels")
    return D.one_hot(x, classes=3), [x]


@case("concat", "three inputs along axis 1")
def _(g):
    wrt = [param(g, "a", (2, 3), -2, 2), param(g, "b", (2, 1), -2, 2), param(g, "c", (2, 2), -2, 2)]
    return D.concat(wrt, axis=1), wrt


# ranges: (start, stop, step) per axis, normalized (-6 on an axis of 7 is 1).
unary("slice", "strided, two axes", (4, 7), -2, 2, ranges=[1, 4, 1, 1, 7, 2])
unary("slice_grad", "second order", (3, 3), -2, 2, ranges=[1, 4, 1, 1, 7, 2], shape=(4, 7))


@case("index_select", "repeated rows")
def _(g):
    x = param(g, "x", (2, 4, 3), -2, 2)
    return D.index_select(x, labels(g, [3, 0, 3, 1, 3]), axis=1), [x]


@case("index_add", "second order")
def _(g):
    x = param(g, "g", (2, 5, 3), -2, 2)
    return D.index_add(x, labels(g, [3, 0, 3, 1, 3]), axis=1, shape=(2, 4, 3)), [x]


@case("gather", "along rows")
def _(g):
    x = param(g, "x", (3, 4), -2, 2)
    index = g.constant(np.array([[0, 3, 3], [1, 1, 1], [2, 0, 3]], dtype=np.float64))
    return D.gather(x, index, axis=1), [x]


@case("scatter_add", "second order")
def _(g):
    x = param(g, "g", (2, 4), -2, 2)
    index = g.constant(np.array([[0, 2, 2, 1], [0, 2, 0, 1]], dtype=np.float64))
    return D.scatter_add(x, index, axis=0, shape=(3, 4)), [x]


binary("maximum", "broadcast, no ties", (3, 4), (4,))
binary("minimum", "broadcast, no ties", (3, 1), (3, 4))


@case("where", "mask picks per element")
def _(g):
    wrt = [param(g, "a", (2, 3), -2, 2), param(g, "b", (3,), -2, 2)]
    mask = g.constant(np.array([[1.0, 0, 0], [1, 1, 0]]))
    return D.where(mask, *wrt), wrt


for name in ("greater", "greater_equal", "less", "less_equal", "equal", "not_equal"):
    binary(name, "mask", (3, 4), (4,), -2, 2, ZERO_BY_DEFINITION)
unary("max", "along rows", (3, 5), -2, 2, axis=1)
unary("max", "middle axis keepdim", (2, 4, 3), -2, 2, axis=1, keepdim=True)
unary("min", "along columns", (4, 3), -2, 2, axis=0)
unary("argmax", "positions", (3, 4), -2, 2, ZERO_BY_DEFINITION, axis=1)
unary("argmin", "positions", (3, 4), -2, 2, ZERO_BY_DEFINITION, axis=0)


@case("layer_norm", "rows of a batch")
def _(g):
    wrt = [param(g, "x", (2, 3, 5), -2, 2), param(g, "gamma", (5,), 0.5, 1.5),
           param(g, "beta", (5,), -1, 1)]
    return D.layer_norm(*wrt, eps=1e-5), wrt


unary("batch_moments", "per channel of NCHW", (3, 2, 2, 2), -2, 2)


@case("batch_norm", "given moments")
def _(g):
    wrt = [param(g, "x", (3, 2, 4), -2, 2), g.parameter(np.array([[0.3, -0.2], [0.8, 1.7]])),
           param(g, "gamma", (2,), 0.5, 1.5), param(g, "beta", (2,), -1, 1)]
    return D.batch_norm(*wrt, eps=1e-5), wrt


@case("batch_norm", "training statistics")
def _(g):
    x, gamma, beta = param(g, "x", (4, 3), -2, 2), param(g, "gamma", (3,), 0.5, 1.5), param(
        g, "beta", (3,), -1, 1)
    return D.batch_norm(x, D.batch_moments(x), gamma, beta, eps=1e-5), [x, gamma, beta]


@case("dropout", "fixed step")
def _(g):
    x = param(g, "x", (4, 6), -2, 2)
    return D.dropout(x, g.constant(3.0), p=0.4, seed=1234), [x]


@case("conv2d", "3x3 padding 1 with bias")
def _(g):
    wrt = [param(g, "x", (2, 3, 5, 5), -2, 2), param(g, "w", (4, 3, 3, 3), -1, 1),
           param(g, "b", (4,), -1, 1)]
    return D.conv2d(*wrt, stride=[1, 1], padding=[1, 1], dilation=[1, 1], groups=1), wrt


@case("conv2d", "stride 2, dilation 2, groups 2")
def _(g):
    wrt = [param(g, "x", (1, 4, 7, 8), -2, 2), param(g, "w", (6, 2, 2, 3), -1, 1)]
    return D.conv2d(*wrt, stride=[2, 1], padding=[1, 2], dilation=[2, 2], groups=2), wrt


@case("conv2d_input_grad", "second order, stride 2")
def _(g):
    wrt = [param(g, "g", (2, 4, 3, 3), -1, 1), param(g, "w", (4, 3, 3, 3), -1, 1)]
    return D.conv2d_input_grad(*wrt, stride=[2, 2], padding=[1, 1], dilation=[1, 1], groups=1, extent=[6, 5]), wrt


@case("conv2d_weight_grad", "second order")
def _(g):
    wrt = [param(g, "x", (2, 3, 5, 5), -2, 2), param(g, "g", (2, 4, 3, 3), -1, 1)]
    return D.conv2d_weight_grad(*wrt, stride=[2, 2], padding=[1, 1], dilation=[1, 1], groups=1, extent=[3, 3]), wrt


unary("max_pool2d", "2x2 windows", (2, 2, 4, 6), -2, 2, kernel=[2, 2], stride=[2, 2], padding=[0, 0])
unary("max_pool2d", "3x3 stride 2 padding 1", (1, 2, 5, 5), -2, 2, kernel=[3, 3], stride=[2, 2], padding=[1, 1])


@case("max_pool2d_grad", "second order")
def _(g):
    wrt = [param(g, "x", (1, 2, 5, 5), -2, 2), param(g, "g", (1, 2, 3, 3), -1, 1)]
    return D.max_pool2d_grad(*wrt, kernel=[3, 3], stride=[2, 2], padding=[1, 1]), wrt


@case("max_pool2d_select", "adjoint of the gradient")
def _(g):
    wrt = [param(g, "x", (2, 1, 4, 4), -2, 2), param(g, "u", (2, 1, 4, 4), -1, 1)]
    return D.max_pool2d_select(*wrt, kernel=[2, 2], stride=[2, 2], padding=[0, 0]), wrt


unary("avg_pool2d", "3x3 stride 2 padding 1", (2, 2, 5, 6), -2, 2, kernel=[3, 3], stride=[2, 2], padding=[1, 1])
unary("avg_pool2d_grad", "second order", (2, 2, 3, 3), -1, 1, kernel=[3, 3], stride=[2, 2], padding=[1, 1], extent=[5, 6])
unary("global_avg_pool2d", "feature maps", (2, 3, 4, 5), -2, 2)
