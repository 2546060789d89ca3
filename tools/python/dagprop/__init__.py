"""dagprop from Python: computation graphs with reverse-mode autodiff, numpy in and out.

    import dagprop
    g = dagprop.Graph()
    x1, x2 = g.constant(0.5), g.constant(0.6)
    w1, w2, b = g.parameter(0.1, name="w1"), g.parameter(0.2, name="w2"), g.parameter(0.3, name="b")
    a = dagprop.relu(w1 * x1 + w2 * x2 + b)
    g.backward(a)          # w1.grad == 0.5

Every op of the C++ op table is a function here (dagprop.relu, dagprop.matmul, ...), made when the
package is imported from the registry, so an op added in C++ needs no binding code. docs/python.md
has the whole story.
"""

from . import _dagprop
from ._dagprop import (  # noqa: F401  (re-exports)
    Error,
    Expr,
    Function,
    GradcheckResult,
    Graph,
    LocalGradientFailure,
    Scalar,
    ScalarTape,
    Scope,
    blas_kernels,
    check_local_gradients,
    data,
    grad,
    gradcheck,
    load,
    nn,
    op_table_markdown,
    read_json,
)

__all__ = [
    "Error", "Expr", "Function", "GradcheckResult", "Graph", "LocalGradientFailure", "Scalar", "ScalarTape", "Scope",
    "blas_kernels",
    "check_local_gradients", "data", "grad", "gradcheck", "load", "nn", "op_table_markdown", "op_table",
    "ops", "read_json",
]

_ATTRS_DOC = (
    "Attributes are keywords named as the op declares them (its attribute table, docs/ops.md); "
    "an axis given to a reduction without all_axes reduces that axis only. name= names the node."
)


def op_table():
    """Every op of the registry as a dict: name, arity, grad_kind, forward_doc, gradient_doc,
    notes_doc, operand_names, nondifferentiable_inputs, commutative, attributes (name, kind,
    default, doc)."""
    return _dagprop._op_table()


def _op_doc(info):
    arity = info["arity"]
    if info["operand_names"]:
        operands = info["operand_names"]
    elif arity < 0:
        operands = "*inputs"
    else:
        operands = ", ".join(f"x{i}" for i in range(arity)) if arity > 1 else "x"
    kinds = {
        "derivative": "",
        "zero": " (zero by definition)",
        "straight_through": " (straight-through)",
    }
    lines = [
        f"{info['name']}({operands}, **attrs) -> Expr",
        "",
        f"forward:  {info['forward_doc']}",
        f"gradient: {info['gradient_doc']}{kinds.get(info['grad_kind'], '')}",
    ]
    if info["notes_doc"]:
        lines.append(f"notes:    {info['notes_doc']}")
    if info["attributes"]:
        lines += ["", "attributes:"]
        for a in info["attributes"]:
            lines.append(f"  {a['name']} ({a['kind']}, default {a['default']}): {a['doc']}")
    lines += [
        "",
        "Inputs are expressions of one graph; numbers and numpy arrays among them become "
        "constants of that graph (in the first expression's dtype).",
        _ATTRS_DOC,
    ]
    return "\n".join(lines)


def _make_op(info):
    name = info["name"]
    any_arity = info["arity"] < 0
    op_id = info["id"]  # the registry's id: no lookup by name per call

    def op(*inputs, name=None, **attrs):
        # An op of any number of inputs also takes them as one list: concat([a, b], axis=1).
        if any_arity and len(inputs) == 1 and isinstance(inputs[0], (list, tuple)):
            inputs = tuple(inputs[0])
        return _apply_id(op_id, inputs, attrs, name)

    op.__name__ = name
    op.__qualname__ = name
    op.__module__ = __name__
    op.__doc__ = _op_doc(info)
    return op


_apply_id = _dagprop._apply_id


def _add_ops():
    names = []
    for info in _dagprop._op_table():
        if info["grad_kind"] == "leaf":
            continue  # input, parameter and constant are Graph methods
        globals()[info["name"]] = _make_op(info)
        names.append(info["name"])
    return tuple(names)


ops = _add_ops()
__all__ += list(ops)


def register_op(name, forward, gradient, arity=None, shape=None, forward_doc=None,
                gradient_doc=None):
    """Registers an op written in Python and returns its function (also dagprop.<name>).

    forward(*inputs) -> array: the value, from numpy arrays (copies of the inputs).
    gradient(g, y, *inputs) -> one array per input (None: no gradient for it): g is the gradient
        arriving at the output y. Second derivatives through a Python op are not available.
    arity: the number of inputs (default: forward's positional parameters).
    shape(*input_shapes) -> tuple: the output's shape (default: the first input's).

    The op is part of the op table like a built-in one: graphs run it (taking the GIL in its
    kernel), grad and backward differentiate it, gradcheck checks it, pictures draw it. An
    exception raised in forward or gradient reaches the caller as itself, with a note naming the
    op; returning the wrong shape or dtype is a dagprop.Error."""
    import builtins  # this module's own sum, max, min, abs and pow are ops
    import inspect

    if name in globals():  # an op function must not hide Graph, grad, nn, ...
        raise Error(f"register_op: '{name}' is already a name in dagprop; pick another")
    if arity is None:
        parameters = inspect.signature(forward).parameters.values()
        positional = (inspect.Parameter.POSITIONAL_ONLY, inspect.Parameter.POSITIONAL_OR_KEYWORD)
        arity = builtins.sum(p.kind in positional for p in parameters)
    _dagprop._register_op(
        name, forward, gradient, arity, shape,
        forward_doc or f"y = {getattr(forward, '__qualname__', 'forward')}(*inputs) (Python)",
        gradient_doc or f"dx = {getattr(gradient, '__qualname__', 'gradient')}(g, y, *inputs) "
        "(Python)")
    global ops
    for info in _dagprop._op_table():
        if info["name"] in (name, name + "_grad"):
            globals()[info["name"]] = _make_op(info)
            ops += (info["name"],)
            __all__.append(info["name"])
    return globals()[name]


__all__.append("register_op")


def _repr_svg_(graph):
    """The graph as SVG, with its values and gradients: Jupyter shows a Graph this way."""
    import os
    import tempfile

    with tempfile.TemporaryDirectory() as directory:
        path = os.path.join(directory, "graph.svg")
        graph.render(path)
        with open(path, encoding="utf-8") as f:
            return f.read()


Graph._repr_svg_ = _repr_svg_

# The classes and the exception print as dagprop.X, where users meet them.
for _cls in (Error, Expr, GradcheckResult, Graph, LocalGradientFailure, Scalar, ScalarTape, Scope):
    _cls.__module__ = __name__
del _cls
