"""nn from Python: the C++ layers (values against numpy and PyTorch), train and eval modes,
initializers, schedules, and the Trainer: accuracy on a synthetic set, the same bits as the same
`dagprop train` run in C++, the same bits twice and at 1 and 2 threads."""

import json
import math
import pathlib
import subprocess

import numpy as np
import pytest

import dagprop as D

nn = D.nn


def rows(shape, seed=0, dtype=np.float32):
    return np.random.default_rng(seed).standard_normal(shape).astype(dtype)


def test_linear_is_x_at_w_plus_b_and_draws_its_weights_from_the_seed():
    g = D.Graph()
    x = g.constant(rows((4, 3)))
    lin = nn.Linear(g, "fc", 3, 2, init="he_uniform", random=7)
    lin.bias.value[:] = [0.5, -0.5]
    np.testing.assert_allclose(g.run(lin(x)), x.value @ lin.weight.value + lin.bias.value, rtol=1e-6)
    assert lin.weight.name == "fc/W" and lin.bias.name == "fc/b" and lin.weight.shape == (3, 2)
    bound = math.sqrt(6 / 3)  # He uniform: +-sqrt(6 / fan_in)
    assert np.all(np.abs(lin.weight.value) <= bound)
    again = nn.Linear(D.Graph(), "fc", 3, 2, init="he_uniform", random=7)
    assert np.array_equal(again.weight.value, lin.weight.value)
    np.testing.assert_array_equal(lin.weight.value, nn.initialize("he_uniform", 3, 2, seed=7))


def test_a_shared_random_advances_from_layer_to_layer():
    g = D.Graph()
    r = nn.Random(3)
    a = nn.Linear(g, "a", 4, 4, random=r)
    b = nn.Linear(g, "b", 4, 4, random=r)
    assert not np.array_equal(a.weight.value, b.weight.value)


def test_dense_and_mlp_apply_their_activation_and_list_their_parameters():
    g = D.Graph()
    x = g.constant(rows((5, 4)))
    dense = nn.Dense(g, "d", 4, 3, activation="tanh", random=1)
    pre, out = dense.apply(x)
    np.testing.assert_allclose(g.run(out), np.tanh(g.run(pre)), rtol=1e-6)
    assert dense.activation == "tanh" and len(dense.parameters) == 2
    mlp = nn.Mlp(g, [4, 8, 6, 2], activation="relu", random=nn.Random(1))
    logits, hidden = mlp.apply(x)
    assert g.run(logits).shape == (5, 2) and len(hidden) == 2 and mlp.num_layers == 3
    assert [p.name for p in mlp.parameters] == [
        "layer1/W", "layer1/b", "layer2/W", "layer2/b", "layer3/W", "layer3/b"]
    assert np.all(g.run(hidden[0][1]) >= 0)


def test_conv_pool_and_flatten_match_pytorch():
    torch = pytest.importorskip("torch", reason="python3-torch is missing: cannot compare")
    g = D.Graph()
    images = rows((2, 3, 8, 8), dtype=np.float64)
    x = g.constant(images)
    conv = nn.Conv2d(g, "conv", 3, 4, 3, random=2, stride=1, padding=1, dtype=np.float64)
    y = nn.Flatten()(nn.AvgPool2d(2)(nn.MaxPool2d(2, stride=1)(D.relu(conv(x)))))
    t = torch.nn.functional.conv2d(torch.tensor(images), torch.tensor(conv.weight.value),
                                   torch.tensor(conv.bias.value), padding=1)
    t = torch.nn.functional.max_pool2d(torch.relu(t), 2, stride=1)
    t = torch.nn.functional.avg_pool2d(t, 2).flatten(1)
    np.testing.assert_allclose(g.run(y), t.numpy(), rtol=1e-12, atol=1e-12)
    assert conv.weight.shape == (4, 3, 3, 3) and conv.bias.shape == (4,)


def test_layer_norm_matches_pytorch():
    torch = pytest.importorskip("torch", reason="python3-torch is missing: cannot compare")
    g = D.Graph()
    data = rows((3, 5), dtype=np.float64)
    ln = nn.LayerNorm(g, "ln", 5, dtype=np.float64)
    expected = torch.nn.functional.layer_norm(torch.tensor(data), (5,), eps=1e-5)
    np.testing.assert_allclose(g.run(ln(g.constant(data))), expected.numpy(), rtol=1e-10)


