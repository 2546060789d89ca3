"""Datasets as numpy arrays, and the parallelism report of a plan."""

import os

import numpy as np
import pytest

import dagprop as D


def test_generated_sets_are_float32_features_and_class_labels():
    features, labels = D.data.synthetic("moons", samples=100, seed=3)
    assert features.shape == (100, 2) and features.dtype == np.float32
    assert labels.shape == (100,) and set(np.unique(labels)) == {0.0, 1.0}
    again, _ = D.data.synthetic("moons", samples=100, seed=3)
    np.testing.assert_array_equal(features, again)
    with pytest.raises(D.Error):
        D.data.synthetic("mnist")


@pytest.mark.skipif(not os.path.isdir("/usr/share/datasets/fashion-mnist"),
                    reason="dataset-fashion-mnist is not installed")
def test_fashion_mnist_arrives_as_numpy_arrays():
    (x, y), (xt, yt) = D.data.fashion_mnist()
    assert x.shape == (60000, 784) and xt.shape == (10000, 784) and x.dtype == np.float32
    assert y.shape == (60000,) and 0.0 <= x.min() and x.max() <= 1.0
    assert set(np.unique(yt)) == set(float(c) for c in range(10))


def test_a_missing_fashion_mnist_names_the_package():
    with pytest.raises(D.Error, match="dataset-fashion-mnist"):
        D.data.fashion_mnist("/nonexistent/fashion-mnist")


def test_analyze_parallelism_reports_work_span_and_the_critical_path():
    g = D.Graph()
    a = g.parameter(np.ones((8, 8)))
    left, right = D.tanh(a) @ a, D.sigmoid(a) @ a
    report = g.analyze_parallelism([D.sum(left + right)])
    assert report["num_nodes"] == 6 and report["parallelism"] > 1
    assert report["span"] < report["work"]
    assert report["critical_path"][-1].op == "sum"
    assert "critical path" in report["report"]
