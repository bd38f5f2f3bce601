"""The perceptron lesson: the rule learns a separable alarm, fails on XOR; backprop solves XOR."""

from __future__ import annotations

import itertools

import numpy as np
import pytest
import torch

from dnnexplorer.lessons import perceptron


@pytest.fixture(scope="module")
def numbers(lesson_run):
    return lesson_run("perceptron")[0].numbers


def test_sign_of_zero_is_no_alarm():
    assert perceptron.predict(np.zeros(3), 0.0, np.ones((1, 3))).tolist() == [-1]


def test_rule_learns_and():
    x = perceptron.XOR_INPUTS
    y = np.array([-1, -1, -1, 1])
    learned = perceptron.perceptron_rule(x, y)
    assert learned["converged"] and learned["accuracy"] == 1.0


def test_alarm_perceptron_converges_on_the_separable_set(numbers):
    alarm = numbers["alarm"]
    assert alarm["converged"] and alarm["accuracy"] == 1.0
    assert alarm["mistakes_per_epoch"][-1] == 0
    assert all(w > 0 for w in alarm["w"])  # brighter pixels push towards the alarm
    assert alarm["b"] < 0  # the bias is minus the threshold


def test_perceptron_rule_never_learns_xor(numbers):
    xor = numbers["xor_perceptron"]
    assert not xor["converged"]
    assert xor["epochs"] == perceptron.MAX_EPOCHS
    assert min(xor["mistakes_per_epoch"]) > 0
    assert xor["accuracy"] <= 0.75


def test_no_line_separates_xor():
    # Minsky & Papert's point, checked over a grid of lines: none gets all four right.
    grid = np.linspace(-2, 2, 21)
    best = max(
        np.mean(
            perceptron.predict(np.array([w1, w2]), b, perceptron.XOR_INPUTS)
            == perceptron.XOR_LABELS
        )
        for w1, w2, b in itertools.product(grid, grid, grid)
    )
    assert best == 0.75


def test_hidden_layer_trained_by_backprop_solves_xor(numbers):
    net = numbers["xor_network"]
    assert net["accuracy"] == 1.0
    low0, high1, high2, low3 = net["outputs"]
    assert high1 > 0.9 and high2 > 0.9 and low0 < 0.1 and low3 < 0.1


def test_the_bias_is_minus_the_threshold():
    # Σ wᵢxᵢ > θ and Σ wᵢxᵢ + b > 0 with b = −θ give the same answer on every input.
    rng = np.random.default_rng(0)
    x, w = rng.random((500, 3)), rng.normal(size=3)
    for theta in (-0.5, 0.0, 0.7, 1.5):
        by_threshold = np.where(x @ w > theta, 1, -1)
        by_bias = perceptron.predict(w, perceptron.bias_from_threshold(theta), x)
        assert np.array_equal(by_threshold, by_bias)


def test_sigmoid_neuron_is_sigmoid_of_the_weighted_sum():
    rng = np.random.default_rng(1)
    x, w, b = rng.random((50, 3)), rng.normal(size=3), -0.4
    expected = torch.sigmoid(torch.from_numpy(x @ w + b)).numpy()
    np.testing.assert_allclose(perceptron.sigmoid_neuron(w, b, x), expected, rtol=1e-12)
    # the sigmoid neuron says "more likely alarm" exactly where the perceptron says alarm
    assert np.array_equal(perceptron.sigmoid_neuron(w, b, x) > 0.5, perceptron.predict(w, b, x) > 0)


def test_slides_pixels_through_both_neurons(numbers):
    alarm = numbers["alarm"]
    ex = alarm["workshop_example"]
    pixels = np.array([0, 120, 255]) / 255
    z = pixels @ np.array(alarm["w"]) + alarm["b"]
    assert ex["z"] == pytest.approx(z)
    assert ex["alarm"] == (z > 0) == (pixels.mean() > 0.5)
    assert ex["sigmoid"] == pytest.approx(float(torch.sigmoid(torch.tensor(z))))
    assert alarm["threshold"] == -alarm["b"] > 0


@pytest.mark.parametrize(("gate", "learnable"), [("AND", True), ("OR", True), ("NAND", True)])
def test_rule_learns_every_gate_a_line_separates(gate, learnable):
    learned = perceptron.perceptron_rule(perceptron.XOR_INPUTS, perceptron.GATES[gate])
    assert learned["converged"] is learnable


def test_one_hidden_neuron_is_still_one_line():
    # σ(v·σ(w·x + b) + c) grows or falls with w·x + b alone: its border is one straight line.
    for seed in range(3):
        net, _ = perceptron.xor_network(seed, hidden=1)
        outputs = perceptron.xor_outputs(net)
        assert np.mean(np.where(outputs > 0.5, 1, -1) == perceptron.XOR_LABELS) <= 0.75


def test_story_says_once_that_the_bias_is_minus_the_threshold(lesson_run):
    result = lesson_run("perceptron")[0]
    story = " ".join(result.story)
    assert story.count("b = −θ") == 1
    for fact in ("sign(wᵀx + b)", "σ(z) = 1 / (1 + e^−z)", "XOR", "1969", "hidden layer"):
        assert fact in story
    for figure in result.figures:
        assert figure.name in story
