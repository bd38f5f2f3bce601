"""Lesson `gradient-descent`: walking down the loss surface of chapter 3's houses.

The cost of the line y = w·x + b on chapter 3's houses (`regression.straight_line_set`),
J(w, b) = mean((yᵢ − (w·xᵢ + b))²), is a surface over the (w, b) plane. Gradient descent starts
at (−1, 1) and repeats (w, b) ← (w, b) − η·∇J, with the gradient worked out by hand:
∂J/∂w = −2·mean(xᵢ·rᵢ) and ∂J/∂b = −2·mean(rᵢ), where rᵢ = yᵢ − (w·xᵢ + b).

J is quadratic, curved the same everywhere (the Hessian H = 2·[[mean x², mean x], [mean x, 1]]):
a step multiplies the distance to the minimum along each eigenvector of H by (1 − η·λ), so the
walk converges exactly when η < 2/λ_max, the critical learning rate. The rates shown are
fractions of it. A diverging walk stops, and records the step, once its loss reaches DIVERGED
times its start: no number or figure holds an overflow or a NaN. Last, f(x) = x⁴ − 3x² + x
has two valleys: two starts on either side of its hilltop end in different minima.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from numpy.polynomial import Polynomial

from dnnexplorer.lessons import regression
from dnnexplorer.lessons.base import LessonConfig, LessonResult, new_figure, save

NAME = "gradient-descent"
DESCRIPTION = "Gradient descent's path on the (w, b) loss surface: learning rates, a local minimum"

START = (-1.0, 1.0)  # (w, b) where every walk starts: off the answer in both directions
STEPS = 400
TOLERANCE = regression.TOLERANCE  # within this of the least-squares (w, b): arrived
DIVERGED = 1e3  # the loss has grown to 1000 times its start: the walk diverged and stops
# Fractions of the critical rate 2/λ_max. "Right" is 1/λ_max: it crosses the steep direction
# of the bowl in exactly one step.
RATES = {"too small": 0.05, "right": 0.5, "too large": 0.99, "diverging": 1.05}
SWEEP = (0.2, 0.3, 0.4, 0.5, 0.6, 0.7, 0.8, 0.9, 0.95, 0.98, 0.99, 1.01, 1.02, 1.05, 1.1)
SWEEP_STEPS = 1500

QUARTIC = Polynomial([0.0, 1.0, -3.0, 0.0, 1.0])  # f(x) = x⁴ − 3x² + x, coefficients from x⁰
QUARTIC_STARTS = (-0.5, 0.5)
QUARTIC_RATE, QUARTIC_STEPS = 0.05, 100


def mse_gradient(x: np.ndarray, y: np.ndarray, w: float, b: float) -> np.ndarray:
    """∇J(w, b) = (∂J/∂w, ∂J/∂b) for J = mean((y − (w·x + b))²), by the chain rule: (2,)."""
    r = y - (w * x + b)  # (n,) each house's error
    return np.array([-2.0 * np.mean(x * r), -2.0 * np.mean(r)])


def hessian(x: np.ndarray) -> np.ndarray:
    """The curvature of J, the same at every (w, b): 2·[[mean x², mean x], [mean x, 1]]."""
    return 2.0 * np.array([[np.mean(x * x), np.mean(x)], [np.mean(x), 1.0]])


def eigenvalues(h: np.ndarray) -> tuple[float, float]:
    """(λ_min, λ_max) of a symmetric [[a, c], [c, d]]: (a + d)/2 ∓ √(((a − d)/2)² + c²)."""
    mid, radius = (h[0, 0] + h[1, 1]) / 2, np.hypot((h[0, 0] - h[1, 1]) / 2, h[0, 1])
    return float(mid - radius), float(mid + radius)


def critical_learning_rate(x: np.ndarray) -> float:
    """2/λ_max: below it gradient descent on J converges from anywhere, above it it diverges."""
    return 2.0 / eigenvalues(hessian(x))[1]


@dataclass
class Walk:
    """One run of gradient descent: `points` (k + 1, 2) holds (w, b) at the start and after
    each of its k steps, `losses` (k + 1,) J there; `diverged_at`: the step it diverged, or None.
    """

    learning_rate: float
    points: np.ndarray
    losses: np.ndarray
    diverged_at: int | None

    def steps_to_reach(self, target: tuple[float, float]) -> int | None:
        """The first step after which (w, b) is within TOLERANCE of `target` (None: never)."""
        near = np.abs(self.points - np.asarray(target)).max(axis=1) < TOLERANCE
        return int(np.argmax(near)) if near.any() else None


def descend(
    x: np.ndarray, y: np.ndarray, learning_rate: float, steps=STEPS, start=START, batches=None
) -> Walk:
    """Gradient descent on J: `steps` steps from `start`, fewer if it diverges; with `batches`
    (index arrays, one per step), step k uses only houses batches[k − 1]: mini-batch descent."""
    theta = np.array(start, dtype=float)  # (2,): w and b
    points, losses, diverged_at = [theta], [regression.mean_squared_error(x, y, *theta)], None
    for step, houses in enumerate([slice(None)] * steps if batches is None else batches, 1):
        with np.errstate(over="ignore", invalid="ignore"):  # an absurd rate may overflow at once
            theta = theta - learning_rate * mse_gradient(x[houses], y[houses], *theta)
            loss = regression.mean_squared_error(x, y, *theta)
        if np.isfinite(loss):  # keep only numbers: no inf or NaN in the walk
            points.append(theta)
            losses.append(loss)
        if not np.isfinite(loss) or loss > DIVERGED * losses[0]:
            diverged_at = step
            break
    return Walk(learning_rate, np.array(points), np.array(losses), diverged_at)


def descend_1d(start: float, learning_rate: float = QUARTIC_RATE) -> np.ndarray:
    """QUARTIC_STEPS steps of x ← x − η·f'(x) on the quartic f: the points visited, (steps + 1,)."""
    slope = QUARTIC.deriv()
    xs = [float(start)]
    for _ in range(QUARTIC_STEPS):
        xs.append(xs[-1] - learning_rate * float(slope(xs[-1])))
    return np.array(xs)


