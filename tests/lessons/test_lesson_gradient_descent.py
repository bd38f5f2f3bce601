"""The gradient-descent lesson: the hand-made gradient and Hessian agree with autograd and
numpy, 2/λ_max is exactly where descent stops converging, a diverging walk is recorded (never
NaN), and the quartic's two walks end in its two minima."""

from __future__ import annotations

import json
import math

import numpy as np
import pytest
import torch

from dnnexplorer.lessons import gradient_descent as gd
from dnnexplorer.lessons import regression


@pytest.fixture(scope="module")
def run(lesson_run):
    return lesson_run("gradient-descent")


@pytest.fixture(scope="module")
def numbers(run):
    return run[0].numbers


@pytest.fixture(scope="module")
def houses():
    return regression.straight_line_set(0)


def _torch_loss(x: np.ndarray, y: np.ndarray):
    xs, ys = torch.from_numpy(x), torch.from_numpy(y)  # (n,), float64
    return lambda p: ((ys - (p[0] * xs + p[1])) ** 2).mean()


def test_it_walks_on_chapter_3s_houses(numbers, houses):
    x, y = houses
    assert numbers["houses"] == len(x) == regression.N_HOUSES
    ls = numbers["least_squares"]
    assert (ls["w"], ls["b"]) == pytest.approx(regression.closed_form(x, y), abs=1e-12)


@pytest.mark.parametrize("w, b", [(0.0, 0.0), (-1.0, 1.0), (2.5, -0.3)])
def test_gradient_by_hand_equals_autograd(houses, w, b):
    x, y = houses
    p = torch.tensor([w, b], dtype=torch.float64, requires_grad=True)
    _torch_loss(x, y)(p).backward()
    np.testing.assert_allclose(gd.mse_gradient(x, y, w, b), p.grad.numpy(), rtol=1e-12)


def test_hessian_eigenvalues_and_critical_rate_match_torch_and_numpy(numbers, houses):
    x, y = houses
    point = torch.tensor([0.3, -0.2], dtype=torch.float64)  # any point: J is quadratic
    hessian = torch.autograd.functional.hessian(_torch_loss(x, y), point).numpy()
    np.testing.assert_allclose(numbers["hessian"], hessian, rtol=1e-12)
    eigenvalues = np.linalg.eigvalsh(hessian)
    assert numbers["eigenvalues"] == pytest.approx(eigenvalues, rel=1e-10)
    assert numbers["critical_learning_rate"] == pytest.approx(2 / eigenvalues[1], rel=1e-10)
    assert gd.critical_learning_rate(x) == pytest.approx(2 / eigenvalues[1], rel=1e-10)


@pytest.mark.parametrize("fraction", [0.5, 0.99, 1.05])
def test_each_step_multiplies_the_distance_along_each_eigenvector_by_1_minus_eta_lambda(
    houses, fraction
):
    x, y = houses
    best = np.array(regression.closed_form(x, y))
    lam, vectors = np.linalg.eigh(gd.hessian(x))  # numpy's eigen-decomposition as the oracle
    eta = fraction * 2 / lam[1]
    walk = gd.descend(x, y, eta, steps=30)
    along = (walk.points - best) @ vectors  # (k + 1, 2): along the flat and the steep direction
    for i in (0, 1):
        np.testing.assert_allclose(along[1:, i], (1 - eta * lam[i]) * along[:-1, i], atol=1e-9)
    if fraction == 0.5:  # η = 1/λ_max: the steep direction is crossed in exactly one step
        assert np.abs(along[1:, 1]).max() < 1e-9
    else:  # past half the critical rate the walk jumps across the valley: a zig-zag
        assert np.all(np.sign(along[1:, 1]) == -np.sign(along[:-1, 1]))


@pytest.mark.parametrize("fraction", [0.99, 1.01])
def test_the_critical_rate_is_exactly_the_border(houses, fraction):
    x, y = houses
    walk = gd.descend(x, y, fraction * gd.critical_learning_rate(x), steps=1500)
    if fraction < 1:
        assert walk.diverged_at is None
        assert np.all(np.diff(walk.losses) < 1e-15)  # below the border no step raises J
        assert walk.steps_to_reach(regression.closed_form(x, y)) is not None
    else:
        assert walk.diverged_at is not None


