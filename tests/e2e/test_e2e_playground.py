"""The 2-D playground in a real browser: its numbers against PyTorch, and a learner's clicks.

The page trains its network in JavaScript; `dnnexplorer.playground` trains the same network
with torch and autograd. For the same settings and seed the two must agree to ~1e-9: the
parity tests call the page's functions (`playground.run`, `playground.makePoints`) with
`page.evaluate`; the learner tests press play, step and reset and read what the page shows.
"""

from __future__ import annotations

import dataclasses
import re

import pytest
from playwright.sync_api import expect

from dnnexplorer.playground import (
    Mulberry32,
    PlaygroundConfig,
    build_network,
    make_points,
    train,
)
from dnnexplorer.serve import create_app
from dnnexplorer.serve.background import serve_in_background
from dnnexplorer.serve.catalog import DatasetStore

TOLERANCE = 1e-9
CE, SE = "cross-entropy", "squared error"
# Every activation, both losses, batch sizes 1 / mini / full (60), 2, 3 and 4 classes:
PARITY_CASES = [
    ("xor", 2, (4,), "tanh", 2, CE, 10, 7),
    ("xor", 2, (4,), "sigmoid", 2, CE, 1, 7),
    ("circles", 3, (5, 3), "relu", 2, SE, 60, 7),
    ("spirals", 3, (6, 6), "leaky_relu", 2, CE, 7, 7),
    ("blobs", 4, (4,), "elu", 2, SE, 1, 7),
    ("blobs", 3, (4, 4), "maxout", 3, CE, 16, 7),
    ("alarm", 2, (3,), "maxout", 2, SE, 60, 7),
    ("spirals", 2, (), "tanh", 2, SE, 20, 4294967295),
]
FIELDS = (
    "dataset",
    "classes",
    "hidden",
    "activation",
    "maxout_pieces",
    "loss",
    "batch_size",
    "seed",
)
PARITY_CONFIGS = [
    PlaygroundConfig(points=60, **dict(zip(FIELDS, case, strict=True))) for case in PARITY_CASES
]
STEPS = 200


@pytest.fixture(scope="module")
def playground_url(tmp_path_factory) -> str:
    """The lab with an empty runs folder: the playground needs no model and no dataset."""
    app = create_app(tmp_path_factory.mktemp("runs"), datasets=DatasetStore())
    with serve_in_background(app) as url:
        yield f"{url}/learn/playground"


def settings(config: PlaygroundConfig) -> dict:
    """The page's settings object for `config`: the same names, `hidden` as a list."""
    return {**dataclasses.asdict(config), "hidden": list(config.hidden)}


def largest_difference(a: list[list[float]], b: list[list[float]]) -> float:
    assert [len(x) for x in a] == [len(x) for x in b]
    return max((abs(p - q) for x, y in zip(a, b, strict=True) for p, q in zip(x, y, strict=True)))


def shown(page, element: str) -> str:
    return page.locator(f"#{element}").inner_text()


def set_field(page, element: str, value: str) -> None:
    """Type a value and leave the field with Tab, as a learner does (the change event fires)."""
    page.fill(f"#{element}", value)
    page.press(f"#{element}", "Tab")


def page_weights(page) -> list[list[float]]:
    return page.evaluate("() => playground.weightsOf(playground.page.trainer.net)")


def test_the_browsers_generator_draws_the_same_numbers_as_pythons(page, playground_url) -> None:
    page.goto(playground_url)
    draws = page.evaluate(
        "() => { const g = playground.mulberry32(99); return [...Array(1000)].map(g) }"
    )
    rng = Mulberry32(99)
    assert draws == [rng() for _ in range(1000)]  # bit for bit


