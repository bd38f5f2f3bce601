"""Exercises of chapter 9, `softmax-by-hand`: a cross-entropy, a gradient, a shape, a safe softmax.

The first computes the cross-entropy of one prediction by hand (only the true class counts); the
second the gradient of the cost with respect to the biases for that same image, P − Y; the third
reasons about the shape of ∂C/∂W = Xᵀ(P − Y)/N for a mini-batch; the fourth asks for a softmax
that does not overflow on large scores (the "Try it" of the chapter).
"""

from __future__ import annotations

import math

import torch

from dnnexplorer.course.checking import Exercise, array, function, number, shape
from dnnexplorer.lessons import softmax_by_hand as lesson

CHAPTER = "softmax-by-hand"

# What a model says about an image of a 2 (the ten probabilities add up to 1).
PROBS = (0.05, 0.05, 0.30, 0.40, 0.05, 0.05, 0.02, 0.03, 0.03, 0.02)
LABEL = 2
BATCH = 100


def _probs_and_target() -> tuple[torch.Tensor, torch.Tensor]:
    return torch.tensor([PROBS]), lesson.one_hot(torch.tensor([LABEL]))  # (1, 10) each


def _cross_entropy() -> float:
    return float(lesson.cross_entropy(*_probs_and_target()))


def _bias_gradient() -> list[float]:
    probs, target = _probs_and_target()
    x = torch.zeros(1, lesson.PIXELS)  # ∂C/∂b does not depend on the pixels
    return lesson.gradients(x, probs, target)[1].tolist()


def _weight_gradient_shape() -> tuple[int, ...]:
    x = torch.zeros(BATCH, lesson.PIXELS)  # (100, 784): a mini-batch of images
    p = torch.full((BATCH, lesson.CLASSES), 0.1)  # (100, 10): their probabilities
    y = lesson.one_hot(torch.zeros(BATCH, dtype=torch.int64))  # (100, 10): one-hot labels
    return tuple(lesson.gradients(x, p, y)[0].shape)


def _naive_softmax(z: torch.Tensor) -> torch.Tensor:
    """The slides' formula on a 1-D tensor: right in theory, NaN for large scores."""
    return torch.exp(z) / torch.exp(z).sum()


def _softmax_inputs() -> list[tuple[torch.Tensor]]:
    return [
        (torch.tensor([1.0, 2.0, 3.0]),),
        (torch.tensor([-3.0, 0.0, 5.0, 2.0]),),
        (torch.tensor([1000.0, 1001.0, 1002.0]),),  # exp(1000) overflows to inf
    ]


_WRONG_CE = {
    -math.log10(PROBS[LABEL]): "that is log base 10; cross-entropy uses the natural log, ln",
    -math.log(max(PROBS)): "that is −ln of the largest probability (digit 3, the model's "
    "guess); the cost uses the probability of the true class, 2",
    -sum(math.log(p) for p in PROBS): "you summed −ln p over all ten digits; the one-hot y' "
    "is 0 except at the true class, so only that term counts",
}

EXERCISES = (
    Exercise(
        CHAPTER,
        "cross-entropy",
        f"A model looks at an image of a {LABEL} and gives the digits 0 to 9 the probabilities "
        f"{PROBS}. What is its cross-entropy C = −Σ_i y'_i ln p_i?",
        solution=_cross_entropy,
        judge=number(rel=1e-3, mistakes=_WRONG_CE),
        wrong=-math.log10(PROBS[LABEL]),
        why="y' is one-hot, so C = −ln p_2 = −ln 0.30 ≈ 1.204. The model is wrong (it prefers "
        "3) and the cost says so: compare 0.105 for the slides' 90% sure, right answer.",
        hint="Write the one-hot y' of a 2: which of the ten terms y'_i ln p_i is not zero?",
    ),
    Exercise(
        CHAPTER,
        "bias-gradient",
        "For that same image alone (N = 1), what is ∂C/∂b, the gradient of the cost with "
        "respect to the ten biases? Give the ten numbers as a list.",
        solution=_bias_gradient,
        judge=array(atol=1e-6),
        wrong=[-p for p in _bias_gradient()],  # Y − P: the sign turned round
        why="∂C/∂b = P − Y: each probability minus its target. It is −0.70 for the true class "
        "(raise its bias) and p_i for the others (lower theirs, most for the 3, at 0.40).",
        hint="∂C/∂z_i = p_i − y'_i, and z = xW + b, so ∂z_i/∂b_i = 1.",
    ),
    Exercise(
        CHAPTER,
        "gradient-shape",
        f"One step of mini-batch gradient descent uses {BATCH} images. What is the shape of "
        "∂C/∂W = Xᵀ(P − Y) / N? Answer with a tuple such as (2, 3).",
        solution=_weight_gradient_shape,
        judge=shape(
            mistakes={
                (10, 784): "that is the transpose: nn.Linear stores its weights that way, but "
                "the slides' W, and so its gradient, is (784, 10)",
                (BATCH, 10): "that is P − Y, one row per image; multiplying by Xᵀ sums over "
                "the images",
                (BATCH, 784): "that is X, the mini-batch of images itself",
            }
        ),
        wrong=(BATCH, 10),
        why="Xᵀ is (784, 100) and P − Y is (100, 10), so the product is (784, 10): one number "
        "per weight, as a gradient must be, whatever the batch size.",
        hint="Multiply the shapes: (a, b) @ (b, c) gives (a, c). What is the shape of Xᵀ?",
    ),
    Exercise(
        CHAPTER,
        "stable-softmax",
        "Write a function softmax(z) for a 1-D tensor z that also works for z = [1000, 1001, "
        "1002], where exp overflows. Subtracting the same number from every z_i does not "
        "change the softmax: which number makes it safe?",
        solution=lambda: lambda z: torch.softmax(z, dim=-1),
        judge=function(_softmax_inputs, atol=1e-6, rtol=1e-5),
        wrong=_naive_softmax,
        why="softmax(z − max z) = softmax(z), because exp(z_i − m) / Σ exp(z_j − m) cancels "
        "exp(−m). With m = max z the largest exponent is exp(0) = 1: nothing can overflow.",
        hint="Try z = z - z.max() before the exponential.",
    ),
)