def test_batch_norm_uses_batch_statistics_in_train_mode_and_running_ones_in_eval_mode():
    g = D.Graph()
    data = rows((6, 3, 2, 2), seed=4) * 3 + 1
    x = g.constant(data)
    bn = nn.BatchNorm2d(g, "bn", 3)
    assert bn.mode == "train"
    trained = g.run(bn(x))
    np.testing.assert_allclose(trained.mean(axis=(0, 2, 3)), 0, atol=1e-5)
    bn.mode = "eval"
    evaluated = g.run(bn(x))  # running moments: mean 0, variance 1 at the start
    np.testing.assert_allclose(evaluated, data / np.sqrt(1 + 1e-5), rtol=1e-5)
    bn.mode = "train"
    g.run([bn(x), bn.batch_statistics])
    bn.update_running_statistics()  # running = 0.9 running + 0.1 [mean; unbiased variance]
    per_channel = data.transpose(1, 0, 2, 3).reshape(3, -1)
    np.testing.assert_allclose(bn.running_moments.value[0], 0.1 * per_channel.mean(axis=1), rtol=1e-4)
    np.testing.assert_allclose(bn.running_moments.value[1],
                               0.9 + 0.1 * per_channel.var(axis=1, ddof=1), rtol=1e-4)
    with pytest.raises(D.Error, match="'train' or 'eval'|\"train\" or \"eval\""):
        bn.mode = "inference"


def test_dropout_masks_in_train_mode_only_and_changes_mask_on_advance():
    g = D.Graph()
    x = g.constant(np.ones((200,), np.float32))
    drop = nn.Dropout(g, "drop", 0.5, random=1)
    train = drop.apply(x, "train")
    first = g.run(train)
    assert set(np.unique(first)) == {0.0, 2.0}  # kept units scaled by 1 / (1 - p)
    assert 60 < np.count_nonzero(first) < 140
    drop.advance()
    assert not np.array_equal(g.run(train), first)
    np.testing.assert_array_equal(g.run(drop.apply(x, "eval")), np.ones(200))


def test_embedding_picks_rows_of_its_table():
    g = D.Graph()
    emb = nn.Embedding(g, "emb", 5, 3, random=1)
    picked = g.run(emb(g.constant(np.array([4.0, 0.0, 4.0], np.float32))))
    np.testing.assert_array_equal(picked, emb.weight.value[[4, 0, 4]])


def test_sequential_builds_from_its_spec_and_switches_modes():
    g = D.Graph()
    model = nn.Sequential(g, "conv 4 3 pad 1, relu, maxpool 2, flatten, dense 16, relu, dropout 0.5, dense 3",
                          [1, 8, 8], random=1)
    assert model.output_shape == [3]
    assert model.layers[0] == "conv 4 3 pad 1" and "dense 16" in model.summary()
    assert model.parameter_count == sum(p.value.size for p in model.parameters)
    x = g.constant(rows((2, 1, 8, 8)))
    train, evaluate = model(x, "train"), model(x, mode="eval")
    assert g.run(train).shape == (2, 3)
    assert not np.array_equal(g.run(train), g.run(evaluate))  # dropout in training only
    with pytest.raises(D.Error, match="layer 2"):
        nn.Sequential(D.Graph(), "dense 4, maxpool x", [8])


def test_a_layer_refuses_an_expression_of_another_graph():
    lin = nn.Linear(D.Graph(), "fc", 3, 2)
    other = D.Graph().constant(np.ones((1, 3), np.float32))
    with pytest.raises(D.Error, match="belongs to another Graph"):
        lin(other)


def test_schedules_step_and_cosine():
    step = nn.LrSchedule.step(0.1, 2, 0.5)
    assert [step.at(e) for e in range(5)] == pytest.approx([0.1, 0.1, 0.05, 0.05, 0.025])
    cosine = nn.LrSchedule.cosine(1.0, 4)
    assert [cosine(e) for e in range(5)] == pytest.approx(
        [max(0.5 * (1 + math.cos(math.pi * e / 4)), 1e-6) for e in range(5)])  # never 0
    by_name = nn.schedule("cosine", base=0.5, epochs=4)  # as `dagprop train --schedule` makes it
    assert by_name(0) == 0.5 and by_name(2) < 0.3
    assert nn.LrSchedule.constant(0.3).at(7) == 0.3
    with pytest.raises(D.Error, match="constant"):
        nn.schedule("linear")
    assert "cosine" in nn.schedule_names() and "he_normal" in nn.init_names()


