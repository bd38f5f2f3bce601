"""Lesson `regression`: house price vs size, the simplest case of machine learning.

Data (synthetic, documented so the numbers can be checked by hand):
- straight-line set: 100 houses, size x uniform in [0.5, 2.5] (hundreds of m²),
  price y = 1.5·x + 0.5 + noise, noise ~ Normal(0, 0.2²) (hundreds of thousands of dollars);
- curved set (for under/over-fitting): 20 training sizes evenly spaced in [0.3, 3.0] and 200
  test sizes uniform in that range, price y = 4·(1 − exp(−1.2·x)) + Normal(0, 0.15²):
  prices grow ever more slowly for big houses.

Steps: least squares in closed form (the normal equations from ∂E/∂w = 0 and ∂E/∂b = 0),
checked against `numpy.linalg.lstsq`; then batch, stochastic and mini-batch gradient descent on
E = mean((y − (w·x + b))²) until (w, b) is within 1e-3 of the closed form; then polynomials of
degree 1, 3 and 15 fitted to the small curved training set: train vs test error.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import torch
from numpy.polynomial import Polynomial

from dnnexplorer.lessons.base import LessonConfig, LessonResult, new_figure, save

NAME = "regression"
DESCRIPTION = "House price vs size: least squares, three kinds of gradient descent, over-fitting"

TRUE_W, TRUE_B, NOISE = 1.5, 0.5, 0.2
TOLERANCE = 1e-3  # how close to the closed form counts as "converged"
MAX_EPOCHS = 1000
DEGREES = (1, 3, 15)


@dataclass(frozen=True)
class Descent:
    """One flavour of gradient descent: how many examples per update and its step size.

    A step of `lr / (1 + epoch / decay_epochs)` shrinks over time: the gradient of one example
    (or a few) is a noisy estimate of the full gradient, and with a constant step SGD keeps
    jittering around the minimum instead of settling on it. Batch GD sees the exact gradient,
    so it keeps a constant step (decay_epochs=None).
    """

    name: str
    batch_size: int | None  # None: the whole training set in every update
    lr: float
    decay_epochs: float | None

    def step_size(self, epoch: int) -> float:
        return self.lr if self.decay_epochs is None else self.lr / (1 + epoch / self.decay_epochs)


DESCENTS = (
    Descent("batch", None, lr=0.25, decay_epochs=None),
    Descent("stochastic", 1, lr=0.1, decay_epochs=5),
    Descent("mini-batch", 10, lr=0.2, decay_epochs=10),
)


def house_prices(n: int, rng: np.random.Generator) -> tuple[np.ndarray, np.ndarray]:
    """The straight-line set: sizes (n,) and prices (n,), see the module docstring."""
    sizes = rng.uniform(0.5, 2.5, n)
    prices = TRUE_W * sizes + TRUE_B + rng.normal(0.0, NOISE, n)
    return sizes, prices


def curved_prices(sizes: np.ndarray, rng: np.random.Generator) -> np.ndarray:
    """Prices of the curved set for the given sizes, noise included."""
    return 4.0 * (1.0 - np.exp(-1.2 * sizes)) + rng.normal(0.0, 0.15, sizes.shape)


def closed_form(x: np.ndarray, y: np.ndarray) -> tuple[float, float]:
    """Least squares for y ≈ w·x + b from the normal equations.

    Setting ∂E/∂w = 0 and ∂E/∂b = 0 for E = Σ (y_i − (w·x_i + b))² gives two linear equations,
    whose solution is w = (nΣxy − ΣxΣy) / (nΣx² − (Σx)²) and b = (Σy − wΣx) / n.
    """
    n = len(x)
    sx, sy, sxx, sxy = x.sum(), y.sum(), (x * x).sum(), (x * y).sum()
    w = (n * sxy - sx * sy) / (n * sxx - sx * sx)
    b = (sy - w * sx) / n
    return float(w), float(b)


def lstsq_fit(x: np.ndarray, y: np.ndarray) -> tuple[float, float]:
    """The same fit by numpy's general least-squares solver, as an independent check."""
    design = np.stack([x, np.ones_like(x)], axis=1)  # (n, 2): columns x and 1
    (w, b), *_ = np.linalg.lstsq(design, y, rcond=None)
    return float(w), float(b)