def _plot_paths(config: LessonConfig, x, y, best, walks: dict, said: dict, figures: list):
    w_grid, b_grid = (np.linspace(center - 2.6, center + 2.6, 120) for center in best)
    ws, bs = np.meshgrid(w_grid, b_grid)  # (120, 120) each
    loss = np.mean((y - (ws[..., None] * x + bs[..., None])) ** 2, axis=-1)  # (120, 120)
    levels = loss.min() + np.geomspace(0.003, loss.max() - loss.min(), 14)
    fig = new_figure(10, 8.5)
    for i, (label, walk) in enumerate(walks.items()):
        ax = fig.add_subplot(2, 2, i + 1)
        ax.contour(ws, bs, loss, levels=levels, colors="0.65", linewidths=0.7)
        w, b = walk.points.T
        ax.plot(w, b, ".", color=f"C{i}", markersize=2, alpha=0.4)
        ax.plot(w[:11], b[:11], ".-", color=f"C{i}", markersize=6, linewidth=1.0)
        ax.plot(*START, "ko", markersize=5)
        ax.plot(*best, "r*", markersize=12)
        ax.set(xlim=w_grid[[0, -1]], ylim=b_grid[[0, -1]], xlabel="w", ylabel="b")
        ax.set_title(f"{label}: η = {walk.learning_rate:.4f}\n{said[label]}", fontsize=9)
    fig.suptitle(f"Walks on J(w, b) from ● {START} to ★ least squares; first 10 steps joined")
    fig.tight_layout()
    save(fig, config, "paths", figures)


def _plot_losses(config: LessonConfig, walks: dict, best_loss: float, figures: list) -> None:
    fig = new_figure(7, 4.5)
    ax = fig.add_subplot()
    for i, (label, walk) in enumerate(walks.items()):
        excess = np.maximum(walk.losses - best_loss, 1e-16)  # log scale: keep it above 0
        ax.semilogy(excess, color=f"C{i}", label=f"{label} (η = {walk.learning_rate:.4f})")
        if walk.diverged_at is not None:
            ax.plot(len(excess) - 1, excess[-1], "x", color=f"C{i}", markersize=9)
    ax.set(xlabel="step", ylabel="J(w, b) − least-squares J", title="Loss above its minimum")
    ax.legend()
    save(fig, config, "loss_per_step", figures)


def _plot_sweep(config: LessonConfig, steps: list, critical: float, figures: list) -> None:
    fig = new_figure(7, 4.5)
    ax = fig.add_subplot()
    fractions, reached = np.array(SWEEP), np.array([np.nan if s is None else s for s in steps])
    ax.plot(fractions, reached, "o-", label=f"steps to come within {TOLERANCE:g}")
    lost = np.isnan(reached)
    ax.plot(fractions[lost], np.full(lost.sum(), np.nanmax(reached)), "x", label="diverged")
    ax.axvline(1.0, color="C3", linestyle="--", linewidth=1)
    title = "Steps needed, by learning rate: a cliff at the critical rate"
    ax.set(xlabel=f"η / (2/λ_max), with 2/λ_max = {critical:.4f}", ylabel="steps", title=title)
    ax.legend()
    save(fig, config, "steps_vs_learning_rate", figures)


