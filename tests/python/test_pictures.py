"""Pictures from Python: DOT text, files rendered in-process, and the SVG Jupyter shows."""

import numpy as np
import pytest

import dagprop as D


def neuron():
    g = D.Graph()
    x = g.input((2,), name="x")
    w = g.parameter(np.array([0.1, 0.2]), name="w")
    b = g.parameter(0.3, name="b")
    a = D.relu(D.sum(w * x) + b, name="a")
    g.backward(a, {x: np.array([0.5, 0.6])}, keep=[a])
    return g


def test_to_dot_draws_the_nodes_with_their_names():
    dot = neuron().to_dot(title="seed neuron", rankdir="LR")
    assert dot.startswith("digraph") or dot.startswith("strict digraph")
    for name in ("w", "b", "relu", "seed neuron"):
        assert name in dot


@pytest.mark.parametrize("extension, magic", [(".svg", b"<?xml"), (".png", b"\x89PNG"),
                                              (".pdf", b"%PDF")])
def test_render_writes_the_format_of_the_extension(tmp_path, extension, magic):
    path = tmp_path / f"neuron{extension}"
    neuron().render(str(path))
    assert path.read_bytes().startswith(magic)


def test_a_graph_shows_itself_as_svg_in_jupyter():
    svg = neuron()._repr_svg_()
    assert "<svg" in svg


def test_an_unknown_picture_option_lists_the_options():
    with pytest.raises(D.Error, match=r"unknown option 'colour'; the options are show_shapes"):
        neuron().to_dot(colour=True)