def test_the_four_walks_do_what_their_names_say(numbers):
    walks, critical = numbers["walks"], numbers["critical_learning_rate"]
    for name, walk in walks.items():
        assert walk["learning_rate"] == pytest.approx(gd.RATES[name] * critical)
    small, right, large, wild = (walks[k] for k in ("too small", "right", "too large", "diverging"))
    assert small["steps_to_reach"] is None and small["diverged_at"] is None
    assert small["distance"] > 10 * gd.TOLERANCE  # still far after all its steps
    assert right["steps_to_reach"] < large["steps_to_reach"] <= gd.STEPS
    assert wild["diverged_at"] is not None and wild["steps_to_reach"] is None
    for walk in (small, right, large):
        assert np.all(np.diff(walk["loss_per_step"]) < 1e-15)


def test_divergence_is_recorded_as_a_step_never_as_nan(run):
    result, out = run
    wild = result.numbers["walks"]["diverging"]
    losses = wild["loss_per_step"]
    assert len(losses) == wild["diverged_at"] + 1  # the walk stopped where it diverged
    assert np.all(np.isfinite(losses))
    assert losses[-1] > gd.DIVERGED * losses[0] >= losses[-2]
    saved = json.loads((out / "result.json").read_text())
    assert None not in saved["numbers"]["walks"]["diverging"]["loss_per_step"]
    assert f"diverged at step {wild['diverged_at']}" in " ".join(result.story)


def test_an_absurd_rate_stops_at_once_with_only_numbers(houses):
    x, y = houses
    walk = gd.descend(x, y, 1e200)  # the first step overflows
    assert walk.diverged_at == 1
    assert np.all(np.isfinite(walk.points)) and np.all(np.isfinite(walk.losses))


def test_the_sweep_converges_below_the_critical_rate_and_diverges_above(numbers):
    sweep = numbers["sweep"]
    columns = ("fractions_of_critical", "steps_to_reach", "diverged_at")
    rows = zip(*(sweep[c] for c in columns), strict=True)
    for fraction, reached, diverged in rows:
        assert (reached is not None) == (fraction < 1) == (diverged is None), fraction
    below = [s for f, s in zip(gd.SWEEP, sweep["steps_to_reach"], strict=True) if f <= 0.9]
    assert below == sorted(below, reverse=True)  # up to 0.9 of the limit: bigger is sooner


def test_the_quartic_walks_end_in_its_two_minima(numbers):
    q = numbers["quartic"]
    roots = np.sort(np.roots([4.0, 0.0, -6.0, 1.0]).real)  # f'(x) = 4x³ − 6x + 1 = 0
    assert q["minima"] == pytest.approx([roots[0], roots[2]], abs=1e-10)
    assert q["hilltop"] == pytest.approx(roots[1], abs=1e-10)
    f = np.polynomial.Polynomial([0, 1, -3, 0, 1])
    assert q["global_minimum"] == pytest.approx(roots[0]) and f(roots[0]) < f(roots[2])
    left, right = (q["ends"][str(s)] for s in gd.QUARTIC_STARTS)
    assert gd.QUARTIC_STARTS[0] < q["hilltop"] < gd.QUARTIC_STARTS[1]
    assert left == pytest.approx(roots[0], abs=1e-6)  # global
    assert right == pytest.approx(roots[2], abs=1e-6)  # local: gradient descent stays there
    assert math.isclose(f.deriv()(right), 0.0, abs_tol=1e-6)


def test_mini_batch_descent_steps_on_the_given_houses_only(houses):
    x, y = houses
    order = np.random.default_rng(1).permutation(len(x))
    batches = [order[i : i + 10] for i in range(0, len(x), 10)]  # one epoch, 10 houses a step
    walk = gd.descend(x, y, 0.1, batches=batches)
    assert len(walk.points) == len(batches) + 1 and walk.diverged_at is None
    theta = np.array(gd.START)
    for k, idx in enumerate(batches, 1):  # the update rule, written out on each mini-batch
        theta = theta - 0.1 * gd.mse_gradient(x[idx], y[idx], *theta)
        np.testing.assert_array_equal(walk.points[k], theta)
        assert walk.losses[k] == regression.mean_squared_error(x, y, *theta)  # J on all houses
    everyone = gd.descend(x, y, 0.1, batches=[np.arange(len(x))] * 50)  # every house, every step
    np.testing.assert_allclose(everyone.points, gd.descend(x, y, 0.1, 50).points, rtol=1e-14)
