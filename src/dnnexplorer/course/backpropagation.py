"""Exercises of chapter 7, `backpropagation`: links of the chain rule by hand, a step, clipping.

The first changes the loss (squared error instead of cross-entropy) and asks for ∂L/∂z2, where
the sigmoid's slope no longer cancels; the second changes the label and follows the chain one
layer further, to a hidden unit; the third takes a gradient-descent step with another learning
rate; the fourth asks what `clip_grad_norm_` does to each gradient. Each answer is computed by
the lesson's functions (or by torch), never typed in.
"""

from __future__ import annotations

import torch
from torch import nn

from dnnexplorer.course.checking import Exercise, number
from dnnexplorer.lessons import backpropagation as bp

CHAPTER = "backpropagation"
STEP_LEARNING_RATE = 0.5  # not the lesson's 1.0: the answer is not in the lesson's printout
TOTAL_NORM, MAX_NORM = 50.0, 5.0

# The lesson's example, forward and backward: the values the explanations below quote.
EXAMPLE = bp.example()
FORWARD = bp.forward(EXAMPLE)
BACKWARD = bp.backward(EXAMPLE, FORWARD)
Y_HAT, A1 = float(FORWARD["y_hat"]), float(FORWARD["a1"][0, 0])
W2, DW2 = float(EXAMPLE["W2"][0, 0]), float(BACKWARD["dL/dW2"][0, 0])


def _squared_error_dz2() -> float:
    """∂L/∂z2 for L = ½(ŷ − y)², by autograd through the lesson's forward pass."""
    t = bp.example()
    z2 = bp.forward(t)["z2"].detach().requires_grad_(True)
    loss = 0.5 * ((bp.sigmoid(z2) - t["y"]) ** 2).sum()
    loss.backward()
    return float(z2.grad)


def _hidden_gradient_for_label_0() -> float:
    """∂L/∂z1 of hidden unit 1 when the label is y = 0, by the lesson's backward pass."""
    t = bp.example() | {"y": torch.zeros(1, 1, dtype=torch.float64)}
    return float(bp.backward(t, bp.forward(t))["dL/dz1"][0, 0])


def _judge_hidden(answer: object, reference: object) -> str | None:
    mistakes = {
        Y_HAT * W2: "that is ∂L/∂a1, the gradient at the unit's output: one more link, the "
        "sigmoid's slope a1(1 − a1), takes it to z1",
        float(BACKWARD["dL/dz1"][0, 0]): "that is the value for y = 1, the lesson's "
        "label; with y = 0, ∂L/∂z2 = ŷ − y changes first",
        Y_HAT * A1 * (1 - A1): "the signal passes through the weight W2 from this unit to the "
        "output on its way back: multiply by it",
    }
    return number(rel=0.01, mistakes=mistakes)(answer, reference)


def _stepped_weight(learning_rate: float = STEP_LEARNING_RATE) -> float:
    """W2[0] after one gradient-descent step with `learning_rate`."""
    t = bp.example()
    g = bp.backward(t, bp.forward(t))
    return float(bp.gradient_step(t, g, learning_rate)["W2"][0, 0])


def _judge_squared_error(answer: object, reference: object) -> str | None:
    mistakes = {
        Y_HAT - 1.0: "that is ∂L/∂ŷ for the squared error (and ∂L/∂z2 for cross-entropy); one "
        "more link: multiply by the sigmoid's slope ŷ(1 − ŷ)",
        2 * float(reference): "that is the slope of (ŷ − y)²: the ½ in front cancels the 2 of "
        "the square",
    }
    return number(rel=0.01, mistakes=mistakes)(answer, reference)


def _judge_step(answer: object, reference: object) -> str | None:
    mistakes = {
        _stepped_weight(-STEP_LEARNING_RATE): "that step goes uphill: gradient descent "
        "subtracts the gradient, w ← w − η·∂L/∂w",
        W2: "that is the weight before the step",
    }
    return number(rel=0.001, mistakes=mistakes)(answer, reference)


def _judge_clip(answer: object, reference: object) -> str | None:
    mistakes = {
        TOTAL_NORM / MAX_NORM: "clipping shrinks the gradients: the factor is below 1",
        MAX_NORM: "that is the new total norm, not the factor",
        1.0: "it would be 1 only if the norm were already at most max_norm",
    }
    return number(rel=0.001, mistakes=mistakes)(answer, reference)


