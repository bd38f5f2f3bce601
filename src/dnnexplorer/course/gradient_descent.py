"""Exercises of chapter 4, `gradient-descent`: a gradient, the critical rate, a local minimum.

The first works out one slope of the cost by hand, the second finds the largest learning rate
that still converges from the curvature of the cost, the third runs gradient descent on a
function with two valleys and asks where it stops.
"""

from __future__ import annotations

import numpy as np

from dnnexplorer.course.checking import Exercise, number
from dnnexplorer.lessons import gradient_descent as gd

CHAPTER = "gradient-descent"

SIZES, PRICES = np.array([1.0, 2.0, 3.0]), np.array([2.0, 3.0, 5.0])  # chapter 3's three houses
QUARTIC_START = 0.2  # just right of the hilltop at x ≈ 0.17


def _slope_w() -> float:
    return float(gd.mse_gradient(SIZES, PRICES, 0.0, 0.0)[0])


def _critical() -> float:
    return gd.critical_learning_rate(SIZES)


def _quartic_end() -> float:
    return float(gd.descend_1d(QUARTIC_START)[-1])


def _global_minimum() -> float:
    return float(min(gd.QUARTIC.deriv().roots().real, key=gd.QUARTIC))


def _eigenvalues() -> tuple[float, float]:
    return gd.eigenvalues(gd.hessian(SIZES))


EXERCISES = (
    Exercise(
        CHAPTER,
        "gradient",
        "For the three houses x = 1, 2, 3 and y = 2, 3, 5 and J(w, b) = mean((y − (w·x + b))²), "
        "what is ∂J/∂w at w = 0, b = 0?",
        solution=_slope_w,
        judge=number(
            rel=1e-3,
            mistakes={
                _slope_w() / 2: "the 2 that comes down from the square is missing",
                _slope_w() * 3: "that is the slope of the sum; J is the mean, divide by n",
                -_slope_w(): "that is −∂J/∂w, the direction a step moves; the slope itself is "
                "negative (raising w lowers J)",
            },
        ),
        wrong=_slope_w() / 2,
        why="∂J/∂w = −2·mean(x·(y − (w·x + b))) = −2·(2 + 6 + 15)/3 = −46/3 ≈ −15.33 at (0, 0). "
        "It is negative: raising w lowers the cost, so a step w ← w − η·∂J/∂w increases w.",
        hint="Differentiate (y − (w·x + b))² with the chain rule: 2·(y − (w·x + b))·(−x); "
        "then take the mean over the three houses.",
    ),
    Exercise(
        CHAPTER,
        "critical-rate",
        "For the same three houses, above which learning rate does gradient descent on J "
        "diverge? (Compute the Hessian H = 2·[[mean x², mean x], [mean x, 1]] and its largest "
        "eigenvalue.)",
        solution=_critical,
        judge=number(
            rel=1e-3,
            mistakes={
                2
                * _critical(): "H has a factor 2 in front of the matrix: it comes from the square",
                _critical()
                / 2: "that is 1/λ_max, the rate that crosses the steep direction in one "
                "step; the limit is twice as large",
                2 / _eigenvalues()[0]: "that is 2/λ_min; the steepest direction, λ_max, sets "
                "the limit",
            },
        ),
        wrong=_critical() / 2,
        why="A step multiplies the distance to the minimum along each eigenvector by (1 − η·λ); "
        f"it shrinks only while η < 2/λ_max. Here λ_max = {_eigenvalues()[1]:.2f}, so the limit "
        f"is {_critical():.4f}: just below it the walk zig-zags but converges, just above it "
        "every zig-zag is wider than the last.",
        hint="np.linalg.eigvalsh(H) gives both eigenvalues of a symmetric matrix; keep the "
        "largest and divide 2 by it.",
    ),
    Exercise(
        CHAPTER,
        "local-minimum",
        f"Run gradient descent on f(x) = x⁴ − 3x² + x from x = {QUARTIC_START}, with η = "
        f"{gd.QUARTIC_RATE}, for {gd.QUARTIC_STEPS} steps. Where does it stop?",
        solution=_quartic_end,
        judge=number(
            rel=1e-3,
            mistakes={
                _global_minimum(): "that is the global minimum, in the other valley; look at "
                "the sign of f'(0.2) to see which way the first step goes",
                QUARTIC_START: "that is where it starts; the slope there is not zero",
            },
        ),
        wrong=_global_minimum(),
        why=f"f'(0.2) = 4·0.008 − 1.2 + 1 < 0, so the first step goes right, away from the "
        f"hilltop, and the walk settles at x ≈ {_quartic_end():.3f}, a local minimum "
        "(f ≈ −1.07), although the valley on the left goes down to f ≈ −3.51. Gradient "
        "descent only ever sees the slope where it stands.",
        hint="f'(x) = 4x³ − 6x + 1. Repeat x = x − 0.05·f'(x) a hundred times in a loop.",
    ),
)
