"""The figures of the lesson `softmax-by-hand` (the computing is in `softmax_by_hand.py`).

A digit as its grid of numbers and as one row of X; the slides' cross-entropy example beside
the curve −ln p; the loss and test accuracy of gradient descent; test digits with the ten
probabilities softmax gives them.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from pathlib import Path

import numpy as np

from dnnexplorer.lessons.base import LessonConfig, new_figure, save


def digit_numbers(config: LessonConfig, image: np.ndarray, label: int, figures: list[Path]) -> Path:
    """One (28, 28) image of pixels 0..255: its numbers on the 0..1 scale, and flattened."""
    values = np.asarray(image, dtype=float) / 255  # (28, 28) on the slides' 0..1 scale
    fig = new_figure(8.0, 9.4)
    grid = fig.add_axes((0.06, 0.2, 0.88, 0.74))
    grid.imshow(values, cmap="gray_r", vmin=0, vmax=1)
    for (r, c), v in np.ndenumerate(values):
        if v >= 0.05:  # the paper (0, or nearly) is left blank so the ink's numbers stand out
            colour = "white" if v > 0.5 else "black"
            grid.text(c, r, f"{v:.2f}", ha="center", va="center", fontsize=4, color=colour)
    grid.set_title(f"A {label} is a 28x28 grid of numbers from 0 (paper, left blank) to 1 (ink)")
    row = fig.add_axes((0.06, 0.05, 0.88, 0.06))
    row.imshow(values.reshape(1, -1), cmap="gray_r", vmin=0, vmax=1, aspect="auto")
    row.set_yticks([])
    row.set_xticks(range(0, values.size + 1, 112))
    row.set_title("Flattened: the same 784 numbers as one row of X (image row 0, then row 1, ...)")
    return save(fig, config, "digit_numbers", figures)


def cross_entropy_example(
    config: LessonConfig, probs: Sequence[float], label: int, figures: list[Path]
) -> Path:
    """The slides' probabilities for a digit with its one-hot target, beside C = −ln p."""
    n = len(probs)
    p = probs[label]
    fig = new_figure(10.0, 3.8)
    bars = fig.add_subplot(1, 2, 1)
    bars.bar(range(n), probs, color=["tab:green" if c == label else "tab:gray" for c in range(n)])
    target = [1.0 if c == label else 0.0 for c in range(n)]
    bars.plot(range(n), target, "k_", markersize=14, label="one-hot target y'")
    bars.set_xticks(range(n))
    bars.set_title(f"The slides' '{label}': C = −ln {p:.2f} = {-math.log(p):.3f}")
    bars.set_xlabel("digit")
    bars.set_ylabel("probability p")
    bars.legend(loc="upper left")
    curve = fig.add_subplot(1, 2, 2)
    ps = np.linspace(0.01, 1, 200)
    curve.plot(ps, -np.log(ps))
    for q in (p, 1 / n):
        curve.plot([q], [-math.log(q)], "o", label=f"p = {q:.2f}: C = {-math.log(q):.3f}")
    curve.set_xlabel("probability given to the right class")
    curve.set_ylabel("cross-entropy C = −ln p")
    curve.legend()
    fig.tight_layout()
    return save(fig, config, "cross_entropy", figures)


def training_curves(
    config: LessonConfig,
    losses: Sequence[float],
    checkpoints: Sequence[tuple[int, float]],
    title: str,
    figures: list[Path],
) -> Path:
    """The mini-batch loss at each step, and the test accuracy at some steps."""
    fig = new_figure(10.0, 3.8)
    loss = fig.add_subplot(1, 2, 1)
    steps = np.arange(1, len(losses) + 1)
    loss.plot(steps, losses, lw=0.5, alpha=0.5, label="each mini-batch")
    window = min(20, len(losses))
    smooth = np.convolve(losses, np.ones(window) / window, mode="valid")
    loss.plot(steps[window - 1 :], smooth, label=f"average of {window} steps")
    loss.axhline(math.log(10), ls="--", c="gray", label="ln 10: W = 0, every p = 0.1")
    loss.set_xlabel("step")
    loss.set_ylabel("cross-entropy")
    loss.legend()
    acc = fig.add_subplot(1, 2, 2)
    acc.plot([s for s, _ in checkpoints], [a for _, a in checkpoints], "o-")
    acc.set_xlabel("step")
    acc.set_ylabel("test accuracy")
    acc.set_title(title)
    fig.tight_layout()
    return save(fig, config, "training", figures)


def predictions(
    config: LessonConfig,
    images: np.ndarray,
    labels: Sequence[int],
    probs: np.ndarray,
    figures: list[Path],
) -> Path:
    """Images (n, 28, 28) with the bars of their (n, 10) probabilities; wrong guesses in red."""
    n = len(images)
    fig = new_figure(2.0 * n, 4.2)
    for i in range(n):
        top = fig.add_subplot(2, n, i + 1)
        top.imshow(images[i], cmap="gray")
        top.axis("off")
        guess = int(np.argmax(probs[i]))
        colour = "black" if guess == int(labels[i]) else "red"
        title = f"label {int(labels[i])}: p({guess}) = {probs[i, guess]:.2f}"
        top.set_title(title, fontsize=8, color=colour)
        bars = fig.add_subplot(2, n, n + i + 1)
        bars.bar(range(probs.shape[1]), probs[i])
        bars.set_ylim(0, 1)
        bars.set_xticks(range(probs.shape[1]))
        bars.tick_params(labelsize=6)
    fig.suptitle("Test digits and their ten probabilities after training (wrong guesses in red)")
    fig.tight_layout()
    return save(fig, config, "predictions", figures)