def _plot_quartic(config: LessonConfig, descents: dict, figures: list) -> None:
    fig = new_figure(7, 4.5)
    ax = fig.add_subplot()
    grid = np.linspace(-2.0, 2.0, 400)
    ax.plot(grid, QUARTIC(grid), color="0.4", label="f(x) = x⁴ − 3x² + x")
    for i, (start, xs) in enumerate(descents.items()):
        label = f"from x = {start:+g}: ends at x = {xs[-1]:+.3f}"
        ax.plot(xs, QUARTIC(xs), ".-", color=f"C{i}", linewidth=0.7, label=label)
        ax.plot(xs[0], QUARTIC(xs[0]), "o", color=f"C{i}", markersize=8)
    ax.set(xlabel="x", ylabel="f(x)", ylim=(-4.0, 4.0), title="Two starts, two minima")
    ax.legend()
    save(fig, config, "local_minimum", figures)


def _walk_numbers(walk: Walk, best: tuple[float, float]) -> dict:
    return {
        "learning_rate": walk.learning_rate,
        "steps_to_reach": walk.steps_to_reach(best),
        "diverged_at": walk.diverged_at,
        "distance": float(np.abs(walk.points[-1] - np.asarray(best)).max()),
        "loss_per_step": walk.losses,
    }


def _said(walk: dict) -> str:
    if walk["diverged_at"] is not None:
        return f"diverged at step {walk['diverged_at']}"
    if walk["steps_to_reach"] is None:
        return f"after {len(walk['loss_per_step']) - 1} steps still {walk['distance']:.3f} away"
    return f"within {TOLERANCE:g} of least squares after {walk['steps_to_reach']} steps"


def run(config: LessonConfig) -> LessonResult:
    """Four learning rates and a sweep on the houses' J(w, b), then the quartic's two valleys."""
    x, y = regression.straight_line_set(config.seed)
    best = regression.closed_form(x, y)
    best_loss = regression.mean_squared_error(x, y, *best)
    h = hessian(x)
    lam_min, lam_max = eigenvalues(h)
    walks = {k: descend(x, y, f * 2.0 / lam_max) for k, f in RATES.items()}
    sweep = [descend(x, y, f * 2.0 / lam_max, SWEEP_STEPS) for f in SWEEP]
    descents = {start: descend_1d(start) for start in QUARTIC_STARTS}
    left_min, hilltop, right_min = np.sort(QUARTIC.deriv().roots().real)  # where f'(x) = 0
    walk_numbers = {k: _walk_numbers(walk, best) for k, walk in walks.items()}
    figures: list = []
    _plot_paths(config, x, y, best, walks, {k: _said(v) for k, v in walk_numbers.items()}, figures)
    _plot_losses(config, walks, best_loss, figures)
    _plot_sweep(config, [s.steps_to_reach(best) for s in sweep], 2.0 / lam_max, figures)
    _plot_quartic(config, descents, figures)
    numbers = {
        "houses": len(x),
        "least_squares": {"w": best[0], "b": best[1], "loss": best_loss},
        "hessian": h,
        "eigenvalues": [lam_min, lam_max],
        "critical_learning_rate": 2.0 / lam_max,
        "start": START,
        "walks": {k: {"fraction_of_critical": RATES[k], **v} for k, v in walk_numbers.items()},
        "sweep": {
            "fractions_of_critical": SWEEP,
            "steps_to_reach": [s.steps_to_reach(best) for s in sweep],
            "diverged_at": [s.diverged_at for s in sweep],
        },
        "quartic": {
            "minima": [left_min, right_min],
            "hilltop": hilltop,
            "global_minimum": min(left_min, right_min, key=QUARTIC),
            "ends": {str(start): xs[-1] for start, xs in descents.items()},
        },
    }
    return LessonResult(NAME, config.seed, numbers, _summary(numbers), figures, _story(numbers))


def _summary(n: dict) -> list[str]:
    ls, (lam_min, lam_max), q = n["least_squares"], n["eigenvalues"], n["quartic"]
    lines = [
        f"J(w, b) on {n['houses']} houses: minimum {ls['loss']:.4f} at w = {ls['w']:.4f}, "
        f"b = {ls['b']:.4f}.",
        f"Hessian eigenvalues {lam_min:.4f} and {lam_max:.4f}: critical learning rate "
        f"2/λ_max = {n['critical_learning_rate']:.4f}. From (w, b) = {START}:",
    ]
    for label, walk in n["walks"].items():
        lines.append(f"  {label:<9} η = {walk['learning_rate']:.4f}: {_said(walk)}")
    for start, end in q["ends"].items():
        kind = "global" if abs(end - q["global_minimum"]) < TOLERANCE else "local"
        lines.append(f"x⁴ − 3x² + x from x = {float(start):+g}: ends at {end:+.4f}, {kind} minimum")
    return lines