def _clip_factor() -> float:
    """The factor clip_grad_norm_ multiplies a gradient of norm TOTAL_NORM by."""
    weight = nn.Parameter(torch.zeros(2, dtype=torch.float64))
    weight.grad = torch.tensor([0.6, 0.8], dtype=torch.float64) * TOTAL_NORM  # norm TOTAL_NORM
    before = weight.grad.clone()
    nn.utils.clip_grad_norm_([weight], MAX_NORM)
    return float(weight.grad[0] / before[0])


EXERCISES = (
    Exercise(
        CHAPTER,
        "squared-error",
        "Same network, same example, but with the squared error L = ½(ŷ − y)² as the loss: "
        "what is ∂L/∂z2?",
        solution=_squared_error_dz2,
        judge=_judge_squared_error,
        wrong=Y_HAT - 1.0,
        why=f"(ŷ − y)·ŷ(1 − ŷ): {Y_HAT * (1 - Y_HAT):.3f} times cross-entropy's ŷ − y here, "
        "and close to zero whenever the output saturates near 0 or 1, even when it is badly "
        "wrong. That slower learning is why the slides prefer cross-entropy for classification.",
        hint="Two links: ∂L/∂ŷ of ½(ŷ − y)², then ∂ŷ/∂z2 = ŷ(1 − ŷ) for a sigmoid output. "
        "ŷ is in the forward table.",
    ),
    Exercise(
        CHAPTER,
        "hidden-unit",
        "Now let the label be y = 0 (same weights, same x). What is ∂L/∂z1 for hidden unit 1, "
        "the first entry of ∂L/∂z1?",
        solution=_hidden_gradient_for_label_0,
        judge=_judge_hidden,
        wrong=float(BACKWARD["dL/dz1"][0, 0]),
        why=f"ŷ − y = {Y_HAT:+.3f} (the network says yes, the answer is no), times the weight "
        f"W2[0] = {W2:g} to the output, times the unit's slope a(1 − a) = {A1 * (1 - A1):.3f}. "
        "It is positive: the loss wants this unit quieter now. Only the label changed, not the "
        "forward values, so backpropagation reuses every one of them.",
        hint="Start again at the top: ∂L/∂z2 = ŷ − y with y = 0. Then ∂L/∂a1 = ∂L/∂z2 · W2ᵀ "
        "(unit 1's weight to the output), then multiply by a1(1 − a1) of unit 1.",
    ),
    Exercise(
        CHAPTER,
        "step",
        f"Take one gradient-descent step with learning rate {STEP_LEARNING_RATE:g} (the lesson "
        "used 1). What does the weight W2[0], from hidden unit 1 to the output, become?",
        solution=_stepped_weight,
        judge=_judge_step,
        wrong=_stepped_weight(-STEP_LEARNING_RATE),
        why=f"{W2:g} − {STEP_LEARNING_RATE:g} × ({DW2:.4f}) = {_stepped_weight():.4f}: the "
        "gradient is negative, so the weight grows, which raises z2 and ŷ towards the label 1.",
        hint="w ← w − η·∂L/∂w, with ∂L/∂W2[0] the first entry of ∂L/∂W2 in the backward table.",
    ),
    Exercise(
        CHAPTER,
        "clip",
        f"All the gradients of a network together have the norm {TOTAL_NORM:g}. You call "
        f"torch.nn.utils.clip_grad_norm_(model.parameters(), max_norm={MAX_NORM:g}). By what "
        "factor is every gradient multiplied?",
        solution=_clip_factor,
        judge=_judge_clip,
        wrong=TOTAL_NORM / MAX_NORM,
        why=f"max_norm / total = {MAX_NORM:g} / {TOTAL_NORM:g} = {MAX_NORM / TOTAL_NORM:g}, the "
        "same factor for every gradient of every layer: the step keeps its direction, only its "
        "length is capped at max_norm.",
        hint="After clipping, the total norm is max_norm. Which single factor turns a norm of "
        f"{TOTAL_NORM:g} into {MAX_NORM:g}?",
    ),
)
