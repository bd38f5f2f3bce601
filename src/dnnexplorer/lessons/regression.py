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
degree 1, 3 and 15 fitted to the small curved training set: train vs test error. The slides'
E is a sum; gradient descent minimizes the mean (the cost J): the same minimum, and a step size
that does not depend on the number of houses. Chapter 4 walks these houses' loss surface.
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
N_HOUSES = 100
TOLERANCE = 1e-3  # how close to the closed form counts as "converged"
MAX_EPOCHS = 1000
DEGREES = (1, 3, 15)


@dataclass(frozen=True)
class Descent:
    """One flavour of gradient descent: how many examples per update and its step size.

    The gradient of one example (or a few) is a noisy estimate of the full gradient: with a
    constant step SGD keeps jittering around the minimum, so its step `lr / (1 + epoch /
    decay_epochs)` shrinks. Batch GD sees the exact gradient and keeps a constant step.
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


def straight_line_set(seed: int) -> tuple[np.ndarray, np.ndarray]:
    """The lesson's houses for `seed`: sizes (100,) and prices (100,), see the docstring."""
    # Two independent streams (spawned from the seed): this set does not change the curved one.
    rng = np.random.default_rng(np.random.SeedSequence(seed).spawn(2)[0])
    sizes = rng.uniform(0.5, 2.5, N_HOUSES)
    return sizes, TRUE_W * sizes + TRUE_B + rng.normal(0.0, NOISE, N_HOUSES)


def curved_set(seed: int) -> dict[str, np.ndarray]:
    """The curved set for `seed`: x_train, y_train (20,) evenly spaced; x_test, y_test (200,)."""
    rng = np.random.default_rng(np.random.SeedSequence(seed).spawn(2)[1])
    x_train, x_test = np.linspace(0.3, 3.0, 20), rng.uniform(0.3, 3.0, 200)
    y_train = 4.0 * (1.0 - np.exp(-1.2 * x_train)) + rng.normal(0.0, 0.15, 20)
    y_test = 4.0 * (1.0 - np.exp(-1.2 * x_test)) + rng.normal(0.0, 0.15, 200)
    return {"x_train": x_train, "y_train": y_train, "x_test": x_test, "y_test": y_test}


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
    """J(w, b) = mean((y − (w·x + b))²): the cost of the line y = w·x + b."""
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


def polynomial_fits(
    data: dict[str, np.ndarray], degrees: tuple[int, ...] = DEGREES
) -> tuple[dict, dict]:
    """Fit each degree to `data`'s training houses (see `curved_set`): errors table, polynomials."""
    x_train, y_train, x_test, y_test = (
        data["x_train"],
        data["y_train"],
        data["x_test"],
        data["y_test"],
    )
    table, fits = {}, {}
    for degree in degrees:
        # Polynomial.fit rescales x to [-1, 1] first, which keeps degree 15 numerically sane.
        p = Polynomial.fit(x_train, y_train, degree)
        fits[degree] = p
        table[str(degree)] = {
            "train_mse": float(np.mean((p(x_train) - y_train) ** 2)),
            "test_mse": float(np.mean((p(x_test) - y_test) ** 2)),
        }
    return table, fits


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
    title = "Loss per epoch, above the least-squares minimum"
    ax.set(xlabel="epoch", ylabel="loss − closed-form loss", title=title)
    ax.legend()
    save(fig, config, "loss_per_epoch", figures)


def _plot_polynomials(config: LessonConfig, data: dict, fits: dict, table: dict, figures: list):
    fig = new_figure(11, 3.5)
    grid = np.linspace(0.3, 3.0, 400)
    for i, degree in enumerate(DEGREES):
        ax = fig.add_subplot(1, len(DEGREES), i + 1)
        ax.scatter(data["x_test"], data["y_test"], s=6, color="0.75", label="test")
        ax.scatter(data["x_train"], data["y_train"], s=14, color="C0", label="train")
        ax.plot(grid, fits[degree](grid), color="C3")
        row = table[str(degree)]
        ax.set_ylim(data["y_test"].min() - 0.5, data["y_test"].max() + 0.5)
        ax.set_title(f"degree {degree}: train {row['train_mse']:.3f}, test {row['test_mse']:.3f}")
        ax.set_xlabel("size (100 m²)")
    fig.axes[0].set_ylabel("price ($100k)")
    fig.axes[0].legend()
    save(fig, config, "polynomials", figures)


def run(config: LessonConfig) -> LessonResult:
    """Closed form vs lstsq vs three gradient descents, then under- and over-fitting."""
    x, y = straight_line_set(config.seed)
    w, b = closed_form(x, y)
    lw, lb = lstsq_fit(x, y)
    runs = {d.name: gradient_descent(x, y, d, (w, b), config.seed) for d in DESCENTS}
    curved = curved_set(config.seed)
    table, fits = polynomial_fits(curved)
    figures: list = []
    _plot_fit(config, x, y, w, b, figures)
    _plot_losses(config, runs, mean_squared_error(x, y, w, b), figures)
    _plot_polynomials(config, curved, fits, table, figures)
    numbers = {
        "data": {"n": len(x), "true_w": TRUE_W, "true_b": TRUE_B, "noise_std": NOISE},
        "closed_form": {"w": w, "b": b, "mse": mean_squared_error(x, y, w, b)},
        "lstsq": {"w": lw, "b": lb},
        "tolerance": TOLERANCE,
        "gradient_descent": runs,
        "polynomials": table,
    }
    return LessonResult(NAME, config.seed, numbers, _summary(numbers), figures, _story(numbers))


