"""The judges behind `check`: right answers pass, wrong ones get a reason, nothing raises."""

from __future__ import annotations

import math

import numpy as np
import pytest
import torch

from dnnexplorer.course.checking import (
    Exercise,
    array,
    choice,
    function,
    number,
    shape,
    verdict,
    whole_number,
)


def exercise(judge, solution, wrong=None, **extra) -> Exercise:
    return Exercise("demo", "x", "What?", lambda: solution, judge, wrong, **extra)


@pytest.mark.parametrize("answer", [0.105, 0.10536, np.float32(0.10536), torch.tensor(0.10536)])
def test_number_accepts_the_value_in_any_numeric_type(answer):
    assert number(rel=1e-2)(answer, -math.log(0.9)) is None


@pytest.mark.parametrize(
    ("answer", "reason"),
    [
        ("0.1", "expected a number"),
        (True, "expected a number"),
        ([0.1], "expected a number"),
        (float("nan"), "not a finite number"),
        (-0.10536, "wrong sign"),
        (0.5, "too large"),
        (0.01, "too small"),
        (0.0458, "log base 10"),
    ],
)
def test_number_says_why_an_answer_is_wrong(answer, reason):
    judge = number(rel=1e-2, mistakes={0.0458: "that is log base 10; use ln"})
    assert reason in judge(answer, -math.log(0.9))


def test_whole_number_and_choice():
    assert whole_number()(16, 16) is None and whole_number()(16.0, 16) is None
    assert "too small" in whole_number()(8, 16)
    assert "whole number" in whole_number()(8.5, 16)
    assert whole_number({4: "that counts only one row"})(4, 16) == "that counts only one row"
    judge = choice(["relu", "sigmoid"], {"sigmoid": "its slope is at most 1/4"})
    assert judge(" ReLU ", "relu") is None
    assert judge("sigmoid", "relu") == "its slope is at most 1/4"
    assert "one of" in judge("tanh", "relu") and "one of" in judge(3, "relu")


def test_shape_judge():
    judge = shape({(10, 784): "that is how nn.Linear stores it"})
    assert judge((784, 10), (784, 10)) is None
    assert judge(torch.Size([784, 10]), (784, 10)) is None
    assert judge([784, 10], torch.Size([784, 10])) is None
    assert judge((10, 784), (784, 10)) == "that is how nn.Linear stores it"
    assert "wrong order" in shape()((10, 784), (784, 10))
    assert "dimensions" in judge((784,), (784, 10))
    assert "expected a shape" in judge(torch.zeros(784, 10), (784, 10))


def test_array_judge():
    ref = np.array([[-1.0, 1.0], [1.0, -1.0]])
    assert array()(torch.tensor(ref), ref) is None and array()(ref.tolist(), ref) is None
    assert "wrong sign" in array()(-ref, ref)
    assert "1 of its 4 entries" in array()([[-1, 1], [1, 1]], ref)
    assert "shape" in array()([1, 2, 3], ref)
    assert "expected an array" in array()("abc", ref)
    assert array()(2.5, 2.0) == "2.5 is too large"


def test_function_judge_calls_the_learners_function():
    judge = function(lambda: [(torch.tensor([1.0, 2.0, 3.0]),)])
    reference = lambda z: torch.softmax(z, dim=0)  # noqa: E731
    assert judge(lambda z: z.exp() / z.exp().sum(), reference) is None
    assert "entries differ" in judge(lambda z: z / z.sum(), reference)
    assert "raised ZeroDivisionError" in judge(lambda z: 1 / 0, reference)
    assert "expected a function" in judge(3, reference)
    assert "replace the `...` in your function" in judge(lambda z: ..., reference)


def test_verdict_never_raises_and_reads_well():
    ex = exercise(number(), 2.0, why="two it is", hint="add one and one")
    right = verdict(ex, 2)
    assert right and right.message == "Correct!" and "two it is" in str(right)
    wrong = verdict(ex, 3)
    assert not wrong and str(wrong).startswith("Not yet: 3 is too large.")
    assert "Hint: add one and one" in str(wrong) and "Hint" in wrong._repr_html_()
    placeholder = verdict(ex, ...)
    assert not placeholder and "replace the `...`" in placeholder.message

    def broken():
        raise RuntimeError("boom")

    crashing = Exercise("demo", "y", "?", broken, number(), None)
    assert "raised RuntimeError: boom" in verdict(crashing, 1).message
