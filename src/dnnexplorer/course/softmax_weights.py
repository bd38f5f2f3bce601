"""Exercises of chapter 10, `softmax-weights`: counting W and b, finding a pixel, a template.

The first counts what softmax regression learns; the second finds which row of the slides' W
[784, 10] holds one pixel's weights (flattening goes row after row); the third writes the
function that turns a column of W into a 28x28 template, the lesson's figure.
"""

from __future__ import annotations

import torch

from dnnexplorer.course.checking import Exercise, function, whole_number
from dnnexplorer.lessons import softmax_by_hand, softmax_weights
from dnnexplorer.models import create_model

CHAPTER = "softmax-weights"
ROW, COLUMN = 5, 20  # a pixel of the image


def _parameters() -> int:
    return sum(p.numel() for p in create_model("softmax").parameters())


def _pixel_row() -> int:
    image = torch.zeros(1, 28, 28, dtype=torch.uint8)
    image[0, ROW, COLUMN] = 255  # ink at one pixel only
    return int(softmax_by_hand.flatten(image)[0].argmax())  # its column in X, its row in W


def _weights() -> list[tuple[torch.Tensor, int]]:
    w = torch.randn(784, 10, generator=torch.Generator().manual_seed(0))  # the slides' W
    return [(w, 3), (w, 7)]


def _reshaped_without_transpose(w: torch.Tensor, digit: int) -> torch.Tensor:
    """The usual slip: W's 7840 numbers cut into ten images without taking columns first."""
    return w.reshape(10, 28, 28)[digit]


def _judge_template(answer: object, reference: object) -> str | None:
    judge = function(_weights)
    reason = judge(answer, reference)
    if reason is not None and judge(answer, _reshaped_without_transpose) is None:
        return (
            "that reshapes all of W to (10, 28, 28) without taking a column first, so each "
            "image mixes the weights of different digits"
        )
    return reason


EXERCISES = (
    Exercise(
        CHAPTER,
        "parameters",
        "How many numbers does softmax regression on MNIST learn, counting all of W and b?",
        solution=_parameters,
        judge=whole_number(
            mistakes={
                784 * 10: "that is W alone: add the biases, one per digit",
                784 + 10: "W is not one weight per pixel: each of the 10 digits has its own "
                "784 weights",
            }
        ),
        wrong=784 * 10,
        why="W has 784 × 10 = 7840 weights and b has 10 biases: 7850 numbers in all. "
        "`sum(p.numel() for p in model.parameters())` counts them for any model.",
        hint="W is [784, 10] and b is [10].",
    ),
    Exercise(
        CHAPTER,
        "pixel-row",
        f"Images are flattened row after row. Which row of W (counting from 0) holds the ten "
        f"weights of the pixel at row {ROW}, column {COLUMN} of the 28x28 image?",
        solution=_pixel_row,
        judge=whole_number(
            mistakes={
                COLUMN * 28 + ROW: "that reads the image column after column; flattening "
                "goes row after row",
                (ROW + 1) * 28 + COLUMN + 1: "rows and columns are counted from 0 here",
            }
        ),
        wrong=COLUMN * 28 + ROW,
        why=f"Rows 0 to {ROW - 1} fill the first {ROW} × 28 = {ROW * 28} places, and the pixel "
        f"is {COLUMN} further: {ROW * 28 + COLUMN}. That row of W holds this pixel's vote for "
        "each of the ten digits.",
        hint="How many pixels come before row 5 begins?",
    ),
    Exercise(
        CHAPTER,
        "template",
        "Write template(W, digit) that returns the 28x28 image of a digit's weights, from the "
        "slides' W of shape (784, 10).",
        solution=lambda: lambda w, digit: softmax_weights.templates(w)[digit],
        judge=_judge_template,
        wrong=_reshaped_without_transpose,
        why="A digit's weights are column `digit` of W: W[:, digit].reshape(28, 28). Reshaping "
        "W straight to (10, 28, 28) mixes the digits, because W is stored row by row (pixel "
        "by pixel).",
        hint="Take one column first (W[:, digit]), then reshape it.",
    ),
)
