"""The perceptron lesson: the rule learns a separable alarm, fails on XOR; backprop solves XOR."""

from __future__ import annotations

import itertools

import numpy as np
import pytest

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