@pytest.mark.parametrize("config", PARITY_CONFIGS, ids=lambda c: f"{c.dataset}-{c.activation}")
def test_the_browser_trains_the_same_network_as_pytorch(page, playground_url, config) -> None:
    page.goto(playground_url)
    points = page.evaluate("(s) => playground.makePoints(s)", settings(config))
    x_train, y_train, x_test, y_test = make_points(config)
    assert points["train"]["y"] == y_train.tolist() and points["test"]["y"] == y_test.tolist()
    assert largest_difference(points["train"]["x"], x_train.tolist()) < 1e-12
    assert largest_difference(points["test"]["x"], x_test.tolist()) < 1e-12

    browser = page.evaluate("([s, n]) => playground.run(s, n)", [settings(config), STEPS])
    torch_run = train(config, STEPS)  # autograd on the same network, float64
    assert largest_difference(browser["weights"], torch_run.weights) < TOLERANCE
    assert largest_difference([browser["batchLosses"]], [torch_run.batch_losses]) < TOLERANCE
    for split, (loss, accuracy) in (("train", torch_run.train), ("test", torch_run.test)):
        assert browser[split]["loss"] == pytest.approx(loss, abs=TOLERANCE)
        assert browser[split]["accuracy"] == accuracy


def test_xor_with_tanh_learns_live_and_shows_pytorchs_numbers(page, playground_url) -> None:
    page.goto(playground_url)
    page.select_option("#dataset", "xor")
    page.select_option("#activation", "tanh")
    page.select_option("#speed", "20")
    expect(page.locator("#legend")).to_contain_text("XOR true")
    expect(page.locator("#unit-pictures canvas")).to_have_count(4)  # 1 layer of 4 units
    page.click("#play")
    expect(page.locator("#play")).to_have_text("pause")
    page.wait_for_function(
        "() => parseFloat(document.getElementById('test-acc').textContent) > 92", timeout=60_000
    )
    page.click("#play")
    expect(page.locator("#play")).to_have_text("play")
    steps = int(shown(page, "steps"))
    assert steps > 0 and float(shown(page, "epoch")) == pytest.approx(steps * 10 / 200, abs=0.01)

    torch_run = train(PlaygroundConfig(), steps)  # the page's defaults, the same steps
    assert largest_difference(page_weights(page), torch_run.weights) < TOLERANCE
    assert shown(page, "test-acc") == f"{100 * torch_run.test[1]:.1f}%"
    assert shown(page, "train-loss") == f"{torch_run.train[0]:.3f}"
    assert shown(page, "test-loss") == f"{torch_run.test[0]:.3f}"
    curve = page.evaluate("() => Chart.getChart('loss-chart').data.datasets[0].data")
    assert len(curve) > 5 and curve[-1]["y"] < curve[0]["y"]  # the training loss went down


def test_changing_the_loss_starts_over_from_the_same_weights(page, playground_url) -> None:
    page.goto(playground_url)
    first = page_weights(page)
    page.click("#step")
    expect(page.locator("#steps")).to_have_text("1")
    page.select_option("#loss", "squared error")
    expect(page.locator("#steps")).to_have_text("0")
    assert page_weights(page) == first  # same seed, same start
    squared = train(PlaygroundConfig(loss="squared error"), 0)
    assert shown(page, "train-loss") == f"{squared.train[0]:.3f}"  # ½ Σ (y − p)², not −ln p
    page.click("#step")
    assert (
        shown(page, "train-loss")
        == f"{train(PlaygroundConfig(loss='squared error'), 1).train[0]:.3f}"
    )


def test_the_step_button_makes_one_sgd_step(page, playground_url) -> None:
    page.goto(playground_url)
    expect(page.locator("#steps")).to_have_text("0")
    for _ in range(3):
        page.click("#step")
    expect(page.locator("#steps")).to_have_text("3")
    expect(page.locator("#epoch")).to_have_text("0.15")  # 3 batches of 10 out of 200 points
    torch_run = train(PlaygroundConfig(), 3)
    assert largest_difference(page_weights(page), torch_run.weights) < TOLERANCE
    assert shown(page, "train-acc") == f"{100 * torch_run.train[1]:.1f}%"


