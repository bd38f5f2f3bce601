"""Inside a CNN (/learn/inside) in a real browser: draw, open every layer, click a feature map.

The page's sum for a clicked pixel is checked three ways: against the server's feature-map value
it shows, and against F.conv2d in float64 on the same numbers (the step before and the filter,
read back from the page).
"""

from __future__ import annotations

import pytest
import torch
import torch.nn.functional as F
from playwright.sync_api import expect

MEAN, STD = 0.1307, 0.3081  # MNIST's: x = (pixel - mean) / std is what the model sees


def stroke(page, points: list[tuple[float, float]]) -> None:
    """Draw one stroke with the mouse through `points` (pad pixels), as a learner would."""
    box = page.locator("#pad").bounding_box()
    page.mouse.move(box["x"] + points[0][0], box["y"] + points[0][1])
    page.mouse.down()
    for x, y in points[1:]:
        page.mouse.move(box["x"] + x, box["y"] + y, steps=3)
    page.mouse.up()


def one() -> list[tuple[float, float]]:
    return [(150, 45 + 19 * i) for i in range(11)]  # a vertical bar, 190 px tall


def opened(page, url: str) -> None:
    """Open the page and wait until the chosen model's filters have arrived."""
    page.goto(url)
    page.wait_for_function("() => window.inside && inside.model !== null")


def answered(page) -> None:
    """Wait until the last request's answer is drawn."""
    page.wait_for_function("() => inside.answer && !inside.busy && !inside.again")


def step_index(page, name: str) -> int:
    return page.evaluate("(name) => inside.answer.steps.findIndex((s) => s.name === name)", name)


def values(page, k: int) -> list[float]:
    return page.evaluate("(k) => Array.from(inside.answer.steps[k].values)", k)


def step_tensor(page, k: int) -> torch.Tensor:
    shape = page.evaluate("(k) => inside.answer.steps[k].shape", k)
    return torch.tensor(values(page, k), dtype=torch.float64).reshape(shape)


def click_value(page, k: int, map_: int, i: int, j: int) -> None:
    """Click the centre of value (map, i, j) on step k's canvas, as a learner would."""
    canvas = page.locator(f'section.layer[data-step="{k}"] canvas.maps')
    x, y = canvas.evaluate(
        """(c, [m, i, j]) => {
          const [left, top] = insideView.origin(c.layout, m);
          const scale = c.getBoundingClientRect().width / c.width;
          const zoom = c.layout.zoom * scale;
          return [left * scale + (j + 0.5) * zoom, top * scale + (i + 0.5) * zoom];
        }""",
        [map_, i, j],
    )
    canvas.click(position={"x": x, "y": y})


def checked_numbers(page) -> tuple[float, float]:
    """(the page's own sum, the server's value) of the clicked value, at full precision."""
    check = page.locator("p.check")
    expect(check).to_contain_text("✓")
    return float(check.get_attribute("data-value")), float(check.get_attribute("data-server"))


def conv_reference(page, k: int, map_: int, i: int, j: int) -> float:
    """F.conv2d in float64 on the step before and the layer's filter, as the page received them."""
    name = page.evaluate("(k) => inside.answer.steps[k].name", k)
    conv = page.evaluate(
        "(n) => { const p = inside.model.parameters[n]; return [Array.from(p.weight),"
        " p.bias ? Array.from(p.bias) : null, p.shape]; }",
        name,
    )
    params = page.evaluate("(k) => inside.answer.steps[k].params", k)
    weight = torch.tensor(conv[0], dtype=torch.float64).reshape(conv[2])
    bias = torch.tensor(conv[1], dtype=torch.float64) if conv[1] else None
    x = step_tensor(page, k - 1).unsqueeze(0)
    maps = F.conv2d(x, weight, bias, params["stride"], params["padding"])
    return float(maps[0, map_, i, j])


def test_drawing_opens_every_layer_of_lenet5_and_a_clicked_pixel_adds_up(page, lab_url) -> None:
    opened(page, f"{lab_url}/learn/inside?run=lenet5-small")
    stroke(page, one())
    answered(page)
    steps = page.evaluate("() => inside.answer.steps.map((s) => s.kind)")
    assert steps[:3] == ["input", "padding", "conv"] and steps[-2:] == ["logits", "softmax"]
    assert {"activation", "pooling", "dense"} <= set(steps)
    expect(page.locator("section.layer")).to_have_count(len(steps))
    probabilities = values(page, len(steps) - 1)
    assert abs(sum(probabilities) - 1) < 1e-5
    digit = max(range(10), key=lambda d: probabilities[d])
    expect(page.locator("#digit")).to_have_text(str(digit))
    expect(page.locator("table.bars tr.winner th").last).to_have_text(str(digit))
    expect(page.locator("#timing")).to_contain_text("end of stroke to every layer drawn")

    c3 = step_index(page, "c3")
    click_value(page, c3, 2, 3, 4)
    expect(page.locator("#detail-title")).to_contain_text("c3 (conv): map 2, row 3, column 4")
    expect(page.locator("figure.channel")).to_have_count(6)  # C3 sees all six maps of S2
    expect(page.locator("figure.channel").first.locator("table")).to_have_count(3)
    mine, server = checked_numbers(page)
    reference = conv_reference(page, c3, 2, 3, 4)
    assert abs(mine - reference) < 1e-5 and abs(server - reference) < 1e-5
    assert server == values(page, c3)[(2 * 10 + 3) * 10 + 4]  # the map's own value, shown
    # the first channel's window is S2's map 0, rows 3-7, columns 4-8 (2 decimals shown)
    s2 = step_tensor(page, c3 - 1)
    first_cell = page.locator("figure.channel").first.locator("table").first.locator("td").first
    expect(first_cell).to_have_text(f"{float(s2[0, 3, 4]):.2f}")


