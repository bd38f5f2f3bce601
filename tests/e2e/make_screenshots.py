"""Make the README's screenshots of the lab: `python tests/e2e/make_screenshots.py`.

Trains a small CNN for the Draw page (so its feature maps show), starts a softmax run on the
Train page and photographs its live dashboard in the middle of the last epoch, then brings each
Learn page to a state worth a picture: a filter learned by gradient descent, spirals learned in
the playground, a zig-zagging descent, and every layer of LeNet-5 with one pixel's sum opened.
Uses the system Chromium, like the browser tests. Takes a few minutes on a laptop CPU.

    python tests/e2e/make_screenshots.py --data-dir "$DNNX_DATA" --out docs/screenshots
"""

from __future__ import annotations

import argparse
import itertools
import math
import sys
import tempfile
from pathlib import Path

from playwright.sync_api import expect, sync_playwright

from dnnexplorer.data import load_dataset
from dnnexplorer.serve import create_app
from dnnexplorer.serve.background import serve_in_background
from dnnexplorer.serve.catalog import DatasetStore
from dnnexplorer.train import TrainConfig, run_training

sys.path.insert(0, str(Path(__file__).parent))  # the browser tests' helpers, run as a script
from conftest import CHROMIUM_FLAGS, chromium_path


def draw_a_seven(page) -> None:
    box = page.locator("#pad").bounding_box()
    points = [(70, 60), (210, 60), (170, 140), (130, 235)]
    page.mouse.move(box["x"] + points[0][0], box["y"] + points[0][1])
    page.mouse.down()
    for (x0, y0), (x1, y1) in itertools.pairwise(points):
        steps = max(2, int(math.dist((x0, y0), (x1, y1)) / 8))
        page.mouse.move(box["x"] + x1, box["y"] + y1, steps=steps)
    page.mouse.up()
    page.wait_for_function("() => !pen.busy && !pen.again")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--data-dir", type=Path, default=None)
    parser.add_argument("--out", type=Path, default=Path("docs/screenshots"))
    args = parser.parse_args()
    mnist = load_dataset("mnist", args.data_dir)
    runs = Path(tempfile.mkdtemp(prefix="dnnx-screenshots-"))
    run_training(TrainConfig(model="cnn", epochs=1), out_dir=runs / "cnn-mnist", dataset=mnist)
    lenet = TrainConfig(model="lenet5", epochs=1, model_options={"variant": "modern"})
    run_training(lenet, out_dir=runs / "lenet5-mnist", dataset=mnist)
    store = DatasetStore()
    store.put(mnist)
    args.out.mkdir(parents=True, exist_ok=True)
    with serve_in_background(create_app(runs, datasets=store)) as url, sync_playwright() as p:
        browser = p.chromium.launch(executable_path=chromium_path(), args=CHROMIUM_FLAGS)
        page = browser.new_page(viewport={"width": 1280, "height": 860}, device_scale_factor=1)
        page.goto(f"{url}/?run=cnn-mnist")
        expect(page.locator("#run")).to_have_value("cnn-mnist")
        draw_a_seven(page)
        expect(page.locator("#maps img")).not_to_have_count(0)
        page.screenshot(path=args.out / "draw.png", full_page=True)

        page.goto(f"{url}/train")
        expect(page.locator("#model option")).not_to_have_count(0)
        page.select_option("#model", "softmax")
        page.fill("#epochs", "3")
        page.fill("#batch_size", "32")
        page.fill("#name", "softmax-mnist")
        page.click("#start")
        page.wait_for_function("() => document.querySelectorAll('#epoch-rows tr').length >= 2")
        page.wait_for_timeout(1500)  # partway into the last epoch
        page.screenshot(path=args.out / "train.png", full_page=True)
        page.locator("#status").filter(has_text="finished").wait_for(timeout=300_000)
        for learn_page in (filters, playground, descent, inside):
            learn_page(page, url)
            page.screenshot(path=args.out / f"learn-{learn_page.__name__}.png")
        browser.close()
    print(f"wrote the screenshots of the lab to {args.out}")


def filters(page, url: str) -> None:
    """The 2x2 world: a poorly drawn "/", and a filter learned from zeros by gradient descent."""
    page.goto(f"{url}/learn/filters")
    page.locator("#slash-image .fw-cell").nth(0).click()  # ink top-left: a poorly drawn "/"
    page.click("#filter-zero")
    page.click("#descend-run")
    page.wait_for_function("() => slashPage.state.run === null", timeout=60_000)


def playground(page, url: str) -> None:
    """Spirals, two hidden layers of 8 units, trained until the boundary follows the arms."""
    page.goto(f"{url}/learn/playground")
    page.select_option("#dataset", "spirals")
    for field, value in (("#noise", "0.05"), ("#layers", "2"), ("#units", "8")):
        page.fill(field, value)
        page.press(field, "Tab")
    page.select_option("#speed", "20")
    page.click("#play")
    page.wait_for_function(
        "() => Number(document.getElementById('steps').textContent) > 6000", timeout=120_000
    )
    page.click("#play")  # pause


def descent(page, url: str) -> None:
    """Chapter 4's "too large" learning rate: the walk zig-zags across the valley to the bottom."""
    page.goto(f"{url}/learn/descent")
    page.get_by_role("button", name="too large").click()
    page.select_option("#speed", "10")
    page.click("#play")
    expect(page.locator("#message")).to_contain_text("within 0.001", timeout=60_000)


def inside(page, url: str) -> None:
    """LeNet-5 on test image 0, with one pixel of the second convolution (C3) opened."""
    page.goto(f"{url}/learn/inside?run=lenet5-mnist&test=0")
    page.wait_for_function("() => inside.answer && !inside.busy", timeout=60_000)
    page.locator('section.layer[data-step="5"] canvas.maps').click(position={"x": 100, "y": 20})
    page.locator('section.layer[data-step="4"]').scroll_into_view_if_needed()


if __name__ == "__main__":
    main()
