"""Exercises of chapter 8, `vanishing-gradients`: how small the sigmoid's slopes make the gradient.

The first bounds what nine sigmoid slopes can do to the gradient on its way to layer 1 (counting
the slopes is the point); the second is the slope of a saturated sigmoid neuron; the third asks
which change lets the deep sigmoid network's first layer learn. The answers are computed with the
project's hand-written sigmoid derivative and the lesson's depth.
"""

from __future__ import annotations

import torch

from dnnexplorer.course.checking import Exercise, choice, number
from dnnexplorer.lessons.vanishing_gradients import DEPTH
from dnnexplorer.models.activations import ACTIVATION_DERIVATIVES, ACTIVATION_FUNCTIONS

CHAPTER = "vanishing-gradients"
SATURATED_INPUT = 4.0
REMEDIES = ("relu", "more steps", "smaller learning rate")


def _sigmoid_slope(z: float) -> float:
    return float(ACTIVATION_DERIVATIVES["sigmoid"](torch.tensor(z, dtype=torch.float64)))


def _sigmoid(z: float) -> float:
    return float(ACTIVATION_FUNCTIONS["sigmoid"](torch.tensor(z, dtype=torch.float64)))


def _largest_factor() -> float:
    """The most DEPTH − 1 sigmoid slopes (one per hidden layer) can multiply the gradient by."""
    steepest = _sigmoid_slope(0.0)  # σ'(0) = 1/4, the sigmoid's largest slope
    return steepest ** (DEPTH - 1)


def _judge_factor(answer: object, reference: object) -> str | None:
    mistakes = {
        _sigmoid_slope(0.0) ** DEPTH: "that counts 10 slopes, but the output layer has no "
        "sigmoid: its logits go straight into the cross-entropy",
        _sigmoid_slope(0.0): "that is one layer's slope; the gradient meets one per hidden layer",
        _sigmoid_slope(0.0) * (DEPTH - 1): "the slopes multiply, they do not add",
    }
    return number(rel=0.01, mistakes=mistakes)(answer, reference)


def _judge_saturated(answer: object, reference: object) -> str | None:
    mistakes = {
        _sigmoid(SATURATED_INPUT): "that is σ(4), the neuron's output; its slope is σ(4)(1 − σ(4))",
        _sigmoid_slope(0.0): "0.25 is the slope at z = 0, the steepest point; at z = 4 the "
        "curve is almost flat",
    }
    return number(rel=0.01, mistakes=mistakes)(answer, reference)


EXERCISES = (
    Exercise(
        CHAPTER,
        "slope-bound",
        f"In the {DEPTH}-layer sigmoid network, the gradient travels from the output layer back "
        "to layer 1. Ignoring the weights, what is the largest factor the sigmoid slopes it "
        "meets on the way can multiply it by?",
        solution=_largest_factor,
        judge=_judge_factor,
        wrong=_sigmoid_slope(0.0) ** DEPTH,
        why=f"(1/4)^{DEPTH - 1} = {_largest_factor():.1e}: one slope of at most 1/4 for each of "
        f"the {DEPTH - 1} sigmoid layers, multiplied together. Even in the best case the "
        "gradient reaching layer 1 is a few millionths of what the output layer gets; in "
        "practice the slopes are below 1/4 and the weights decide the rest.",
        hint="How many sigmoid activations stand between the output layer's logits and the "
        "weights of layer 1? Each one multiplies by its slope, at most σ'(0).",
    ),
    Exercise(
        CHAPTER,
        "saturated",
        f"A sigmoid neuron receives z = {SATURATED_INPUT:g}. What is its slope σ'(z), the factor "
        "by which it multiplies the gradient passing back through it?",
        solution=lambda: _sigmoid_slope(SATURATED_INPUT),
        judge=_judge_saturated,
        wrong=_sigmoid(SATURATED_INPUT),
        why=f"σ(4) = {_sigmoid(SATURATED_INPUT):.3f}, so σ'(4) = σ(4)(1 − σ(4)) = "
        f"{_sigmoid_slope(SATURATED_INPUT):.4f}: a saturated neuron passes back "
        f"{_sigmoid_slope(SATURATED_INPUT):.1%} of the gradient it receives, "
        f"{_sigmoid_slope(0.0) / _sigmoid_slope(SATURATED_INPUT):.0f} times less than at z = 0. "
        "Large inputs make the vanishing worse.",
        hint="σ'(z) = σ(z)(1 − σ(z)); compute σ(4) = 1 / (1 + e^−4) first.",
    ),
    Exercise(
        CHAPTER,
        "remedy",
        f"The {DEPTH}-layer sigmoid network barely learns in 200 steps. Which change gives its "
        f"first layer a useful gradient: {', '.join(repr(r) for r in REMEDIES)}?",
        solution=lambda: "relu",
        judge=choice(
            REMEDIES,
            mistakes={
                "more steps": "more steps do not make the gradient larger: layer 1 still gets "
                "about a ten-thousandth of the output layer's, so it would need thousands of "
                "times more steps",
                "smaller learning rate": "a smaller learning rate makes every step smaller "
                "still; the gradient reaching layer 1 stays as tiny as before",
            },
        ),
        wrong="more steps",
        why="ReLU's slope is exactly 1 for every active neuron, so the product of slopes no "
        "longer shrinks the gradient: in the lesson, ReLU's layer 1 gets about as much "
        "gradient as its output layer and the network learns.",
        hint="Only one of the three changes touches the factor each layer multiplies the "
        "gradient by.",
    ),
)
