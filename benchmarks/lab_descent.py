"""How fast is the page /learn/descent? Its server answer, and its steps and frames in Chromium.

The server sends the houses and the facts of their loss surface once; every step of gradient
descent then runs in the browser. This measures both sides, medians of many runs:
- GET /api/learn/regression: computed (a new seed) and cached (the same seed again);
- in the page: one update of batch (100 houses) and stochastic (1 house) descent, timed in
  blocks of 10,000 (the browser's clock is coarse); drawing the map's surface once; one frame
  (map + numbers + loss chart) with a walk of 300 points and with the 20,000 of a long
  stochastic walk, the most Play keeps.
Usage: python benchmarks/lab_descent.py   (needs the system Chromium, as the e2e tests)
"""

import statistics
import sys
import tempfile
import time
from pathlib import Path

import numpy as np
from fastapi.testclient import TestClient
from playwright.sync_api import sync_playwright

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
from tests.e2e.conftest import CHROMIUM_FLAGS, chromium_path

from dnnexplorer.serve import create_app
from dnnexplorer.serve.background import serve_in_background
from dnnexplorer.serve.descent import surface

IN_PAGE = """() => {
  const h = descent.page.data.houses;
  const median = (a) => a.sort((x, y) => x - y)[a.length >> 1];
  const time = (f, repeats, inner = 1) => {
    const runs = [];
    for (let r = 0; r < repeats; r++) {
      const t = performance.now();
      for (let i = 0; i < inner; i++) f(i);
      runs.push((performance.now() - t) / inner);
    }
    return median(runs);
  };
  const walk = descent.newWalk(h, [-1, 1]);
  const canvas = () => Object.assign(document.createElement("canvas"), {width: 640, height: 520});
  const chart = descent.page.chart;
  const chartOnly = () => descentDraw.updateChart(chart, descent.page.walk.losses, 0.04);
  const frame = (points) => {
    descent.page.walk = descent.descend(h, [-1, 1], 0.05, {batches: Array(points - 1).fill([7])});
    descentDraw.clearChart(chart);
    return [time(() => show(), 30), time(chartOnly, 30)];
  };
  return {
    batch_update_ms: time(() => descent.step(walk, h, 1e-9, null, 1e3), 20, 10000),
    stochastic_update_ms: time((i) => descent.step(walk, h, 1e-9, [i % 100], 1e3), 20, 10000),
    draw_surface_ms: time(() => descentDraw.createMap(canvas(), descent.page.data), 20),
    "frame_300_points_ms (and its chart)": frame(300),
    "frame_20000_points_ms (and its chart)": frame(20000),
  };
}"""


def server_ms(repeats: int = 50) -> tuple[float, float, int]:
    with TestClient(create_app(tempfile.mkdtemp()), base_url="http://127.0.0.1") as client:
        cold, warm = [], []
        for seed in range(repeats):
            for runs in (cold, warm):  # a new seed, then the same one again
                start = time.perf_counter()
                size = len(client.get(f"/api/learn/regression?seed={seed + 1000}").content)
                runs.append(1000 * (time.perf_counter() - start))
        surface.cache_clear()
        return statistics.median(cold), statistics.median(warm), size


def page_ms() -> dict:
    with (
        serve_in_background(create_app(tempfile.mkdtemp())) as url,
        sync_playwright() as playwright,
    ):
        browser = playwright.chromium.launch(executable_path=chromium_path(), args=CHROMIUM_FLAGS)
        page = browser.new_page(viewport={"width": 1280, "height": 900})
        page.goto(f"{url}/learn/descent")
        page.wait_for_function("() => descent.page.walk !== null")
        numbers = page.evaluate(IN_PAGE)
        browser.close()
        return numbers


cold, warm, size = server_ms()
print(f"GET /api/learn/regression: {cold:.2f} ms computed, {warm:.2f} ms cached, {size} bytes")
for name, ms in page_ms().items():
    shown = " ".join(f"{t * 1000:.1f} µs" if t < 0.1 else f"{t:.2f} ms" for t in np.ravel(ms))
    print(f"{name:<40} {shown}")
print("(medians; python benchmarks/lab_descent.py)")