# ---- the trainer

def moons_split():
    """What `dagprop train --data moons` trains on: 1000 points, a seeded 80/20 split, standardized
    with the training set's statistics."""
    everything = D.data.synthetic("moons", samples=1000, noise=0.1, seed=1)
    train, test = D.data.split(everything, 0.2, seed=1)
    return D.data.standardize(train, test)


def trainer(threads=0, **options):
    train, test = moons_split()
    settings = dict(hidden=[16], epochs=3, batch_size=32, lr=0.01, seed=5)
    settings.update(options)
    t = nn.Trainer(train, test, **settings)
    t.graph.set_num_threads(threads)
    return t


def test_an_mlp_trained_from_python_classifies_moons():
    t = trainer(epochs=6)
    seen = []
    history = t.fit(on_step=lambda step: seen.append(step["loss"]))
    assert history["complete"] and len(history["epochs"]) == 6
    assert len(seen) == 6 * (800 // 32)
    final = history["epochs"][-1]
    assert final["test"]["accuracy"] > 0.95
    assert t.evaluate(moons_split()[1]) == final["test"]


def test_training_gives_the_same_bits_twice_and_at_one_and_two_threads():
    runs = []
    for threads in (0, 1, 2):
        t = trainer(threads)
        history = t.fit()
        runs.append(([r["test"]["loss"] for r in history["epochs"]],
                     [p.value.copy() for p in t.parameters]))
    runs.append(([r["test"]["loss"] for r in trainer(0).fit()["epochs"]], runs[0][1]))
    for losses, parameters in runs[1:]:
        assert losses == runs[0][0]
        for a, b in zip(parameters, runs[0][1]):
            assert np.array_equal(a, b)


def cli():
    path = pathlib.Path(D.__file__).resolve().parents[2] / "dagprop"
    if not path.exists():
        pytest.skip(f"the dagprop command is not built next to the package ({path})")
    return path


def test_training_from_python_gives_the_bits_of_the_same_cpp_run(tmp_path):
    subprocess.run([str(cli()), "train", "--data", "moons", "--hidden", "16", "--epochs", "3",
                    "--batch", "32", "--lr", "0.01", "--seed", "5", "--schedule", "cosine", "--no-plots",
                    "--out", str(tmp_path)], check=True, capture_output=True)
    cpp = json.loads((tmp_path / "metrics.json").read_text())["epochs"]
    python = trainer(schedule="cosine").fit()["epochs"]
    assert [e["learning_rate"] for e in cpp] == [e["learning_rate"] for e in python]
    assert [e["test_loss"] for e in cpp] == [e["test"]["loss"] for e in python]
    assert [e["train_loss"] for e in cpp] == [e["train_loss"] for e in python]


def test_fit_progress_prints_a_line_per_epoch_and_a_callback_error_stops_it(capsys):
    t = trainer(epochs=2)
    t.fit(progress=True)
    lines = capsys.readouterr().out.splitlines()
    assert len(lines) == 2 and lines[1].startswith("epoch 2/2") and "test loss" in lines[1]

    t = trainer(epochs=2)

    def fail(step):
        if step["global_step"] == 3:
            raise RuntimeError("stop here")

    with pytest.raises(RuntimeError, match="stop here"):
        t.fit(on_step=fail)
    history = t.fit()  # goes on from step 3
    assert history["complete"] and len(history["epochs"]) == 2


def test_a_sequential_model_trains_with_dropout_in_training_and_not_in_evaluation():
    t = trainer(model="dense 32, relu, dropout 0.2, dense 2", epochs=4)
    history = t.fit()
    assert history["epochs"][-1]["test"]["accuracy"] > 0.9
    # Evaluation has no dropout: the same set evaluated twice gives the same numbers.
    assert t.evaluate(moons_split()[1]) == t.evaluate(moons_split()[1])
