"""The triangle lesson: the rule, its input checks, and what the network learns."""

from __future__ import annotations

import itertools
import math

import pytest
import torch
from hypothesis import given
from hypothesis import strategies as st
from torch import nn

from dnnexplorer.errors import ConfigError
from dnnexplorer.lessons import triangle


@pytest.fixture(scope="module")
def numbers(lesson_run):
    return lesson_run("triangle")[0].numbers


@pytest.mark.parametrize(
    ("sides", "expected"),
    [
        ((3, 4, 5), True),
        ((1, 1, 1), True),
        ((1, 2, 3), False),
        ((1, 1, 3), False),
        ((2.5, 2, 4), True),
    ],
)
def test_rule(sides, expected):
    for perm in itertools.permutations(sides):
        assert triangle.is_triangle(*perm) is expected


@pytest.mark.parametrize(
    ("bad", "message"),
    [
        (0, "greater than zero"),
        (-1, "greater than zero"),
        (math.nan, "a finite number"),
        (math.inf, "a finite number"),
        ("3", "a number"),
        (None, "a number"),
        (True, "a number"),
    ],
)
def test_bad_lengths_are_a_clear_error(bad, message):
    with pytest.raises(ConfigError, match=f"side b must be {message}"):
        triangle.is_triangle(1, bad, 1)


@given(st.lists(st.integers(1, 10_000), min_size=3, max_size=3), st.integers(1, 1000))
def test_rule_is_symmetric_and_scale_free(sides, k):
    a, b, c = sides
    answer = triangle.is_triangle(a, b, c)
    assert triangle.is_triangle(c, a, b) == answer
    assert triangle.is_triangle(k * a, k * b, k * c) == answer
    s = sorted(sides)
    assert answer == (s[0] + s[1] > s[2])


def test_classify_checks_its_input_like_the_rule():
    net = nn.Linear(2, 1)
    assert isinstance(triangle.classify(net, "ratios", 3, 4, 5), bool)
    with pytest.raises(ConfigError, match="side a"):
        triangle.classify(net, "ratios", -3, 4, 5)


def test_unknown_encoding_is_a_config_error():
    with pytest.raises(ConfigError, match="unknown encoding"):
        triangle.encode(torch.ones(1, 3), "polar")


def test_labels_follow_the_rule():
    sides, labels = triangle.make_triples(200, torch.Generator().manual_seed(0))
    for row, label in zip(sides.tolist(), labels.tolist(), strict=True):
        assert triangle.is_triangle(*row) == bool(label)


def test_sorted_or_ratio_inputs_learn_better_than_raw(numbers):
    acc = {e: r["accuracy"] for e, r in numbers["encodings"].items()}
    assert acc["raw"] > 0.85  # the network learns the rule from examples
    assert acc["sorted"] > acc["raw"] + 0.02
    assert acc["ratios"] > acc["raw"] + 0.02
    assert min(acc["sorted"], acc["ratios"]) > 0.97


def test_mistakes_crowd_around_flat_triangles(numbers):
    for r in numbers["encodings"].values():
        assert r["error_rate_near_degenerate"] >= r["error_rate_elsewhere"]
    raw = numbers["encodings"]["raw"]
    assert raw["error_rate_near_degenerate"] > 3 * raw["error_rate_elsewhere"]
    assert raw["median_abs_slack_of_errors"] < raw["median_abs_slack_overall"]


def test_training_and_test_data_are_drawn_apart():
    (x_train, y_train), (x_test, y_test) = triangle.split(seed=0)
    assert x_train.shape == (triangle.N_TRAIN, 3) and x_test.shape == (triangle.N_TEST, 3)
    assert y_train.shape == (triangle.N_TRAIN,) and y_test.shape == (triangle.N_TEST,)
    assert not torch.isin(x_test, x_train).any()  # no test length is also a training length
    again = triangle.split(seed=0)
    assert torch.equal(again[1][0], x_test)  # the same seed gives the same split


def test_the_lazy_model_is_the_share_of_non_triangles(numbers):
    _, (x_test, _) = triangle.split(seed=0)
    by_rule = [triangle.is_triangle(*row) for row in x_test.tolist()]
    assert numbers["always_no_accuracy"] == pytest.approx(1 - sum(by_rule) / len(by_rule))
    assert 0.4 < numbers["always_no_accuracy"] < 0.6
    for r in numbers["encodings"].values():
        assert r["accuracy"] > numbers["always_no_accuracy"] + 0.3


def test_what_is_learned_holds_on_test_data(numbers):
    for r in numbers["encodings"].values():
        assert abs(r["train_accuracy"] - r["accuracy"]) < 0.03  # learned, not memorised


def test_story_explains_training_and_test_data(lesson_run):
    result = lesson_run("triangle")[0]
    story = " ".join(result.story)
    for word in ("a + b > c", "training", "test", "data-driven", "accuracy.png", "errors.png"):
        assert word in story
    raw = result.numbers["encodings"]["raw"]
    assert f"{raw['accuracy']:.1%}" in story and f"{raw['train_accuracy']:.1%}" in story