def _summary(n: dict) -> list[str]:
    cf, ls = n["closed_form"], n["lstsq"]
    lines = [
        f"{n['data']['n']} synthetic houses, price = {TRUE_W}·size + {TRUE_B} + noise.",
        f"Normal equations (dE/dw = 0, dE/db = 0): w = {cf['w']:.4f}, b = {cf['b']:.4f}.",
        f"numpy.linalg.lstsq agrees:              w = {ls['w']:.4f}, b = {ls['b']:.4f}.",
        f"Gradient descent from w = b = 0 until within {TOLERANCE:g} of the closed form:",
    ]
    for name, r in n["gradient_descent"].items():
        reached = f"{r['epochs']} epochs, {r['updates']} updates" if r["converged"] else "no"
        line = f"  {name:<10} batch {r['batch_size']:>3}: {reached} -> w = {r['w']:.4f}"
        lines.append(f"{line}, b = {r['b']:.4f}")
    lines.append("Polynomials on 20 training houses (mean squared error):")
    for d, row in n["polynomials"].items():
        lines.append(f"  degree {d:>2}: train {row['train_mse']:.4f}  test {row['test_mse']:.4f}")
    lines.append(
        "Degree 1 under-fits (both errors high), degree 15 over-fits (train error tiny, "
        "test error large); degree 3 generalises best."
    )
    return lines


def _story(n: dict) -> list[str]:
    cf, ls, gd, poly = n["closed_form"], n["lstsq"], n["gradient_descent"], n["polynomials"]
    gap = max(abs(cf["w"] - ls["w"]), abs(cf["b"] - ls["b"]))
    runs = "; ".join(
        f"{k} ({r['batch_size']} per update) {r['epochs']} epochs, {r['updates']} updates"
        for k, r in gd.items()
    )
    d1, d3, d15 = poly["1"], poly["3"], poly["15"]
    return [
        f"The simplest machine learning: fit a straight line y = w·x + b to {n['data']['n']} "
        "made-up houses (size x in hundreds of m², price y in hundreds of thousands of dollars; "
        f"the true line is y = {TRUE_W}·x + {TRUE_B}, plus noise). Least squares chooses the w "
        "and b that make the sum of squared errors E = Σ (yᵢ − (w·xᵢ + b))² as small as "
        "possible. At the bottom of E both slopes vanish, ∂E/∂w = 0 and ∂E/∂b = 0: two linear "
        "equations in w and b, the normal equations, which can be solved exactly. In machine-"
        "learning words E is the cost function J (or loss), and w and b are the parameters: "
        "a weight and a bias.",
        f"Solved, the normal equations give w = {cf['w']:.4f} and b = {cf['b']:.4f} (fit.png); "
        f"numpy.linalg.lstsq, a general solver, agrees to {gap:.0e}. They are not exactly "
        f"{TRUE_W} and {TRUE_B} because the prices are noisy. The mean squared error left, "
        f"{cf['mse']:.4f}, is close to the noise's variance {NOISE}² = {NOISE**2:.2f}: the line "
        "explains everything except the noise.",
        "A neural network has no such formula, so it walks downhill instead. Gradient descent "
        "repeats w ← w − η·∂J/∂w and b ← b − η·∂J/∂b, with J the mean squared error and η the "
        "learning rate. Batch gradient descent uses every house for each update, stochastic "
        "gradient descent one house, mini-batch a few; one epoch is one pass over all the "
        f"houses. From w = b = 0 to within {n['tolerance']:g} of the exact answer: {runs} "
        "(loss_per_epoch.png). All three end on the least-squares line. The one-house and "
        "few-house updates are noisy guesses of the true slope, so here their step shrinks "
        "over the epochs to let them settle (a detail the slides leave out).",
        "A low training error can fool you. 20 training houses follow a curve (prices grow ever "
        f"more slowly), and 200 other houses test each fit. A straight line (degree 1) has "
        f"training error {d1['train_mse']:.4f} and test error {d1['test_mse']:.4f}: both high, "
        f"it under-fits, it cannot bend. Degree 3: {d3['train_mse']:.4f} and "
        f"{d3['test_mse']:.4f}, both near the noise's variance 0.15² = 0.0225. Degree 15 has "
        f"the lowest training error, {d15['train_mse']:.4f}, but a test error of "
        f"{d15['test_mse']:.4f}, {d15['test_mse'] / d3['test_mse']:.0f} times degree 3's: it "
        "over-fits, threading through the training houses' noise and swinging between them "
        "(polynomials.png). This is why data is split into a training set, to learn from, and "
        "a test set, to judge the model with.",
        "The take-away: learning means choosing a cost function and finding the parameters "
        "that make it smallest, then judging the result on data the model has never seen. "
        "Next, chapter 4 (dnnx lesson gradient-descent) draws gradient descent's path on the "
        "loss surface of these same houses and shows what the learning rate does.",
    ]
