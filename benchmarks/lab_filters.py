"""How fast is the page /learn/filters? Medians of many clicks, in the system Chromium.

Everything on the page runs in the browser (a click is a few dozen multiplications). This
measures, inside the page, the time from a click to the page laid out again:
- a pixel of the 2x2 image (products, score table, loss, chart redrawn);
- a cell of the 2x2 filter (the same, for a new filter);
- a pixel of the 3x3 image (feature maps, threshold, pooling, the dense layer's scores);
and `filterWorld.descend` (200 steps of gradient descent on the filter), then the animated
descent as a learner sees it (one step per frame), and the largest difference between the
browser's descent path and the Python lesson's (`slash_world.descend`) over four starts.

    python benchmarks/lab_filters.py      (needs the system Chromium, as the e2e tests)
"""

import os
import sys
import tempfile
import time
from pathlib import Path

import numpy as np
from playwright.sync_api import sync_playwright

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
from tests.e2e.conftest import CHROMIUM_FLAGS, chromium_path

from dnnexplorer.lessons import slash_world
from dnnexplorer.serve import create_app
from dnnexplorer.serve.background import serve_in_background

CLICKS = 500
MEDIAN_CLICK_MS = """([selector, n]) => {
  const element = document.querySelector(selector), times = [];
  for (let i = 0; i < n; i++) {
    const start = performance.now();
    element.click();
    document.body.getBoundingClientRect(); // forces the layout the click caused
    times.push(performance.now() - start);
  }
  times.sort((a, b) => a - b);
  return times[Math.floor(n / 2)];
}"""
MEDIAN_DESCENT_MS = """() => {
  const times = [];
  for (let i = 0; i < 200; i++) {
    const start = performance.now();
    filterWorld.descend([[0, 0], [0, 0]]);
    times.push(performance.now() - start);
  }
  times.sort((a, b) => a - b);
  return times[100];
}"""
STARTS = ([[0, 0], [0, 0]], [[5, -5], [-5, 5]], [[-0.7, 1.3], [0.25, -2.1]])


def main() -> None:
    with tempfile.TemporaryDirectory() as runs, sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=chromium_path(), args=CHROMIUM_FLAGS)
        with serve_in_background(create_app(runs)) as url:
            page = browser.new_page(viewport={"width": 1280, "height": 900})
            page.goto(url + "/learn/filters")
            page.wait_for_function("() => typeof slashPage === 'object'")
            for what, selector in (
                ("2x2 pixel click", "#slash-image .fw-cell"),
                ("2x2 filter cell click", "#slash-filter .fw-cell"),
                ("3x3 pixel click", "#xo-image .fw-cell"),
            ):
                ms = page.evaluate(MEDIAN_CLICK_MS, [selector, CLICKS])
                print(f"{what:<28} median {ms:6.2f} ms over {CLICKS} clicks")
            ms = page.evaluate(MEDIAN_DESCENT_MS)
            print(f"{'descend(), 200 steps':<28} median {ms:6.2f} ms over 200 runs")
            page.click("#filter-zero")
            start = time.perf_counter()
            page.click("#descend-run")
            page.wait_for_function("() => slashPage.state.run === null", polling=20)
            print(f"{'animated descent, 200 steps':<28} {time.perf_counter() - start:6.2f} s wall")
            worst = 0.0
            initial = slash_world.gradient_descent(0)["initial_filter"].tolist()
            for filt in (*STARTS, initial):
                got = page.evaluate("(f) => filterWorld.descend(f)", filt)
                want = slash_world.descend(np.array(filt, dtype=float))
                worst = max(
                    worst,
                    float(np.abs(np.array(got["filters"]) - want["filters"]).max()),
                    float(np.abs(np.array(got["losses"]) - want["losses"]).max()),
                )
            print(f"{'descent path, |browser - Python|':<28} at most {worst:.2g}")
        browser.close()
    print(f"(load average {os.getloadavg()[0]:.1f}; python benchmarks/lab_filters.py)")


if __name__ == "__main__":
    main()