def test_a_border_pixel_sums_over_zero_padding_and_pooling_takes_the_max(page, lab_url) -> None:
    opened(page, f"{lab_url}/learn/inside?run=cnn-small")
    stroke(page, one())
    answered(page)
    click_value(page, 1, 0, 0, 0)  # features.0, map 0, top-left: the window hangs over the edge
    expect(page.locator("#detail-title")).to_contain_text("features.0 (conv): map 0, row 0")
    expect(page.locator("figure.channel td.padding")).to_have_count(5)  # 3x3 window at a corner
    mine, server = checked_numbers(page)
    reference = conv_reference(page, 1, 0, 0, 0)
    assert abs(mine - reference) < 1e-5 and abs(server - reference) < 1e-5

    pool = step_index(page, "features.1")
    click_value(page, pool, 3, 5, 6)
    expect(page.locator("#detail-title")).to_contain_text("features.1 (pooling): map 3")
    before = step_tensor(page, pool - 1)
    largest = float(before[3, 10:12, 12:14].max())
    mine, server = checked_numbers(page)
    assert mine == server == largest


def test_a_test_image_picked_by_index_is_what_the_model_sees(page, lab_url, mnist) -> None:
    opened(page, f"{lab_url}/learn/inside?run=lenet5-small")
    page.fill("#test-index", "7")
    page.click("#show-test")
    label = mnist.classes[int(mnist.test_labels[7])]
    expect(page.locator("#source")).to_have_text(f"test image 7 of 10000, labelled {label}")
    answered(page)
    seen = step_tensor(page, 0)[0]
    expected = (mnist.test_images[7].double() / 255 - MEAN) / STD
    assert float((seen - expected).abs().max()) < 1e-6
    page.click("#random-test")
    expect(page.locator("#source")).not_to_have_text(f"test image 7 of 10000, labelled {label}")


def test_a_model_without_convolution_shows_its_dense_layers(page, lab_url) -> None:
    opened(page, f"{lab_url}/learn/inside?run=mlp-draw")
    expect(page.locator("#not-conv")).to_be_visible()
    stroke(page, one())
    answered(page)
    expect(page.locator("#digit")).to_have_text("1")
    expect(page.locator("section.layer.conv")).to_have_count(0)
    expect(page.locator("section.layer.dense")).to_have_count(2)
    relu = step_index(page, "layers.2")  # the first hidden layer's activation
    click_value(page, relu, 17, 0, 0)
    mine, server = checked_numbers(page)
    assert mine == server == max(0.0, values(page, relu - 1)[17])
    click_value(page, relu - 1, 17, 0, 0)
    expect(page.locator("#detail-body")).to_contain_text("stay on the server")


def test_the_draw_page_opens_every_layer_of_its_model_with_its_drawing(page, lab_url) -> None:
    page.goto(f"{lab_url}/?run=cnn-small")
    expect(page.locator("#run")).to_have_value("cnn-small")
    stroke(page, one())
    page.wait_for_function("() => !pen.busy && !pen.again")  # the Draw page's answer is in
    drawn = page.evaluate("() => Chart.getChart('probabilities').data.datasets[0].data")
    page.click("#inside-link")
    page.wait_for_url("**/learn/inside?run=cnn-small")
    page.wait_for_function("() => window.inside && inside.answer && !inside.busy")
    expect(page.locator("#source")).to_have_text("your drawing")
    inside = page.evaluate("() => inside.answer.probabilities")
    # the same drawing, the same preprocessing, the same model (float32 rounding aside)
    assert inside == pytest.approx(drawn, abs=1e-5)


def test_bad_input_is_explained_on_the_page(page, lab_url, console_errors) -> None:
    opened(page, f"{lab_url}/learn/inside?run=cnn-small")
    page.set_input_files(
        "#photo", files=[{"name": "notes.txt", "mimeType": "text/plain", "buffer": b"hello"}]
    )
    expect(page.locator("#message")).to_contain_text("not an image")
    page.fill("#test-index", "99999")
    page.click("#show-test")
    expect(page.locator("#message")).to_contain_text("test image 99999 does not exist")
    # the browser itself logs each 4xx answer; the page showed both to the learner
    refused = [e for e in console_errors if "status of 4" in e]
    assert len(refused) == 2
    for error in refused:
        console_errors.remove(error)
