"""Exercises of chapter 6, `activations`: a derivative, slopes that multiply, maxout's cost.

The first asks for sigmoid's slope as a function, the second for what six sigmoid layers do
to a gradient (backpropagation multiplies their slopes), the third for the parameters a maxout
unit needs compared with a ReLU unit.
"""

from __future__ import annotations

from typing import Any

import torch
from torch import nn

from dnnexplorer.course.checking import Exercise, function, number, whole_number
from dnnexplorer.models.activations import (
    ACTIVATION_DERIVATIVES,
    activation_width_factor,
)

CHAPTER = "activations"

LAYERS, Z = 6, 1.0  # six sigmoid layers, each with the weighted sum z = 1
INPUTS = 784  # a maxout unit on one MNIST image, 28 x 28 pixels


def _slope_inputs() -> list[tuple[torch.Tensor]]:
    return [
        (torch.linspace(-6, 6, 13, dtype=torch.float64),),
        (torch.tensor([[0.0, 0.5], [-2.0, 8.0]], dtype=torch.float64),),
    ]


def _judge_slope(answer: Any, reference: Any) -> str | None:
    reason = function(_slope_inputs, atol=1e-6, rtol=1e-5)(answer, reference)
    if reason is not None and function(_slope_inputs)(answer, torch.sigmoid) is None:
        return "that is σ(x) itself; the slope is σ(x)·(1 − σ(x))"
    return reason


def _sigmoid_slope_at_z() -> float:
    return float(ACTIVATION_DERIVATIVES["sigmoid"](torch.tensor(Z, dtype=torch.float64)))


def _six_sigmoid_layers() -> float:
    return _sigmoid_slope_at_z() ** LAYERS  # backpropagation multiplies one slope per layer


def _sigmoid(z: float) -> float:
    return float(torch.sigmoid(torch.tensor(z, dtype=torch.float64)))


def _maxout_parameters() -> int:
    pieces = activation_width_factor("maxout")  # k = 2 linear pieces, each w_kᵀx + b_k
    return sum(p.numel() for p in nn.Linear(INPUTS, pieces).parameters())


EXERCISES = (
    Exercise(
        CHAPTER,
        "sigmoid-slope",
        "Write sigmoid_slope(x): the derivative σ′(x) of the sigmoid, for a tensor x, using "
        "σ′(x) = σ(x)·(1 − σ(x)).",
        solution=lambda: ACTIVATION_DERIVATIVES["sigmoid"],
        judge=_judge_slope,
        wrong=torch.sigmoid,
        why="σ′(x) = σ(x)(1 − σ(x)) is largest at x = 0, where σ = 1/2 and the slope is 1/4, "
        "and tends to 0 on both sides: the sigmoid saturates.",
        hint="torch.sigmoid(x) gives σ(x) for every entry of x; multiply it by (1 − σ(x)), "
        "entry by entry.",
    ),
    Exercise(
        CHAPTER,
        "six-layers",
        "A gradient flows back through 6 sigmoid layers whose weighted sums are all z = 1. "
        "By what factor do their slopes multiply it (ignore the weights)?",
        solution=_six_sigmoid_layers,
        judge=number(
            rel=1e-2,
            mistakes={
                0.25**LAYERS: "0.25 is the slope at z = 0, the best case; here z = 1",
                LAYERS * _sigmoid_slope_at_z(): "the chain rule multiplies "
                "the slopes; you added them",
                _sigmoid(Z) ** LAYERS: "σ(1) is the sigmoid's value; backpropagation "
                "multiplies by its slope σ′(1) = σ(1)(1 − σ(1))",
            },
        ),
        wrong=0.25**LAYERS,
        why="σ′(1) = σ(1)(1 − σ(1)) ≈ 0.197, and 0.197⁶ ≈ 5.8e-5: after six layers less than a "
        "ten-thousandth of the gradient is left. That is the vanishing gradient of chapter 8.",
        hint="First compute one slope, σ′(1) = σ(1)(1 − σ(1)); backpropagation multiplies the "
        "gradient by it once per layer.",
    ),
    Exercise(
        CHAPTER,
        "maxout-parameters",
        "A ReLU unit on a 784-pixel image has 784 weights and 1 bias. How many parameters does "
        "a maxout unit max(w1ᵀx + b1, w2ᵀx + b2) on the same image have?",
        solution=_maxout_parameters,
        judge=whole_number(
            mistakes={
                INPUTS + 1: "that is one linear piece, as for ReLU; maxout has two, each with "
                "its own weights and bias",
                2 * INPUTS: "each of the two pieces also has its own bias",
                2 * INPUTS + 1: "each of the two pieces has its own bias: b1 and b2",
            }
        ),
        wrong=INPUTS + 1,
        why="Two pieces of 784 weights and 1 bias each: 1570 parameters, twice a ReLU unit's "
        "785. That is maxout's price for learning the shape of its activation.",
        hint="Count the parameters of w1ᵀx + b1, then remember there is a second piece.",
    ),
)
