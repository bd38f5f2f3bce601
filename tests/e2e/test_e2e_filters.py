"""The Learn page "How a filter works" (/learn/filters) in a real browser.

Parity: the page's own functions (window.filterWorld, called with page.evaluate) give the numbers
of the Python lessons slash-world and xo-world for the same inputs, in float64: every score of
all 16 x 16 filters and images, the feature maps, detections, pooled values and dense-layer
scores of all 512 3x3 images, and the whole gradient-descent path from several starting filters.
Then a learner's session: click pixels and filter cells, type and drag a weight, press the
descent button, and read the numbers the page shows. The page needs no run folder and no data.
"""

from __future__ import annotations

import itertools
from collections.abc import Iterator

import numpy as np
import pytest
import torch
from playwright.sync_api import expect

from dnnexplorer.lessons import slash_world, xo_world
from dnnexplorer.serve import create_app
from dnnexplorer.serve.background import serve_in_background

TOLERANCE = 1e-12  # float64 on both sides; only the order of additions may differ
ZEROS, WRONG = [[0.0, 0.0], [0.0, 0.0]], [[5.0, -5.0], [-5.0, 5.0]]  # WRONG: past softplus's 20
REAL_FILTER = [[-0.7, 1.3], [0.25, -2.1]]


@pytest.fixture(scope="module")
def lab(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """The lab with an empty runs folder: this page computes everything in the browser."""
    with serve_in_background(create_app(tmp_path_factory.mktemp("runs"))) as url:
        yield url


@pytest.fixture
def filters_page(page, lab: str):
    page.goto(f"{lab}/learn/filters")
    expect(page.locator("#slash-verdict")).to_have_text('s > 0: the filter says "/"')
    return page


def js(page, expression: str, *args):
    """Call `expression` (a JS function of the args) in the page and return its value."""
    return page.evaluate(f"(args) => ({expression})(...args)", list(args))


def numbers(locator) -> list[float]:
    """The exact numbers a list of cells keeps in their data-value attributes."""
    return [float(v) for v in locator.evaluate_all("els => els.map(e => e.dataset.value)")]


def cells(page, grid: str) -> list[float]:
    return numbers(page.locator(f"#{grid} .fw-cell"))


def all_images(size: int) -> np.ndarray:
    """Every image of size x size pixels, each +1 or -1: (2**(size*size), size, size)."""
    signs = itertools.product([-1.0, 1.0], repeat=size * size)
    return np.array(list(signs)).reshape(-1, size, size)


# ---- Parity with the Python lessons ---------------------------------------------------------


def test_the_page_holds_the_lessons_images_filters_and_settings(filters_page) -> None:
    world = js(filters_page, "() => JSON.parse(JSON.stringify(filterWorld))")  # its data
    assert [(n, im, y) for n, im, y in world["SLASH_IMAGES"]] == [
        (name, image.tolist(), label) for name, (image, label) in slash_world.IMAGES.items()
    ]
    assert world["WORKSHOP_FILTER"] == slash_world.WORKSHOP_FILTER.tolist()
    assert (world["GD_STEPS"], world["GD_LR"]) == (slash_world.GD_STEPS, slash_world.GD_LR)
    assert world["XO_IMAGES"] == xo_world.IMAGES[:, 0].tolist()
    assert world["XO_FILTERS"] == xo_world.FILTERS[:, 0].tolist()
    assert world["CLASSES"] == list(xo_world.CLASSES) and world["THRESHOLD"] == xo_world.THRESHOLD


def test_scores_equal_the_lessons_for_every_filter_and_image(filters_page) -> None:
    patterns = [p.tolist() for p in slash_world.all_patterns()] + [REAL_FILTER]
    got = js(filters_page, "(fs, ims) => fs.map(f => ims.map(x => filterWorld.score(f, x)))",
             patterns, patterns)  # fmt: skip
    overlays = js(filters_page, "(f, x) => filterWorld.overlay(f, x)", REAL_FILTER, patterns[5])
    for f, row in zip(patterns, got, strict=True):
        for image, value in zip(patterns, row, strict=True):
            assert value == pytest.approx(
                slash_world.score(np.array(f), np.array(image)), abs=1e-15
            )
    assert overlays == slash_world.overlay(REAL_FILTER, patterns[5]).tolist()
    verdicts = js(filters_page, "(v) => v.map(filterWorld.verdict)", [4, -2, 0, 0.5])
    assert verdicts == [slash_world.verdict(v) for v in (4, -2, 0, 0.5)]


@pytest.mark.parametrize("filters", ["lesson", "real"])
def test_feature_maps_pooling_and_dense_scores_equal_the_lessons(filters_page, filters) -> None:
    kernels = xo_world.FILTERS.double()  # (2, 1, 2, 2)
    if filters == "real":
        kernels = torch.tensor([[REAL_FILTER], [[[1.9, -1.0], [-1.6, 2.2]]]], dtype=torch.float64)
    images = all_images(3)  # all 512 pictures of the 3x3 world
    got = js(filters_page, """(ims, fs) => ims.map(x => {
        const maps = filterWorld.featureMaps(x, fs), d = filterWorld.detect(maps);
        return [maps, d, filterWorld.pool(d), filterWorld.logits(x, fs)]; })""",
             images.tolist(), kernels[:, 0].tolist())  # fmt: skip
    x = torch.from_numpy(images).unsqueeze(1)  # (512, 1, 3, 3), float64
    maps = xo_world.feature_maps(x, kernels)
    detected = xo_world.detect(maps)
    pooled = xo_world.pool(detected)
    logits = xo_world.hand_designed_logits(x, kernels)
    assert np.allclose([g[0] for g in got], maps.numpy(), rtol=0, atol=TOLERANCE)
    assert [g[1] for g in got] == detected.tolist()
    assert [g[2] for g in got] == pooled.tolist()
    assert [g[3] for g in got] == logits.tolist()
    weight, bias = xo_world.design_dense_layer()
    dense = js(filters_page, "() => filterWorld.designDenseLayer()")
    assert dense == {"weight": weight.tolist(), "bias": bias.tolist()}


@pytest.mark.parametrize("start", ["seed 0", "zeros", "wrong", "real"])
def test_gradient_descent_follows_the_lessons_path(filters_page, start) -> None:
    first = {"zeros": ZEROS, "wrong": WRONG, "real": REAL_FILTER}.get(start)
    if first is None:  # the lesson's own start, drawn with its seed
        first = slash_world.gradient_descent(0)["initial_filter"].tolist()
    expected = slash_world.descend(np.array(first))
    got = js(filters_page, "(f) => filterWorld.descend(f)", first)
    assert np.allclose(got["filters"], expected["filters"], rtol=0, atol=TOLERANCE)
    assert np.allclose(got["losses"], expected["losses"], rtol=0, atol=TOLERANCE)
    assert len(got["filters"]) == slash_world.GD_STEPS + 1


# ---- A learner's session ---------------------------------------------------------------------


def test_clicking_pixels_and_filter_cells_updates_the_dot_product(filters_page) -> None:
    page = filters_page
    expect(page.locator("#slash-score")).to_have_text("= +4")
    page.locator("#slash-image .fw-cell").nth(0).click()  # ink top-left: a poorly drawn "/"
    assert cells(page, "slash-image") == [1, 1, 1, -1]
    expect(page.locator("#slash-products")).to_contain_text("= (\u22121) + (+1) + (+1) + (+1)")
    expect(page.locator("#slash-score")).to_have_text("= +2")
    expect(page.locator("#slash-verdict")).to_have_text('s > 0: the filter says "/"')
    expect(page.locator("#slash-table tr.selected td").first).to_have_text(
        "poorly drawn / (stray top-left)"
    )

    page.locator("#slash-filter .fw-cell").nth(1).click()  # the filter's +1 becomes -1
    assert cells(page, "slash-filter") == [-1, -1, 1, -1]
    expect(page.locator("#slash-score")).to_have_text("= 0")
    expect(page.locator("#slash-verdict")).to_have_text('s = 0: "no idea"')
    # the table scores every image of the lesson with the edited filter
    table = numbers(page.locator("#slash-table tbody td:nth-child(4)"))
    edited = np.array([[-1, -1], [1, -1]])
    assert table == [slash_world.score(edited, im) for im, _ in slash_world.IMAGES.values()]
    right = slash_world.evaluate(edited)["correct"]
    expect(page.locator("#slash-count")).to_contain_text(f"gives {right} of the 10")

    page.get_by_role(
        "button", name="vertical bar (left)", exact=True
    ).click()  # a preset of the lesson
    page.click("#filter-workshop")
    expect(page.locator("#slash-score")).to_have_text("= 0")  # the slides' exercise: no idea
    assert cells(page, "slash-image") == [1, -1, 1, -1]


def test_typing_and_dragging_set_a_real_weight(filters_page) -> None:
    page = filters_page
    page.locator("#slash-filter-inputs input").nth(0).fill("0.5")
    assert cells(page, "slash-filter") == [0.5, 1, 1, -1]
    expect(page.locator("#slash-filter .fw-cell").nth(0)).to_have_text("+0.50")
    expect(page.locator("#slash-score")).to_have_text("= +2.50")  # 0.5*(-1) + 1 + 1 + 1

    box = page.locator("#slash-filter .fw-cell").nth(3).bounding_box()
    x, y = box["x"] + box["width"] / 2, box["y"] + box["height"] / 2
    page.mouse.move(x, y)
    page.mouse.down()
    page.mouse.move(x, y - 40, steps=8)  # 40 px up: +1
    page.mouse.up()
    weight = cells(page, "slash-filter")[3]
    assert weight == pytest.approx(0.0, abs=0.051)  # -1 + 1, not flipped by the ending click
    shown = float(page.locator("#slash-score").get_attribute("data-value"))
    filt = np.array(cells(page, "slash-filter")).reshape(2, 2)
    assert shown == pytest.approx(slash_world.score(filt, slash_world.IMAGES["/"][0]), abs=1e-12)


def test_the_descent_button_moves_the_filter_step_by_step(filters_page) -> None:
    page = filters_page
    page.click("#filter-zero")
    expect(page.locator("#descend-status")).to_contain_text("loss L(F) = 0.6931")  # log 2
    page.click("#descend-run")
    status = page.locator("#descend-status")
    page.wait_for_function("() => slashPage.state.steps > 3 && slashPage.state.run !== null")
    midway = int(status.get_attribute("data-steps"))
    assert 3 < midway < slash_world.GD_STEPS  # it is moving, one step at a time
    expect(status).to_have_attribute("data-running", "0", timeout=30_000)
    expect(status).to_have_attribute("data-steps", str(slash_world.GD_STEPS))

    path = slash_world.descend(np.zeros((2, 2)))
    assert np.allclose(cells(page, "slash-filter"), path["filters"][-1].ravel(), atol=TOLERANCE)
    final = np.array(cells(page, "slash-filter")).reshape(2, 2)
    loss = slash_world.descend(final, steps=1)["losses"][0]  # the lesson's loss of that filter
    assert float(status.get_attribute("data-loss")) == pytest.approx(loss, abs=TOLERANCE)
    expect(status).to_contain_text(f"loss L(F) = {loss:.4f}")
    assert np.sign(final).tolist() == slash_world.WORKSHOP_FILTER.tolist()
    expect(page.locator("#slash-count")).to_contain_text("gives 10 of the 10")
    points = page.locator("#descend-chart polyline").get_attribute("points").split()
    assert len(points) == slash_world.GD_STEPS + 1  # the loss before each step, and after

    page.click("#filter-negated")  # one step from the wrong filter, by the button
    page.click("#descend-step")
    one = slash_world.descend(-slash_world.WORKSHOP_FILTER, steps=1)["filters"][1]
    assert np.allclose(cells(page, "slash-filter"), one.ravel(), atol=TOLERANCE)
    expect(status).to_have_attribute("data-steps", "1")


def test_the_3x3_world_shows_maps_pooling_and_the_dense_layers_verdict(filters_page) -> None:
    page = filters_page
    expect(page.locator("#xo-verdict")).to_have_text(
        'The network reads "X" (z = +1, the largest score).'
    )
    for k, name in enumerate(xo_world.CLASSES):
        page.locator(f"#xo-preset-{k}").click()
        expect(page.locator("#xo-verdict")).to_have_attribute("data-label", name)
        maps = xo_world.feature_maps(xo_world.IMAGES[k : k + 1])[0]  # (2, 2, 2)
        for f in range(2):
            assert cells(page, f"xo-map-{f}") == maps[f].flatten().tolist()
            assert cells(page, f"xo-detected-{f}") == xo_world.detect(maps[f]).flatten().tolist()
            pooled = page.locator(f"#xo-pooled-{f}").get_attribute("data-value")
            assert float(pooled) == xo_world.pool(xo_world.detect(maps).unsqueeze(0))[0, f]
        logits = xo_world.hand_designed_logits(xo_world.IMAGES[k : k + 1])[0].tolist()
        assert numbers(page.locator("#xo-dense .fw-z")) == logits

    page.locator("#xo-preset-2").click()  # X, then flip its centre to paper
    page.locator("#xo-image .fw-cell").nth(4).click()
    hollow = xo_world.IMAGES[2:3].clone()
    hollow[0, 0, 1, 1] = -1
    z = xo_world.hand_designed_logits(hollow)[0]
    assert numbers(page.locator("#xo-dense .fw-z")) == z.tolist()
    tied = [c for c, v in zip(xo_world.CLASSES, z.tolist(), strict=True) if v == z.max()]
    expect(page.locator("#xo-verdict")).to_have_attribute(
        "data-label", tied[0] if len(tied) == 1 else "no idea"
    )

    page.locator("#xo-map-0 .fw-cell").nth(3).click()  # the bottom-right patch's sum
    expect(page.locator("#xo-window")).to_contain_text("bottom-right patch")
    assert page.locator("#xo-image .fw-window-cell").count() == 4


def test_swapping_the_3x3_filters_swaps_x_and_o(filters_page) -> None:
    page = filters_page
    page.locator("#xo-preset-3").click()  # O
    for f in range(2):  # flip every weight of both filters: "/" becomes "\" and back
        for k in range(4):
            page.locator(f"#xo-filter-{f} .fw-cell").nth(k).click()
    flipped = xo_world.FILTERS.flip(0)
    assert cells(page, "xo-filter-0") == flipped[0, 0].flatten().tolist()
    expect(page.locator("#xo-verdict")).to_have_attribute("data-label", "X")
    expected = xo_world.hand_designed_logits(xo_world.IMAGES[3:4], flipped)[0].tolist()
    assert numbers(page.locator("#xo-dense .fw-z")) == expected

    page.click("#filter-random")  # a filter in the 2x2 world, brought over
    page.click("#xo-from-2x2")
    slash = np.array(cells(page, "slash-filter")).reshape(2, 2)
    assert cells(page, "xo-filter-1") == (-slash).flatten().tolist()
    kernels = torch.tensor(np.stack([slash, -slash])).unsqueeze(1)
    maps = xo_world.feature_maps(xo_world.IMAGES[3:4].double(), kernels)[0]
    assert np.allclose(cells(page, "xo-map-0"), maps[0].flatten(), rtol=0, atol=TOLERANCE)
