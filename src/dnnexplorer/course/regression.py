"""Exercises of chapter 3, `regression`: least squares by hand, counting updates, a test error.

The first solves the normal equations for three houses, with a pencil or a few lines of numpy;
the second counts the weight updates of mini-batch training when the batches do not divide the
data evenly; the third fits a polynomial and measures it where it counts, on the test houses.
"""

from __future__ import annotations

import math

import numpy as np
import torch
from torch.utils.data import DataLoader, TensorDataset

from dnnexplorer.course.checking import Exercise, number, whole_number
from dnnexplorer.lessons import regression

CHAPTER = "regression"

SIZES, PRICES = np.array([1.0, 2.0, 3.0]), np.array([2.0, 3.0, 5.0])  # three tiny houses
EXAMPLES, BATCH_SIZE, EPOCHS = 1030, 50, 10
DEGREE = 2


def _through_origin() -> float:
    """The usual slip: the best line with b = 0, w = Σxy / Σx² (only ∂E/∂w = 0 was used)."""
    return float(np.dot(SIZES, PRICES) / np.dot(SIZES, SIZES))


def _updates() -> int:
    """Updates = mini-batches per epoch × epochs, counted by PyTorch's own DataLoader."""
    loader = DataLoader(TensorDataset(torch.zeros(EXAMPLES)), batch_size=BATCH_SIZE)
    return len(loader) * EPOCHS


def _errors() -> dict[str, float]:
    table, _ = regression.polynomial_fits(regression.curved_set(seed=0), degrees=(DEGREE,))
    return table[str(DEGREE)]


def _judge_test_error(answer: object, reference: object) -> str | None:
    errors = _errors()
    mistakes = {
        errors["train_mse"]: "that is the error on the 20 training houses; the test houses "
        "are the 200 others",
        math.sqrt(errors["test_mse"]): "that is the square root of the mean squared error",
    }
    return number(rel=0.01, mistakes=mistakes)(answer, reference)


EXERCISES = (
    Exercise(
        CHAPTER,
        "slope",
        "Three houses have sizes x = 1, 2, 3 and prices y = 2, 3, 5. Solve the normal equations "
        "(∂E/∂w = 0 and ∂E/∂b = 0): what is the least-squares slope w?",
        solution=lambda: regression.closed_form(SIZES, PRICES)[0],
        judge=number(
            rel=1e-3,
            mistakes={
                _through_origin(): "that is the best line through the origin, with b fixed at "
                "0; solve both equations, for w and b together"
            },
        ),
        wrong=_through_origin(),
        why="w = (nΣxy − ΣxΣy) / (nΣx² − (Σx)²) = (3·23 − 6·10) / (3·14 − 6²) = 9/6 = 1.5, "
        "and then b = (Σy − wΣx) / n = 1/3. Each extra 100 m² adds 1.5 to the price.",
        hint="You need four sums: Σx, Σy, Σx² and Σxy. ∂E/∂b = 0 gives Σy = wΣx + nb, "
        "∂E/∂w = 0 gives Σxy = wΣx² + bΣx.",
    ),
    Exercise(
        CHAPTER,
        "updates",
        f"A training set of {EXAMPLES} examples is split into mini-batches of {BATCH_SIZE} and "
        f"trained for {EPOCHS} epochs, one update per mini-batch. How many updates is that?",
        solution=_updates,
        judge=whole_number(
            mistakes={
                EXAMPLES * EPOCHS // BATCH_SIZE: "that drops the last, smaller mini-batch of "
                "each epoch; it is an update too",
                math.ceil(EXAMPLES / BATCH_SIZE): "that is one epoch; count all of them",
                EPOCHS: "that is the number of epochs; each holds many updates",
                EXAMPLES * EPOCHS: "that would be stochastic gradient descent, one example "
                "per update",
            }
        ),
        wrong=EXAMPLES * EPOCHS // BATCH_SIZE,
        why=f"{EXAMPLES} / {BATCH_SIZE} = {EXAMPLES / BATCH_SIZE:g}: {EXAMPLES // BATCH_SIZE} "
        f"full mini-batches and a last one of {EXAMPLES % BATCH_SIZE} examples, "
        f"{_updates() // EPOCHS} updates per epoch, {_updates()} in {EPOCHS} epochs. PyTorch's "
        "DataLoader counts the same way (unless told drop_last=True).",
        hint="First count the mini-batches in one epoch; a leftover that does not fill a whole "
        "batch still makes one.",
    ),
    Exercise(
        CHAPTER,
        "test-error",
        f"Fit a degree-{DEGREE} polynomial to the chapter's 20 training houses "
        "(regression.curved_set(seed=0)). What is its mean squared error on the 200 test "
        "houses?",
        solution=lambda: _errors()["test_mse"],
        judge=_judge_test_error,
        wrong=_errors()["train_mse"],
        why="Degree 2 already bends enough: its test error is close to degree 3's and far "
        "below degree 1's and degree 15's. The test error is the one that tells how the model "
        "will do on houses it has never seen.",
        hint="p = Polynomial.fit(x_train, y_train, 2) (from numpy.polynomial) is a function "
        "you can call on the test sizes; average the squared differences from the test prices.",
    ),
)