def test_three_spiral_arms_with_maxout(page, playground_url) -> None:
    page.goto(playground_url)
    page.select_option("#dataset", "spirals")
    page.select_option("#classes", "3")
    set_field(page, "layers", "2")
    set_field(page, "units", "8")
    page.select_option("#activation", "maxout")
    expect(page.locator("#pieces")).to_be_enabled()
    set_field(page, "pieces", "3")
    expect(page.locator("#legend .pg-legend-item")).to_have_count(3)
    expect(page.locator("#unit-pictures canvas")).to_have_count(16)
    config = PlaygroundConfig(dataset="spirals", classes=3, hidden=(8, 8), activation="maxout",
                              maxout_pieces=3)  # fmt: skip
    parameters = sum(p.numel() for p in build_network(config).parameters())
    expect(page.locator("#params")).to_have_text(str(parameters))
    page.click("#batch-full")
    expect(page.locator("#batch")).to_have_value("200")
    expect(page.locator("#batch-kind")).to_have_text("= full batch")
    page.click("#step")
    full = dataclasses.replace(config, batch_size=200)
    assert largest_difference(page_weights(page), train(full, 1).weights) < TOLERANCE


def test_the_alarm_is_learned_without_a_hidden_layer(page, playground_url) -> None:
    page.goto(playground_url)
    page.select_option("#dataset", "alarm")
    expect(page.locator("#classes")).to_be_disabled()
    expect(page.locator("#noise")).to_be_disabled()  # whole pixel values: no noise
    expect(page.locator("#legend")).to_contain_text("alarm")
    set_field(page, "layers", "0")
    expect(page.locator("#unit-pictures")).to_contain_text("No hidden layer")
    page.select_option("#speed", "20")
    page.click("#play")
    page.wait_for_function(
        "() => parseFloat(document.getElementById('test-acc').textContent) >= 97", timeout=60_000
    )
    page.click("#play")


def test_a_huge_learning_rate_says_diverged_and_shows_no_nan(page, playground_url) -> None:
    page.goto(playground_url)
    for rate in ("1000", "1e300"):
        page.fill("#lr", rate)
        page.click("#play")
        expect(page.locator("#status")).to_contain_text("Diverged")
        expect(page.locator("#test-acc")).to_have_text("diverged")
        expect(page.locator("#play")).to_be_disabled()
        text = page.locator("main").inner_text()
        assert not re.search(r"NaN|Infinity|undefined", text), text
        page.click("#reset")
        expect(page.locator("#status")).to_have_text("")
        expect(page.locator("#steps")).to_have_text("0")
        expect(page.locator("#play")).to_be_enabled()


def test_absurd_settings_are_refused_with_a_reason(page, playground_url) -> None:
    page.goto(playground_url)
    problems = page.locator("#problems")
    for element, value, reason in [
        ("units", "100", "1..8 units"),
        ("layers", "9", "at most 4 hidden layers"),
        ("points", "5", "points must be"),
        ("noise", "", "noise must be"),
        ("seed", "-3", "seed must be"),
    ]:
        good = page.input_value(f"#{element}")
        set_field(page, element, value)
        expect(problems).to_contain_text(reason)
        expect(page.locator("#play")).to_be_disabled()
        expect(page.locator("#step")).to_be_disabled()
        set_field(page, element, good)
        expect(problems).to_have_text("")
    for element, value, reason in [("lr", "0", "learning rate"), ("batch", "500", "batch size")]:
        good = page.input_value(f"#{element}")
        page.fill(f"#{element}", value)  # these two apply as you type
        expect(problems).to_contain_text(reason)
        expect(page.locator("#play")).to_be_disabled()
        page.fill(f"#{element}", good)
        expect(page.locator("#play")).to_be_enabled()


def test_the_learn_index_links_to_the_playground(page, playground_url) -> None:
    page.goto(playground_url.replace("/learn/playground", "/learn"))
    page.click("#card-playground")
    expect(page.locator("h1")).to_have_text("A 2-D playground")
    expect(page.locator("header nav a.current")).to_have_text("Learn")
