"""Every ```python block of docs/python.md runs, in order and in one namespace (like the cells of a
notebook); README.md's Python seed neuron is docs/examples/seed_neuron.py, which prints what the
C++ seed neuron prints."""

import contextlib
import io
import pathlib
import re
import runpy

import pytest

ROOT = pathlib.Path(__file__).resolve().parents[2]


def python_blocks(markdown):
    return re.findall(r"^```python\n(.*?)^```$", markdown.read_text(), flags=re.S | re.M)


def test_every_example_of_docs_python_md_runs(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)  # the examples write pictures into the working directory
    blocks = python_blocks(ROOT / "docs" / "python.md")
    assert len(blocks) >= 8
    namespace = {}
    for i, block in enumerate(blocks):
        code = compile(block, f"docs/python.md, python block {i + 1}", "exec")
        with contextlib.redirect_stdout(io.StringIO()):
            exec(code, namespace)  # noqa: S102  (the documentation's own code)
    assert (tmp_path / "neuron.svg").read_text().lstrip().startswith("<?xml")


def test_the_readme_python_example_is_the_seed_neuron_example_and_prints_the_cpp_output():
    (block,) = python_blocks(ROOT / "README.md")
    example = ROOT / "docs" / "examples" / "seed_neuron.py"
    assert block == example.read_text()
    out = io.StringIO()
    with contextlib.redirect_stdout(out):
        runpy.run_path(str(example), run_name="__main__")
    assert out.getvalue() == (ROOT / "docs" / "examples" / "seed_neuron.expected").read_text()
