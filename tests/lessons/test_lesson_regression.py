"""The regression lesson: least squares in closed form = lstsq = where every GD variant ends."""

from __future__ import annotations

import numpy as np
import pytest

from dnnexplorer.lessons import regression


@pytest.fixture(scope="module")
def numbers(lesson_run):
    return lesson_run("regression")[0].numbers


def test_closed_form_is_exact_on_a_noiseless_line():
    x = np.array([0.0, 1.0, 2.0, 5.0])
    assert regression.closed_form(x, 2.0 * x + 1.0) == pytest.approx((2.0, 1.0), abs=1e-12)


def test_closed_form_equals_lstsq(numbers):
    cf, ls = numbers["closed_form"], numbers["lstsq"]
    assert cf["w"] == pytest.approx(ls["w"], abs=1e-10)
    assert cf["b"] == pytest.approx(ls["b"], abs=1e-10)
    # and it recovers the documented line up to the noise
    assert cf["w"] == pytest.approx(regression.TRUE_W, abs=0.1)
    assert cf["b"] == pytest.approx(regression.TRUE_B, abs=0.2)


@pytest.mark.parametrize("variant", ["batch", "stochastic", "mini-batch"])
def test_every_gradient_descent_converges_to_the_closed_form(numbers, variant):
    run, cf = numbers["gradient_descent"][variant], numbers["closed_form"]
    assert run["converged"]
    assert abs(run["w"] - cf["w"]) < regression.TOLERANCE
    assert abs(run["b"] - cf["b"]) < regression.TOLERANCE
    assert len(run["loss_per_epoch"]) == run["epochs"]
    n = numbers["data"]["n"]
    assert run["updates"] == run["epochs"] * -(-n // run["batch_size"])


def test_batch_gd_needs_the_fewest_updates_sgd_the_most(numbers):
    gd = numbers["gradient_descent"]
    assert gd["batch"]["updates"] < gd["mini-batch"]["updates"] < gd["stochastic"]["updates"]


def test_gd_loss_ends_at_the_least_squares_minimum(numbers):
    for run in numbers["gradient_descent"].values():
        assert run["loss_per_epoch"][-1] == pytest.approx(numbers["closed_form"]["mse"], rel=1e-3)
        assert run["loss_per_epoch"][-1] >= numbers["closed_form"]["mse"] - 1e-12


def test_degree_1_underfits_and_degree_15_overfits(numbers):
    table = numbers["polynomials"]
    train = [table[d]["train_mse"] for d in ("1", "3", "15")]
    assert train[0] > train[1] > train[2]  # more freedom always fits the training set better
    assert table["3"]["test_mse"] < table["1"]["test_mse"]  # degree 1 misses the curve
    assert table["3"]["test_mse"] < table["15"]["test_mse"]  # degree 15 chases the noise
    assert table["15"]["test_mse"] > 3 * table["15"]["train_mse"]


def test_the_data_sets_are_the_documented_ones():
    x, y = regression.straight_line_set(0)
    assert x.shape == y.shape == (regression.N_HOUSES,)
    assert x.min() >= 0.5 and x.max() <= 2.5
    noise = y - (regression.TRUE_W * x + regression.TRUE_B)
    assert noise.std() == pytest.approx(regression.NOISE, rel=0.25)
    curved = regression.curved_set(0)
    assert curved["x_train"] == pytest.approx(np.linspace(0.3, 3.0, 20))
    assert curved["y_train"].shape == (20,) and curved["y_test"].shape == (200,)
    again = regression.curved_set(0)  # the same seed, the same houses
    assert all(np.array_equal(curved[k], again[k]) for k in curved)


def test_polynomial_fits_equal_numpys_lstsq_on_the_vandermonde_matrix():
    data = regression.curved_set(0)
    table, fits = regression.polynomial_fits(data, degrees=(3,))
    vander = np.vander(data["x_train"], 4)  # (20, 4): columns x³, x², x, 1
    coef, *_ = np.linalg.lstsq(vander, data["y_train"], rcond=None)
    assert fits[3](data["x_test"]) == pytest.approx(np.vander(data["x_test"], 4) @ coef)
    assert table["3"]["train_mse"] == pytest.approx(np.mean((vander @ coef - data["y_train"]) ** 2))


def test_the_story_tells_the_numbers_it_found(lesson_run):
    result = lesson_run("regression")[0]
    story, n = " ".join(result.story), result.numbers
    assert f"w = {n['closed_form']['w']:.4f}" in story
    assert f"{n['polynomials']['15']['test_mse']:.4f}" in story
    for word in ("cost function", "training set", "test set", "epoch", "over-fits", "under-fits"):
        assert word in story
