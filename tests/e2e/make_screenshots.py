"""Make the README's screenshots of the lab: `python tests/e2e/make_screenshots.py`.

Trains a small CNN for the Draw page (so its feature maps show), starts a softmax run on the
Train page and photographs its live dashboard in the middle of the last epoch. Uses the system
Chromium, like the browser tests. Takes a few minutes on a laptop CPU.

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
        browser.close()
    print(f"wrote {args.out / 'draw.png'} and {args.out / 'train.png'}")


if __name__ == "__main__":
    main()