def _story(n: dict) -> list[str]:
    ls, (lam_min, lam_max), h, q = n["least_squares"], n["eigenvalues"], n["hessian"], n["quartic"]
    small, right, large, wild = n["walks"].values()
    steps = [s for s in n["sweep"]["steps_to_reach"] if s is not None]
    ends = {float(start): end for start, end in q["ends"].items()}
    x_global, x_local = sorted(ends.values(), key=QUARTIC)  # the lower f first
    f_global, f_local = QUARTIC(x_global), QUARTIC(x_local)
    return [
        "Chapter 3's batch gradient descent found the least-squares line by walking downhill; "
        "here we watch the walk. The cost of the line y = w·x + b on the same "
        f"{n['houses']} houses, J(w, b) = mean((yᵢ − (w·xᵢ + b))²), is a surface over the "
        "(w, b) plane. Each step goes against its gradient, (w, b) ← (w, b) − η·∇J, with "
        "∂J/∂w = −2·mean(xᵢ·rᵢ) and ∂J/∂b = −2·mean(rᵢ), where rᵢ = yᵢ − (w·xᵢ + b) is a "
        "house's error; the learning rate η sets how far each step goes. Every walk starts at "
        f"(w, b) = {START}, off in both directions from the bottom, the least-squares answer "
        f"w = {ls['w']:.4f}, b = {ls['b']:.4f}.",
        "J is a bowl, exactly quadratic, curved the same everywhere: its Hessian is "
        f"H = 2·[[mean x², mean x], [mean x, 1]] = [[{h[0][0]:.3f}, {h[0][1]:.3f}], "
        f"[{h[1][0]:.3f}, {h[1][1]:.3f}]]. Its eigenvalues, {lam_min:.4f} and {lam_max:.4f}, "
        f"say the bowl is {lam_max / lam_min:.0f} times more curved across its valley than "
        "along it: the contour lines are long thin ellipses (paths.png). Along each eigenvector "
        "a step multiplies the distance to the bottom by (1 − η·λ), so the walk closes in only "
        "if |1 − η·λ| < 1 for both: η must stay below the critical learning rate "
        f"2/λ_max = {n['critical_learning_rate']:.4f}. (Chapter 3's batch rate, 0.25, was "
        f"{0.25 * lam_max / 2:.2f} of it.)",
        f"Four rates, {STEPS} steps each (paths.png, loss_per_step.png). Too small, "
        f"η = {small['learning_rate']:.4f} (1/20 of the critical rate): every step is safe and "
        f"tiny; {_said(small)}. Right, η = {right['learning_rate']:.4f} = 1/λ_max: it crosses "
        "the steep direction in exactly one step (1 − η·λ_max = 0), then runs down the valley "
        f"floor, {_said(right)}. Too large, η = {large['learning_rate']:.4f} (0.99 of the "
        "critical rate): each step jumps across the valley and lands "
        f"{abs(1 - large['learning_rate'] * lam_max):.0%} as far on the other side, a zig-zag "
        f"{_said(large)}. Diverging, η = {wild['learning_rate']:.4f} (1.05 of it): each jump "
        f"lands {abs(1 - wild['learning_rate'] * lam_max) - 1:.0%} farther out; the loss grew "
        f"to {DIVERGED:g} times its start and the walk {_said(wild)}.",
        f"A sweep from {SWEEP[0]} to {SWEEP[-1]} times the critical rate "
        "(steps_vs_learning_rate.png): below it every rate arrives, the bigger the sooner, "
        f"from {steps[0]} steps down to {min(steps)}; right next to the limit the zig-zag barely "
        "dies out and the count shoots up; above it every rate diverges. The best rates sit "
        "just before a cliff, which is why a rate found by trial is usually backed off a bit.",
        f"Not every loss is a bowl. On f(x) = x⁴ − 3x² + x, with η = {QUARTIC_RATE}, one walk "
        f"ends at x = {x_global:+.3f} (f = {f_global:.2f}), the global minimum, and another at "
        f"x = {x_local:+.3f} (f = {f_local:.2f}), a local minimum, where it stays: the slope is "
        "zero there, so gradient descent has no reason to move (local_minimum.png). They "
        f"started at {' and '.join(f'{s:+g}' for s in ends)}, on either side of the hilltop at "
        f"x = {q['hilltop']:.3f}: the start decides the valley. The slides say it in their "
        "definition: gradient descent finds a local minimum.",
        "The take-away: the learning rate is the first knob of training. Too small wastes "
        "steps, too large zig-zags and then explodes, and the limit is set by the loss's "
        "steepest curvature; where the loss has several valleys, the start matters too. Next, "
        "chapter 5 (dnnx lesson perceptron) puts a neuron where the straight line was.",
    ]