def mean_squared_error(x: np.ndarray, y: np.ndarray, w: float, b: float) -> float:
    return float(np.mean((y - (w * x + b)) ** 2))


def gradient_descent(
    x: np.ndarray, y: np.ndarray, descent: Descent, target: tuple[float, float], seed: int
) -> dict:
    """Fit w, b from zero with `descent` until both are within TOLERANCE of `target`.

    Returns the final w and b, the epochs and updates it took (None if it never got there
    within MAX_EPOCHS) and the loss on the whole set after every epoch.
    """
    generator = torch.Generator().manual_seed(seed)
    xs, ys = torch.from_numpy(x), torch.from_numpy(y)  # (n,), float64
    w = torch.zeros((), dtype=torch.float64, requires_grad=True)
    b = torch.zeros((), dtype=torch.float64, requires_grad=True)
    batch = descent.batch_size or len(x)
    updates, losses, converged_at = 0, [], None
    for epoch in range(1, MAX_EPOCHS + 1):
        lr = descent.step_size(epoch)
        order = torch.randperm(len(x), generator=generator)  # a new shuffle every epoch
        for start in range(0, len(x), batch):
            idx = order[start : start + batch]
            loss = ((ys[idx] - (w * xs[idx] + b)) ** 2).mean()
            loss.backward()
            with torch.no_grad():
                w -= lr * w.grad
                b -= lr * b.grad
            w.grad, b.grad = None, None
            updates += 1
        losses.append(mean_squared_error(x, y, w.item(), b.item()))
        if max(abs(w.item() - target[0]), abs(b.item() - target[1])) < TOLERANCE:
            converged_at = epoch
            break
    return {
        "w": w.item(),
        "b": b.item(),
        "converged": converged_at is not None,
        "epochs": converged_at,
        "updates": updates if converged_at is not None else None,
        "batch_size": batch,
        "learning_rate": descent.lr,
        "decay_epochs": descent.decay_epochs,
        "loss_per_epoch": losses,
    }


def polynomial_fits(rng: np.random.Generator) -> tuple[dict, dict]:
    """Fit degree 1, 3 and 15 polynomials to 20 curved-set houses; train and test errors."""
    x_train = np.linspace(0.3, 3.0, 20)
    x_test = rng.uniform(0.3, 3.0, 200)
    y_train, y_test = curved_prices(x_train, rng), curved_prices(x_test, rng)
    table, fits = {}, {}
    for degree in DEGREES:
        # Polynomial.fit rescales x to [-1, 1] first, which keeps degree 15 numerically sane.
        p = Polynomial.fit(x_train, y_train, degree)
        fits[degree] = p
        table[str(degree)] = {
            "train_mse": float(np.mean((p(x_train) - y_train) ** 2)),
            "test_mse": float(np.mean((p(x_test) - y_test) ** 2)),
        }
    data = {"x_train": x_train, "y_train": y_train, "x_test": x_test, "y_test": y_test}
    return table, {"fits": fits, **data}


def _plot_fit(config: LessonConfig, x, y, w: float, b: float, figures: list) -> None:
    fig = new_figure()
    ax = fig.add_subplot()
    ax.scatter(x, y, s=12, alpha=0.7, label="houses")
    grid = np.linspace(x.min(), x.max(), 2)
    ax.plot(grid, w * grid + b, color="C3", label=f"least squares: y = {w:.3f}x + {b:.3f}")
    ax.set(xlabel="size (100 m²)", ylabel="price ($100k)", title="Price vs size")
    ax.legend()
    save(fig, config, "fit", figures)


