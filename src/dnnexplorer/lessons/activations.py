"""Lesson `activations`: the workshop's activation functions, their slopes, and autograd.

A neuron computes z = wᵀx + b and passes it through an activation function f. Without f, a stack
of layers would be one linear map; with it, the network can bend. The slides show six:
sigmoid 1/(1 + e^−x), tanh(x), ReLU max(0, x), leaky ReLU max(0.1x, x), ELU (x for x >= 0,
α(e^x − 1) for x < 0) and maxout max(w1·x + b1, w2·x + b2). The functions and their
hand-written derivatives come from `dnnexplorer.models.activations`, the same code the models
use; this lesson plots them and checks every hand-written derivative against the one autograd
computes by backpropagation. The slopes matter because backpropagation multiplies the gradient
by f'(z) once per layer it crosses: sigmoid's slope is at most 0.25 (so 10 sigmoid layers
multiply a gradient by at most 0.25^10 ≈ 1e-6) and nearly 0 once |x| is large, while ReLU's
is exactly 1 for every positive input.

Maxout's pieces here are max(1.0·x + 0, −0.5·x + 0): a V with slopes 1 and −0.5. With pieces
(x, 0) maxout is exactly ReLU, and with (x, 0.1x) it is leaky ReLU: maxout learns its shape.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence

import torch

from dnnexplorer.lessons.base import LessonConfig, LessonResult, new_figure, save
from dnnexplorer.models.activations import (
    ACTIVATION_DERIVATIVES,
    ACTIVATION_FUNCTIONS,
    ACTIVATION_NAMES,
    maxout,
)

NAME = "activations"
DESCRIPTION = "Sigmoid, tanh, ReLU, leaky ReLU, ELU, maxout: curves, slopes, autograd check"

Elementwise = Callable[[torch.Tensor], torch.Tensor]
Pieces = Sequence[float]

MAXOUT_W, MAXOUT_B = (1.0, -0.5), (0.0, 0.0)  # the two linear pieces plotted
# An even number of points never lands on x = 0, the kink of ReLU, leaky ReLU and maxout, where
# the derivative is undefined (autograd picks one of the valid slopes there, by convention).
X_RANGE, N_POINTS = 5.0, 1000
TITLES = {  # the slides' formulas, as mathtext
    "sigmoid": r"sigmoid  $1 / (1 + e^{-x})$",
    "tanh": r"$\tanh(x)$",
    "relu": r"ReLU  $\max(0, x)$",
    "leaky_relu": r"leaky ReLU  $\max(0.1x, x)$",
    "elu": r"ELU  $x$ if $x \geq 0$, else $\alpha(e^x - 1)$",
    "maxout": r"maxout  $\max(x, -0.5x)$",
}
LAYERS = 10  # a gradient crossing this many layers is multiplied by this many slopes


def maxout_1d(x: torch.Tensor, w: Pieces = MAXOUT_W, b: Pieces = MAXOUT_B) -> torch.Tensor:
    """max over the pieces w_k·x + b_k for a 1-D input: (n,) -> (n,)."""
    pieces = torch.stack([wk * x + bk for wk, bk in zip(w, b, strict=True)], dim=1)  # (n, k)
    return maxout(pieces, pieces=len(w)).squeeze(1)  # (n, 1) -> (n,)


def maxout_1d_derivative(
    x: torch.Tensor, w: Pieces = MAXOUT_W, b: Pieces = MAXOUT_B
) -> torch.Tensor:
    """The slope of the winning piece at each x (by hand): (n,) -> (n,)."""
    pieces = torch.stack([wk * x + bk for wk, bk in zip(w, b, strict=True)], dim=1)  # (n, k)
    return torch.tensor(w, dtype=x.dtype)[pieces.argmax(dim=1)]


def curves() -> dict[str, tuple[Elementwise, Elementwise]]:
    """name -> (f, hand-written f') for every activation, as elementwise functions."""
    table = {
        name: (ACTIVATION_FUNCTIONS[name], ACTIVATION_DERIVATIVES[name])
        for name in ACTIVATION_NAMES
        if name != "maxout"
    }
    table["maxout"] = (maxout_1d, maxout_1d_derivative)
    return table


def autograd_derivative(function: Elementwise, x: torch.Tensor) -> torch.Tensor:
    """f'(x) by backpropagation: the gradient of Σ f(x_i) with respect to each x_i."""
    x = x.detach().clone().requires_grad_(True)
    (grad,) = torch.autograd.grad(function(x).sum(), x)
    return grad


def analyse(function: Elementwise, derivative: Elementwise, x: torch.Tensor) -> dict:
    """Numbers that characterise one activation on the grid x."""
    y, slope = function(x), derivative(x)
    edge = torch.tensor([-X_RANGE, X_RANGE], dtype=x.dtype)
    return {
        "max_abs_error_vs_autograd": float((slope - autograd_derivative(function, x)).abs().max()),
        "output_range": [float(y.min()), float(y.max())],
        "max_slope": float(slope.max()),
        # the largest factor LAYERS such slopes can make: each layer at its steepest point
        f"best_gradient_factor_through_{LAYERS}_layers": float(slope.max()) ** LAYERS,
        "slope_at_minus_5_and_5": derivative(edge).tolist(),
    }


def _plot(config: LessonConfig, x: torch.Tensor, table: dict, figures: list) -> None:
    fig = new_figure(11, 6)
    for i, (name, (function, derivative)) in enumerate(table.items()):
        ax = fig.add_subplot(2, 3, i + 1)
        ax.plot(x.numpy(), function(x).numpy(), label="f(x)")
        ax.plot(x.numpy(), derivative(x).numpy(), "--", label="f'(x)")
        ax.axhline(0, color="0.7", linewidth=0.8)
        ax.axvline(0, color="0.7", linewidth=0.8)
        ax.set_title(TITLES[name], fontsize=10)
        ax.set_ylim(-1.5, 3)
    fig.axes[0].legend()
    fig.tight_layout()
    save(fig, config, "activations", figures)


def run(config: LessonConfig) -> LessonResult:
    """Plot each activation and its derivative; check every derivative against autograd."""
    x = torch.linspace(-X_RANGE, X_RANGE, N_POINTS, dtype=torch.float64)
    table = curves()
    functions = {name: analyse(f, df, x) for name, (f, df) in table.items()}
    relu_as_maxout = maxout_1d(x, w=(1.0, 0.0), b=(0.0, 0.0))
    leaky_as_maxout = maxout_1d(x, w=(1.0, 0.1), b=(0.0, 0.0))
    figures: list = []
    _plot(config, x, table, figures)
    numbers = {
        "grid": {"from": -X_RANGE, "to": X_RANGE, "points": N_POINTS},
        "maxout_pieces": {"w": list(MAXOUT_W), "b": list(MAXOUT_B)},
        "functions": functions,
        "maxout_with_x_and_0_is_relu": bool(torch.equal(relu_as_maxout, torch.relu(x))),
        "maxout_with_x_and_0.1x_is_leaky_relu": bool(
            torch.allclose(leaky_as_maxout, ACTIVATION_FUNCTIONS["leaky_relu"](x))
        ),
    }
    return LessonResult(NAME, config.seed, numbers, _summary(numbers), figures, _story(numbers))


def _summary(n: dict) -> list[str]:
    lines = [
        "Each activation, its largest slope, its slope at x = -5 and 5, and how far the "
        "hand-written derivative is from autograd's:"
    ]
    for name, r in n["functions"].items():
        left, right = r["slope_at_minus_5_and_5"]
        lines.append(
            f"  {name:<10} max slope {r['max_slope']:.3f}  slope at -5/5: {left:.4f}/{right:.4f}"
            f"  |hand - autograd| <= {r['max_abs_error_vs_autograd']:.1e}"
        )
    return [
        *lines,
        "Sigmoid's slope never exceeds 0.25 and is almost 0 far from 0 (saturation); "
        "ReLU's is 1 for every positive input, so gradients survive many layers.",
        f"Maxout with pieces (x, 0) is ReLU: {n['maxout_with_x_and_0_is_relu']}; with (x, 0.1x) "
        f"it is leaky ReLU: {n['maxout_with_x_and_0.1x_is_leaky_relu']}.",
    ]


def _story(n: dict) -> list[str]:
    f = n["functions"]
    sig, tanh, elu = f["sigmoid"], f["tanh"], f["elu"]
    worst = max(r["max_abs_error_vs_autograd"] for r in f.values())
    best = sig[f"best_gradient_factor_through_{LAYERS}_layers"]
    return [
        "An activation function f is what a neuron applies to its weighted sum z = wᵀx + b. "
        "Without it, layer after layer of weighted sums would still be one weighted sum, a "
        "straight line; with it, a network can bend. This lesson draws the slides' six: sigmoid "
        "σ(x) = 1 / (1 + e^−x), tanh(x), ReLU max(0, x), leaky ReLU max(0.1x, x), ELU (x if "
        "x ≥ 0, α(e^x − 1) if x < 0, with α = 1) and maxout max(w1ᵀx + b1, w2ᵀx + b2), each "
        "with its derivative f′(x), its slope. The slope matters because backpropagation "
        "(chapter 7) multiplies the gradient by f′(z) at every layer it passes through.",
        "The derivatives written by hand (σ′ = σ(1 − σ), tanh′ = 1 − tanh², ReLU′ = 1 for x > 0 "
        "and 0 below, leaky ReLU′ = 1 or 0.1, ELU′ = 1 or α·e^x, maxout′ = the slope of the "
        f"winning piece) agree with autograd's to within {worst:.0e} on {n['grid']['points']} "
        f"points from {n['grid']['from']:g} to {n['grid']['to']:g}: the formulas are right, and "
        "autograd computes the same slopes for us. activations.png draws each function (solid) "
        "and its slope (dashed).",
        f"Sigmoid's slope is largest at x = 0, where it is {sig['max_slope']:.3f} (1/4); at "
        f"x = ±5 it is down to {sig['slope_at_minus_5_and_5'][1]:.4f}: the curve has flattened "
        "(saturated), and its output barely moves when its input does. A gradient that crosses "
        f"{LAYERS} sigmoid layers is multiplied by {LAYERS} such slopes, so by at most "
        f"0.25^{LAYERS} ≈ {best:.1e}, even if every layer sits at its steepest point. tanh is "
        f"centred on 0 (outputs from −1 to 1) and its slope reaches {tanh['max_slope']:.2f} at "
        f"0, but at ±5 it is {tanh['slope_at_minus_5_and_5'][1]:.4f}: it saturates too.",
        "ReLU's slope is exactly 1 for every positive input and 0 for every negative one: a "
        "gradient crosses an active ReLU unchanged, however deep the network, one reason deep "
        "networks train well with it. A unit whose input stays negative gets slope 0 and stops "
        "learning (a 'dead' ReLU); leaky ReLU keeps a slope of 0.1 there, and ELU a slope α·e^x "
        f"that fades smoothly ({elu['slope_at_minus_5_and_5'][0]:.4f} at −5), with outputs "
        "down to −α, so that its mean output is nearer 0.",
        "Maxout is the odd one: it takes the larger of two linear pieces, here max(x, −0.5x), a "
        "V with slopes 1 and −0.5, and its slope is that of the winning piece. With the pieces "
        f"(x, 0) it is exactly ReLU ({_yes(n['maxout_with_x_and_0_is_relu'])}); with (x, 0.1x) "
        f"it is leaky ReLU ({_yes(n['maxout_with_x_and_0.1x_is_leaky_relu'])}). Its pieces are "
        "learned, so maxout learns its own shape, at the price of k sets of weights per unit.",
        "Take-away: the activation lets a network be more than one straight line, and its slope "
        "decides how much of the gradient flows back through it. Chapter 7 follows a gradient "
        "through a small network by hand with the chain rule; chapter 8 shows what sigmoid's "
        "1/4 does to a deep network: vanishing gradients.",
    ]


def _yes(flag: bool) -> str:
    return "checked on every point" if flag else "not on every point"
