"""The Draw page in a real browser: mouse strokes on the canvas, the model's live answer."""

from __future__ import annotations

import math

from playwright.sync_api import expect

CANVAS = 280  # the drawing pad's size in CSS pixels


def stroke(page, points: list[tuple[float, float]]) -> None:
    """Draw one stroke with the mouse through `points` (canvas pixels), as a user would."""
    box = page.locator("#pad").bounding_box()
    page.mouse.move(box["x"] + points[0][0], box["y"] + points[0][1])
    page.mouse.down()
    for x, y in points[1:]:
        page.mouse.move(box["x"] + x, box["y"] + y, steps=3)
    page.mouse.up()


def settled(page) -> None:
    """Wait until the last stroke's prediction has come back."""
    page.wait_for_function("() => !pen.busy && !pen.again")


def one() -> list[tuple[float, float]]:
    return [(150, 45 + 19 * i) for i in range(11)]  # a vertical bar, 190 px tall


def zero() -> list[tuple[float, float]]:
    centre, rx, ry = CANVAS / 2, 62, 95
    angles = [2 * math.pi * i / 36 for i in range(38)]  # once round, closing the loop
    return [(centre + rx * math.sin(a), centre - ry * math.cos(a)) for a in angles]


def test_drawing_a_one_and_a_zero_is_predicted_while_drawing(page, lab_url) -> None:
    page.goto(f"{lab_url}/?run=mlp-draw")
    expect(page.locator("#run")).to_have_value("mlp-draw")
    expect(page.locator("#digit")).to_have_text("?")

    stroke(page, one())
    settled(page)
    expect(page.locator("#digit")).to_have_text("1")
    expect(page.locator("#seen")).to_be_visible()  # the 28x28 image the model saw
    bars = page.evaluate("() => Chart.getChart('probabilities').data.datasets[0].data")
    assert len(bars) == 10 and max(bars) == bars[1] and abs(sum(bars) - 1) < 1e-3
    expect(page.locator("#maps-box")).to_be_hidden()  # an MLP has no feature maps

    page.click("#clear")
    expect(page.locator("#digit")).to_have_text("?")
    stroke(page, zero())
    settled(page)
    expect(page.locator("#digit")).to_have_text("0")
    expect(page.locator("#confidence")).to_contain_text("sure")


def test_a_convolutional_model_shows_its_feature_maps(page, lab_url) -> None:
    page.goto(f"{lab_url}/?run=cnn-small")
    expect(page.locator("#run")).to_have_value("cnn-small")
    stroke(page, one())
    settled(page)
    expect(page.locator("#maps img")).to_have_count(8)  # one per filter of the first layer
    expect(page.locator("#maps-title")).to_contain_text("features.0")


def test_the_model_picker_lists_runs_with_weights(page, lab_url) -> None:
    page.goto(lab_url)
    options = page.locator("#run option")
    expect(options).not_to_have_count(0)
    names = options.evaluate_all("els => els.map(e => e.value)")
    assert {"mlp-draw", "cnn-small"} <= set(names)