def _plot_losses(config: LessonConfig, runs: dict, best_loss: float, figures: list) -> None:
    fig = new_figure()
    ax = fig.add_subplot()
    for name, r in runs.items():
        excess = np.maximum(np.asarray(r["loss_per_epoch"]) - best_loss, 1e-12)
        ax.semilogy(range(1, len(excess) + 1), excess, label=f"{name} ({len(excess)} epochs)")
    ax.set(
        xlabel="epoch",
        ylabel="loss − closed-form loss",
        title="Loss per epoch, above the least-squares minimum",
    )
    ax.legend()
    save(fig, config, "loss_per_epoch", figures)


def _plot_polynomials(config: LessonConfig, data: dict, table: dict, figures: list) -> None:
    fig = new_figure(11, 3.5)
    grid = np.linspace(0.3, 3.0, 400)
    for i, degree in enumerate(DEGREES):
        ax = fig.add_subplot(1, len(DEGREES), i + 1)
        ax.scatter(data["x_test"], data["y_test"], s=6, color="0.75", label="test")
        ax.scatter(data["x_train"], data["y_train"], s=14, color="C0", label="train")
        ax.plot(grid, data["fits"][degree](grid), color="C3")
        row = table[str(degree)]
        ax.set_ylim(data["y_test"].min() - 0.5, data["y_test"].max() + 0.5)
        ax.set_title(f"degree {degree}: train {row['train_mse']:.3f}, test {row['test_mse']:.3f}")
        ax.set_xlabel("size (100 m²)")
    fig.axes[0].set_ylabel("price ($100k)")
    fig.axes[0].legend()
    save(fig, config, "polynomials", figures)


def run(config: LessonConfig) -> LessonResult:
    """Closed form vs lstsq vs three gradient descents, then under- and over-fitting."""
    # Two independent streams, so the straight-line set does not change the curved one.
    line_rng, curve_rng = (
        np.random.default_rng(s) for s in np.random.SeedSequence(config.seed).spawn(2)
    )
    x, y = house_prices(100, line_rng)
    w, b = closed_form(x, y)
    lw, lb = lstsq_fit(x, y)
    runs = {d.name: gradient_descent(x, y, d, (w, b), config.seed) for d in DESCENTS}
    table, poly = polynomial_fits(curve_rng)
    figures: list = []
    _plot_fit(config, x, y, w, b, figures)
    _plot_losses(config, runs, mean_squared_error(x, y, w, b), figures)
    _plot_polynomials(config, poly, table, figures)
    numbers = {
        "data": {"n": len(x), "true_w": TRUE_W, "true_b": TRUE_B, "noise_std": NOISE},
        "closed_form": {"w": w, "b": b, "mse": mean_squared_error(x, y, w, b)},
        "lstsq": {"w": lw, "b": lb},
        "tolerance": TOLERANCE,
        "gradient_descent": runs,
        "polynomials": table,
    }
    return LessonResult(NAME, config.seed, numbers, _explain(numbers), figures)


def _explain(n: dict) -> list[str]:
    cf, ls = n["closed_form"], n["lstsq"]
    lines = [
        f"{n['data']['n']} synthetic houses, price = {TRUE_W}·size + {TRUE_B} + noise.",
        f"Normal equations (dE/dw = 0, dE/db = 0): w = {cf['w']:.4f}, b = {cf['b']:.4f}.",
        f"numpy.linalg.lstsq agrees:              w = {ls['w']:.4f}, b = {ls['b']:.4f}.",
        f"Gradient descent from w = b = 0 until within {TOLERANCE:g} of the closed form:",
    ]
    for name, r in n["gradient_descent"].items():
        reached = f"{r['epochs']} epochs, {r['updates']} updates" if r["converged"] else "no"
        lines.append(
            f"  {name:<10} batch {r['batch_size']:>3}: {reached} -> w = {r['w']:.4f}, "
            f"b = {r['b']:.4f}"
        )
    lines.append("Polynomials on 20 training houses (mean squared error):")
    for degree, row in n["polynomials"].items():
        lines.append(
            f"  degree {degree:>2}: train {row['train_mse']:.4f}  test {row['test_mse']:.4f}"
        )
    lines.append(
        "Degree 1 under-fits (both errors high), degree 15 over-fits (train error tiny, "
        "test error large); degree 3 generalises best."
    )
    return lines
