"""Exercises of chapter 5, `perceptron`: bias and threshold, the sigmoid neuron, the rule, XOR.

All four use a perceptron the learner can follow by hand: weights w = (1, 1, 1) on three pixels
scaled from 0..255 to 0..1, so the weighted sum is just the sum of the pixels.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from dnnexplorer.course.checking import Exercise, array, choice, number
from dnnexplorer.lessons import perceptron

CHAPTER = "perceptron"

WEIGHTS = np.ones(3)  # w = (1, 1, 1): the perceptron adds the three pixels
MEAN_BRIGHTNESS = 0.6  # the alarm should ring when the pixels' mean is above this
SLIDES_PIXELS = np.array(perceptron.WORKSHOP_PIXELS) / 255.0  # (0, 120, 255) scaled to 0..1
FIRST_EXAMPLE = 1  # (0, 1), labelled +1 by the OR gate: the example of the update exercise


def _bias() -> float:
    threshold = MEAN_BRIGHTNESS * len(WEIGHTS)  # mean > 0.6  <=>  sum of the 3 pixels > 1.8
    return perceptron.bias_from_threshold(threshold)


def _sigmoid_output() -> float:
    return float(perceptron.sigmoid_neuron(WEIGHTS, _bias(), SLIDES_PIXELS))


def _one_update() -> np.ndarray:
    """(w1, w2, b) after the perceptron rule meets its first example, from w = 0 and b = 0."""
    x = perceptron.XOR_INPUTS[FIRST_EXAMPLE : FIRST_EXAMPLE + 1]  # (1, 2)
    y = perceptron.GATES["OR"][FIRST_EXAMPLE : FIRST_EXAMPLE + 1]  # (1,)
    learned = perceptron.perceptron_rule(x, y, max_epochs=1)
    return np.array([*learned["w"], learned["b"]])


def _judge_update(answer: Any, reference: Any) -> str | None:
    reason = array()(answer, reference)
    if reason is not None and np.array_equal(np.asarray(answer, dtype=object), [0, 0, 0]):
        return "z = 0 is not above 0, so the perceptron said -1 (no): a mistake, which it corrects"
    return reason


def _not_learnable() -> str:
    """The gate the perceptron rule never gets right, found by running it on every gate."""
    for gate, labels in perceptron.GATES.items():
        if not perceptron.perceptron_rule(perceptron.XOR_INPUTS, labels)["converged"]:
            return gate
    raise AssertionError("the perceptron rule learned every gate")


EXERCISES = (
    Exercise(
        CHAPTER,
        "bias",
        "With w = (1, 1, 1) on pixels scaled to 0..1, which bias b makes the perceptron raise "
        "the alarm exactly when the mean brightness of the three pixels is above 0.6?",
        solution=_bias,
        judge=number(
            mistakes={
                1.8: "1.8 is the threshold θ on the sum; the bias is minus the threshold",
                -0.6: "the perceptron adds the three pixels (w = 1 each): compare their sum, "
                "not their mean, with the threshold",
                0.6: "the perceptron adds the three pixels: compare their sum with the "
                "threshold, and the bias is minus the threshold",
            }
        ),
        wrong=1.8,
        why="mean > 0.6 means x1 + x2 + x3 > 1.8: the threshold on the weighted sum is θ = 1.8, "
        "and sign(x1 + x2 + x3 + b) > 0 is the same test when b = −θ = −1.8.",
        hint="First write the test on the sum x1 + x2 + x3 instead of the mean; then move the "
        "threshold to the left side of the inequality.",
    ),
    Exercise(
        CHAPTER,
        "sigmoid",
        "Replace sign by sigmoid in that perceptron (w = (1, 1, 1), your b): what does the "
        "sigmoid neuron answer for the slides' pixels (0, 120, 255), scaled to 0..1?",
        solution=_sigmoid_output,
        judge=number(
            rel=5e-3,  # two decimals are enough: 0.42
            mistakes={
                1.0: "you fed the raw pixels 0..255: scale them to 0..1 first",
                float(perceptron.sigmoid_neuron(WEIGHTS, 0.0, SLIDES_PIXELS)): "you forgot "
                "the bias",
                float(perceptron.sigmoid_neuron(WEIGHTS, -_bias(), SLIDES_PIXELS)): "the "
                "bias has the wrong sign: b is minus the threshold",
            },
        ),
        wrong=1.0,
        why="z = (0 + 120 + 255)/255 − 1.8 ≈ −0.33, a little below the threshold, and "
        "σ(−0.33) ≈ 0.42: the perceptron says a flat 'no', the sigmoid neuron 'rather not, "
        "but close'.",
        hint="Compute z = w·x + b with x = (0, 120, 255) / 255, then σ(z) = 1 / (1 + e^(−z)), "
        "for instance with torch.sigmoid(torch.tensor(z)).",
    ),
    Exercise(
        CHAPTER,
        "update",
        "The perceptron rule starts from w = (0, 0), b = 0 and meets the example x = (0, 1) "
        "with label y = +1. What are (w1, w2, b) after this one step?",
        solution=_one_update,
        judge=_judge_update,
        wrong=[0, 0, 0],
        why="z = 0·0 + 0·1 + 0 = 0 is not above 0, so the perceptron answered −1 and was wrong; "
        "the rule adds y·x to w and y to b: w = (0, 1), b = 1. Now (0, 1) gives z = 2 > 0.",
        hint="First decide whether the perceptron gets this example right (sign(0) counts as "
        "−1); if it is wrong, w ← w + y·x and b ← b + y.",
    ),
    Exercise(
        CHAPTER,
        "xor",
        "Which logic gate can the perceptron rule never learn: 'AND', 'OR', 'NAND' or 'XOR'?",
        solution=_not_learnable,
        judge=choice(
            tuple(perceptron.GATES),
            mistakes={
                "AND": "the rule learns AND: the line x1 + x2 = 1.5 puts (1, 1) alone on one side",
                "OR": "the rule learns OR: the line x1 + x2 = 0.5 puts (0, 0) alone on one side",
                "NAND": "NAND is AND with the answers swapped: the same line separates it",
            },
        ),
        wrong="AND",
        why="XOR wants (0, 1) and (1, 0) on one side and (0, 0), (1, 1) on the other: no "
        "straight line does that, so a single perceptron cannot (Minsky & Papert, 1969). A "
        "hidden layer can.",
        hint="Draw the four points (0, 0), (0, 1), (1, 0), (1, 1) for each gate, coloured by "
        "the answer, and try to separate the colours with one straight line.",
    ),
)
