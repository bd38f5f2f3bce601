"""The page /learn/descent in a real browser: its walks are the Python lesson's, to ~1e-12.

A learner clicks a start on the map, sets a learning rate below and above the critical one,
steps and plays, in batch, stochastic and mini-batch descent; the tests read what the page
shows and compare it, and the walk it keeps (descent.page), with
`gradient_descent.descend` for the same start, rate and order of the houses.
"""

from __future__ import annotations

import re
from collections.abc import Iterator

import numpy as np
import pytest
from playwright.sync_api import expect

from dnnexplorer.lessons import gradient_descent as gd
from dnnexplorer.lessons import regression
from dnnexplorer.serve import create_app
from dnnexplorer.serve.background import serve_in_background

X, Y = regression.straight_line_set(0)
BEST = regression.closed_form(X, Y)
CRITICAL = gd.critical_learning_rate(X)
CLOSE = {"rtol": 1e-12, "atol": 1e-12}


@pytest.fixture(scope="module")
def descent_url(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """The lab without any run: this page needs none (and no MNIST)."""
    with serve_in_background(create_app(tmp_path_factory.mktemp("runs"))) as url:
        yield url


@pytest.fixture
def opened(page, descent_url):
    page.goto(f"{descent_url}/learn/descent")
    page.wait_for_function("() => descent.page.walk !== null")
    return page


def walk_of(page) -> dict:
    return page.evaluate("() => descent.page.walk")


def python_batches(orders: list[list[int]], size: int) -> list[np.ndarray]:
    """Each epoch's shuffled order cut into mini-batches, as chapter 3 cuts them."""
    return [np.array(o[i : i + size]) for o in orders for i in range(0, len(o), size)]


def assert_same_walk(browser: dict, python: gd.Walk) -> None:
    np.testing.assert_allclose(np.array(browser["points"]), python.points, **CLOSE)
    np.testing.assert_allclose(np.array(browser["losses"]), python.losses, **CLOSE)
    assert browser["divergedAt"] == python.diverged_at


def set_rate(page, rate: str) -> None:
    page.fill("#rate", rate)
    page.press("#rate", "Enter")


def click_map(page, w: float, b: float) -> None:
    """Click the map where (w, b) is drawn."""
    x, y = page.evaluate(
        """([w, b]) => {
            const map = descent.page.map, rect = map.canvas.getBoundingClientRect();
            const [px, py] = map.toPixel(w, b);
            return [px * rect.width / map.width, py * rect.height / map.height];
        }""",
        [w, b],
    )
    page.click("#map", position={"x": x, "y": y})


def test_the_browsers_arithmetic_is_the_lessons(opened):
    page = opened
    assert page.evaluate("() => descent.page.data.houses") == {"x": X.tolist(), "y": Y.tolist()}
    for w, b in [(-1.0, 1.0), (0.3, -0.2), (3.9, 2.5)]:
        loss, grad = page.evaluate(
            "([w, b]) => { const h = descent.page.data.houses;"
            " return [descent.loss(h, w, b), descent.gradient(h, w, b)]; }",
            [w, b],
        )
        assert loss == pytest.approx(regression.mean_squared_error(X, Y, w, b), rel=1e-14)
        np.testing.assert_allclose(grad, gd.mse_gradient(X, Y, w, b), rtol=1e-13)
    # Whole batch walks: the lesson's four rates, from the lesson's start and from another.
    for start in ([-1.0, 1.0], [3.5, -1.5]):
        for fraction in gd.RATES.values():
            rate = fraction * 2.0 / gd.eigenvalues(gd.hessian(X))[1]
            browser = page.evaluate(
                "([s, r]) => descent.descend(descent.page.data.houses, s, r, {steps: 400})",
                [start, rate],
            )
            assert_same_walk(browser, gd.descend(X, Y, rate, 400, start))


@pytest.mark.parametrize("size", [1, 7, 100])
def test_mini_batch_walks_on_a_given_order_are_the_lessons(opened, size):
    page = opened
    rng = np.random.default_rng(size)
    orders = [rng.permutation(len(X)).tolist() for _ in range(3)]  # three epochs
    batches = python_batches(orders, size)
    for rate in (0.05, 0.2):
        browser = page.evaluate(
            """([orders, size, rate]) => {
                const batches = orders.flatMap((o) => descent.batchesOf(o, size));
                return descent.descend(descent.page.data.houses, [-1, 1], rate, {batches});
            }""",
            [orders, size, rate],
        )
        assert_same_walk(browser, gd.descend(X, Y, rate, start=gd.START, batches=batches))


def test_a_learner_picks_a_start_steps_and_plays_below_the_critical_rate(opened):
    page = opened
    expect(page.locator("#critical")).to_have_text(f"{CRITICAL:.4f}")
    click_map(page, 3.0, -1.0)
    start = page.evaluate("() => descent.page.start")
    assert start == pytest.approx([3.0, -1.0], abs=0.02)  # within a pixel or two
    set_rate(page, "0.2")
    expect(page.locator("#rate-says")).to_have_text(f"= {0.2 / CRITICAL:.2f} × 2/λ_max")
    for _ in range(5):
        page.click("#step")
    expect(page.locator("#updates")).to_have_text("5")
    expect(page.locator("#epochs")).to_have_text("5.00 (1 update each)")
    python = gd.descend(X, Y, 0.2, 5, start)
    w, b = python.points[-1]
    expect(page.locator("#now")).to_have_text(f"({w:.4f}, {b:.4f})")
    expect(page.locator("#loss")).to_have_text(f"{python.losses[-1]:.4f}")
    distance = np.abs(python.points[-1] - np.array(BEST)).max()
    expect(page.locator("#distance")).to_have_text(f"{distance:.4f}")

    page.select_option("#speed", "10")
    page.click("#play")
    arrived = gd.descend(X, Y, 0.2, 2000, start).steps_to_reach(BEST)
    expect(page.locator("#message")).to_have_text(
        re.compile(rf"within 0.001 of least squares after {arrived} updates")
    )
    browser = walk_of(page)
    assert_same_walk(browser, gd.descend(X, Y, 0.2, browser["updates"], start))
    chart = page.evaluate("() => Chart.getChart('loss-chart').data.datasets[0].data.length")
    assert chart == browser["updates"] + 1  # J at the start and after every update


def test_above_the_critical_rate_the_walk_leaves_the_map_and_says_where(opened):
    page = opened
    slider = page.locator("#rate-slider").bounding_box()
    page.click("#rate-slider", position={"x": slider["width"] * 0.95, "y": slider["height"] / 2})
    rate, start = page.evaluate("() => [descent.page.rate, descent.page.start]")
    assert rate > CRITICAL
    expect(page.locator("#rate-says")).to_contain_text("above the critical rate")
    page.click("#play")
    python = gd.descend(X, Y, rate, 400, start)
    expect(page.locator("#message")).to_contain_text(f"diverged at step {python.diverged_at}")
    assert_same_walk(walk_of(page), python)
    expect(page.locator("#step")).to_be_disabled()
    window = page.evaluate("() => descent.page.data.window")
    w, b = python.points[-1]
    assert not (window["w"][0] < w < window["w"][1] and window["b"][0] < b < window["b"][1])
    assert "NaN" not in page.inner_text("main") and "Infinity" not in page.inner_text("main")

    # An absurd rate overflows at once: the page still shows only numbers.
    page.click("#reset")
    set_rate(page, "1e200")
    page.click("#step")
    expect(page.locator("#message")).to_contain_text("diverged at step 1")
    assert "NaN" not in page.inner_text("main") and "Infinity" not in page.inner_text("main")
    set_rate(page, "-1")
    expect(page.locator("#message")).to_have_text("The learning rate must be a number above 0.")
    assert page.evaluate("() => descent.page.rate") == 1e200
    expect(page.locator("#rate")).to_have_value("1e+200")  # the box shows the rate in use


def test_the_lessons_rates_end_as_the_lesson_says(opened):
    page = opened
    lesson = {
        k: gd.descend(X, Y, f * 2.0 / gd.eigenvalues(gd.hessian(X))[1]) for k, f in gd.RATES.items()
    }
    page.click("#rate-diverging")
    page.click("#play")
    expect(page.locator("#message")).to_contain_text(
        f"diverged at step {lesson['diverging'].diverged_at}"
    )
    page.click("#rate-right")
    page.select_option("#speed", "100")
    page.click("#play")
    reached = lesson["right"].steps_to_reach(BEST)
    expect(page.locator("#message")).to_contain_text(f"after {reached} updates")


def test_mini_batch_and_stochastic_descent_shuffle_each_epoch(opened):
    page = opened
    page.check("input[value='mini-batch']")
    page.fill("#batch-size", "7")
    page.press("#batch-size", "Enter")
    set_rate(page, "0.05")
    for _ in range(20):
        page.click("#step")
    expect(page.locator("#epochs")).to_have_text("1.33 (15 updates each)")  # ⌈100/7⌉ = 15
    orders = page.evaluate("() => descent.page.orders")
    assert len(orders) == 2 and all(sorted(o) == list(range(len(X))) for o in orders)
    python = gd.descend(X, Y, 0.05, start=gd.START, batches=python_batches(orders, 7)[:20])
    assert_same_walk(walk_of(page), python)

    page.check("input[value='stochastic']")
    expect(page.locator("#batch-size")).to_be_disabled()
    expect(page.locator("#updates")).to_have_text("0")  # a new kind of descent: a new walk
    page.select_option("#speed", "100")
    page.click("#play")
    page.wait_for_function("() => descent.page.walk.updates >= 300")
    page.click("#play")  # pause
    browser, orders = page.evaluate("() => [descent.page.walk, descent.page.orders]")
    batches = python_batches(orders, 1)[: browser["updates"]]
    assert_same_walk(browser, gd.descend(X, Y, 0.05, start=gd.START, batches=batches))
    epochs = browser["updates"] / 100
    expect(page.locator("#epochs")).to_have_text(f"{epochs:.2f} (100 updates each)")


def test_a_bad_seed_in_the_address_is_said_on_the_page(page, descent_url, console_errors):
    page.goto(f"{descent_url}/learn/descent?seed=-3")
    expect(page.locator("#message")).to_contain_text("Could not load the houses")
    expect(page.locator("#message")).to_contain_text("greater than or equal to 0")
    # The browser itself logs the refused request (422); nothing else may be logged.
    console_errors[:] = [e for e in console_errors if "422" not in e]
