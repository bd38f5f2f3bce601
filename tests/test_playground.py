"""The playground's PyTorch reference: its generator, points, network, update and limits.

The browser's copy is compared with this module in tests/e2e/test_e2e_playground.py; here the
reference itself is checked against the course: the slides' gradient formula, the perceptron
lesson's rule, and XOR needing a hidden layer.
"""

from __future__ import annotations

import dataclasses
import math
import statistics

import pytest
import torch
import torch.nn.functional as F

from dnnexplorer.errors import ConfigError
from dnnexplorer.lessons import perceptron
from dnnexplorer.lessons.costs import squared_error
from dnnexplorer.playground import (
    Mulberry32,
    PlaygroundConfig,
    build_network,
    make_points,
    mini_batches,
    train,
)

# The first draws of mulberry32(1); the browser's generator gives the same (checked in e2e).
FIRST_DRAWS_OF_SEED_1 = [0.6270739405881613, 0.002735721180215478, 0.5274470399599522]


def test_mulberry32_draws_the_documented_numbers():
    rng = Mulberry32(1)
    assert [rng() for _ in range(3)] == FIRST_DRAWS_OF_SEED_1
    assert Mulberry32(2**32 + 1)() == FIRST_DRAWS_OF_SEED_1[0]  # seeds are taken mod 2^32


def test_mulberry32_is_uniform_and_its_gaussian_standard():
    rng = Mulberry32(12345)
    uniform = [rng() for _ in range(20_000)]
    assert all(0 <= u < 1 for u in uniform)
    assert statistics.fmean(uniform) == pytest.approx(0.5, abs=0.01)
    normal = [rng.gaussian() for _ in range(20_000)]
    assert statistics.fmean(normal) == pytest.approx(0, abs=0.03)
    assert statistics.stdev(normal) == pytest.approx(1, abs=0.03)


@pytest.mark.parametrize("dataset", ["xor", "circles", "spirals", "blobs", "alarm"])
def test_points_are_the_same_for_the_same_seed(dataset):
    config = PlaygroundConfig(dataset=dataset, points=60)
    x_train, y_train, x_test, y_test = make_points(config)
    assert x_train.shape == (60, 2) and x_test.shape == (30, 2)
    assert x_train.dtype == torch.float64 and y_train.dtype == torch.int64
    again = make_points(config)
    assert torch.equal(x_train, again[0]) and torch.equal(y_test, again[3])
    other = make_points(dataclasses.replace(config, seed=2))
    assert not torch.equal(x_train, other[0])


