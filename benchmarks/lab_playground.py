"""Training steps drawn per second on the web lab's 2-D playground (/learn/playground).

The page trains its network in the browser and redraws everything after each animation frame:
the decision boundary (a 50x50 grid through the network), every hidden unit's picture, the loss
curves and the numbers (loss and accuracy on all training and test points). For each case below
the page plays for `--seconds` in headless Chromium (the system's, as the e2e tests use it), and
we count frames drawn and training steps made; with 1 step per frame every step is drawn.
Also reported: the JavaScript time of one frame (train + evaluate + draw), median over the
window. Each run is a fresh page; medians over `--runs` runs.

Usage: python benchmarks/lab_playground.py [--runs 5] [--seconds 5]
"""

from __future__ import annotations

import argparse
import os
import shlex
import statistics
import sys
import tempfile
from pathlib import Path

from playwright.sync_api import sync_playwright

from dnnexplorer.serve import create_app
from dnnexplorer.serve.background import serve_in_background
from dnnexplorer.serve.catalog import DatasetStore

CHROMIUM = os.environ.get("DNNX_CHROMIUM", "/usr/bin/chromium")
FLAGS = ["--headless", "--no-sandbox", "--disable-gpu", "--no-first-run"]
# name, the page's fields to set, steps per frame
CASES = [
    ("default: XOR, 1x4 tanh, batch 10, 200 points", {}, 1),
    ("the same at the page's default 5 steps/frame", {}, 5),
    (
        "spirals, 3 classes, 2x8 relu, batch 10",
        {"dataset": "spirals", "classes": "3", "layers": "2", "units": "8", "activation": "relu"},
        1,
    ),
    (
        "largest allowed: 4 classes, 4x8 maxout k=5, 1000 points, full batch",
        {
            "dataset": "spirals",
            "classes": "4",
            "points": "1000",
            "layers": "4",
            "units": "8",
            "activation": "maxout",
            "pieces": "5",
            "batch": "1000",
        },
        1,
    ),
]
MEASURE = """async ([seconds, warmup]) => {
  const page = playground.page;
  const wait = (s) => new Promise((done) => setTimeout(done, 1000 * s));
  page.play();
  await wait(warmup);
  const [f0, s0, t0] = [page.frames, page.trainer.steps, performance.now()];
  page.frameMs = [];
  await wait(seconds);
  const [f1, s1, t1] = [page.frames, page.trainer.steps, performance.now()];
  page.pause();
  const ms = [...page.frameMs].sort((a, b) => a - b);
  const elapsed = (t1 - t0) / 1000;
  return {frames: (f1 - f0) / elapsed, steps: (s1 - s0) / elapsed, frameMs: ms[ms.length >> 1],
          diverged: page.diverged !== null};
}"""


def configure(page, fields: dict[str, str], speed: int) -> None:
    """Set the page's fields as a learner would, then start over with them."""
    page.evaluate(
        """([fields, speed]) => {
             for (const [id, value] of Object.entries(fields)) {
               document.getElementById(id).value = value;
             }
             document.getElementById("speed").value = String(speed);
             playground.page.restart();
             if (document.getElementById("problems").textContent) throw new Error("bad case");
           }""",
        [fields, speed],
    )


def measure(url: str, runs: int, seconds: float) -> list[tuple[str, int, dict]]:
    results = []
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=CHROMIUM, args=FLAGS)
        for name, fields, speed in CASES:
            samples = []
            for _ in range(runs):
                page = browser.new_page(viewport={"width": 1280, "height": 900})
                page.goto(f"{url}/learn/playground")
                configure(page, fields, speed)
                samples.append(page.evaluate(MEASURE, [seconds, 1.0]))
                page.close()
            median = {k: statistics.median(s[k] for s in samples) for k in ("frames", "steps")}
            median["frameMs"] = statistics.median(s["frameMs"] for s in samples)
            assert not any(s["diverged"] for s in samples), name
            results.append((name, speed, median))
        browser.close()
    return results


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=5)
    parser.add_argument("--seconds", type=float, default=5.0)
    args = parser.parse_args()
    print("$ python", shlex.join([str(Path(sys.argv[0])), *sys.argv[1:]]))
    load = os.getloadavg()[0]
    print(f"{os.cpu_count()} CPUs, load average {load:.2f}; Chromium {CHROMIUM}")
    print(f"medians of {args.runs} runs of {args.seconds:g} s each\n")
    app = create_app(tempfile.mkdtemp(), datasets=DatasetStore())
    with serve_in_background(app) as url:
        results = measure(url, args.runs, args.seconds)
    print(f"{'case':<72} {'steps/frame':>11} {'frames/s':>9} {'steps/s':>8} {'JS ms/frame':>11}")
    for name, speed, m in results:
        print(
            f"{name:<72} {speed:>11} {m['frames']:>9.1f} {m['steps']:>8.1f} {m['frameMs']:>11.1f}"
        )


if __name__ == "__main__":
    main()