@pytest.mark.parametrize("classes", [2, 3, 4])
def test_every_class_gets_its_share_of_points(classes):
    _, y, _, _ = make_points(PlaygroundConfig(dataset="spirals", classes=classes, points=120))
    assert torch.bincount(y).tolist() == [120 // classes] * classes


def test_the_noise_setting_moves_the_same_points():
    quiet = make_points(PlaygroundConfig(dataset="circles", noise=0.0))[0]
    noisy = make_points(PlaygroundConfig(dataset="circles", noise=0.2))[0]
    shift = noisy - quiet  # (200, 2): only the noise differs
    assert shift.std().item() == pytest.approx(0.2, rel=0.15)


def test_xor_points_are_labelled_by_the_xor_of_their_signs():
    x, y, _, _ = make_points(PlaygroundConfig(dataset="xor", noise=0.0))
    exactly_one_positive = (x[:, 0] > 0) != (x[:, 1] > 0)
    assert torch.equal(exactly_one_positive.long(), y)


def test_alarm_points_follow_the_perceptron_lessons_rule_and_it_learns_them():
    x, y, _, _ = make_points(PlaygroundConfig(dataset="alarm", points=300))
    pixels = torch.round(x * 255)  # whole pixel values 0..255
    assert torch.equal(x * 255, pixels) and pixels.min() >= 0 and pixels.max() <= 255
    brightness = pixels.mean(dim=1) / 255 - 0.5
    assert torch.equal((brightness > 0).long(), y)  # alarm when the mean is above half
    assert brightness.abs().min() > perceptron.MARGIN  # the lesson's margin
    learned = perceptron.perceptron_rule(x.numpy(), (2 * y - 1).numpy())
    assert learned["converged"] and learned["accuracy"] == 1.0  # one straight line suffices


@pytest.mark.parametrize(
    ("activation", "pieces", "rows"), [("tanh", 2, (3, 3, 2)), ("maxout", 3, (9, 9, 2))]
)
def test_the_network_has_the_chosen_shape_and_nn_linears_initial_range(activation, pieces, rows):
    config = PlaygroundConfig(hidden=(3, 3), activation=activation, maxout_pieces=pieces)
    net = build_network(config)
    linears = [m for m in net if isinstance(m, torch.nn.Linear)]
    assert tuple(m.out_features for m in linears) == rows  # maxout: k pieces per unit
    for m in linears:
        bound = 1 / math.sqrt(m.in_features)
        assert m.weight.dtype == torch.float64
        assert m.weight.abs().max() <= bound and m.bias.abs().max() <= bound
    assert net(torch.zeros(5, 2, dtype=torch.float64)).shape == (5, 2)
    assert torch.equal(linears[0].weight, build_network(config)[0].weight)  # seeded


def test_mini_batches_cover_each_epoch_once_the_last_batch_smaller():
    batches = mini_batches(10, 4, Mulberry32(3))
    epochs = [[next(batches) for _ in range(3)] for _ in range(2)]
    for epoch in epochs:
        assert [len(b) for b in epoch] == [4, 4, 2]
        assert sorted(i for b in epoch for i in b) == list(range(10))
    assert epochs[0] != epochs[1]  # a new order each epoch


def test_one_step_of_softmax_regression_is_the_slides_formula():
    """With no hidden layer: W ← W − η (P − Y)ᵀX / N and b ← b − η mean(P − Y)."""
    config = PlaygroundConfig(dataset="blobs", classes=3, hidden=(), batch_size=16, points=60)
    x, y, _, _ = make_points(config)
    first = next(mini_batches(config.points, config.batch_size, Mulberry32(config.seed + 2)))
    xb, yb = x[first], y[first]  # (16, 2), (16,)
    net = build_network(config)
    w, b = net[0].weight.detach(), net[0].bias.detach()  # (3, 2), (3,)
    p = (xb @ w.T + b).softmax(dim=1)  # (16, 3)
    error = p - F.one_hot(yb, 3)  # P − Y
    eta = config.learning_rate
    expected_w = w - eta * error.T @ xb / len(first)
    expected_b = b - eta * error.mean(dim=0)
    result = train(config, steps=1)
    w1, b1 = (torch.tensor(v, dtype=torch.float64) for v in result.weights)
    exact = {"atol": 1e-15, "rtol": 0}
    torch.testing.assert_close(w1.reshape(3, 2), expected_w, **exact)
    torch.testing.assert_close(b1, expected_b, **exact)


def test_the_losses_are_the_costs_lessons():
    config = PlaygroundConfig(dataset="blobs", loss="squared error", hidden=(), points=20)
    x, y, _, _ = make_points(config)
    result = train(config, steps=0)
    logits = build_network(config)(x).detach()
    assert result.train[0] == pytest.approx(squared_error(logits, y).item(), abs=1e-15)


def test_xor_needs_a_hidden_layer():
    line = train(PlaygroundConfig(dataset="xor", hidden=(), learning_rate=0.3), steps=600)
    hidden = train(PlaygroundConfig(dataset="xor", hidden=(4,), learning_rate=0.3), steps=1500)
    assert line.test[1] < 0.75  # no straight line separates XOR
    assert hidden.test[1] > 0.9 and hidden.batch_losses[-1] < hidden.batch_losses[0]


@pytest.mark.parametrize(
    "change",
    [
        {"dataset": "moons"},
        {"dataset": "xor", "classes": 3},
        {"classes": 5, "dataset": "blobs"},
        {"points": 5},
        {"points": 60.5},
        {"noise": -0.1},
        {"hidden": (4, 4, 4, 4, 4)},
        {"hidden": (9,)},
        {"activation": "swish"},
        {"maxout_pieces": 1},
        {"learning_rate": 0.0},
        {"learning_rate": math.inf},
        {"batch_size": 201},
        {"loss": "hinge"},
        {"seed": -1},
    ],
)
def test_absurd_settings_are_refused(change):
    with pytest.raises(ConfigError, match="playground"):
        PlaygroundConfig(**change)
