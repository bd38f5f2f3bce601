"""How fast does "Inside a CNN" (/learn/inside) refresh every layer while a learner draws?

Target (issue 12): drawing a digit refreshes the prediction and every layer's view in under
100 ms on a 2-core CPU. Measured per model (cnn, lenet5 classic and modern, best), medians:

1. server: one POST /api/runs/NAME/activations of a 280x280 drawing (the page sends it as PGM):
   the time inside the server (preprocessing as `dnnx predict`, forward pass with hooks,
   encoding), the part of it after preprocessing (forward), the HTTP round trip over localhost,
   and the answer's size;
2. browser: from the end of a mouse stroke on the page's pad to every layer drawn (the page's
   own clock: `inside.timing.lastMs`, measured after the next animation frame), in the system
   Chromium driven by Playwright;
3. encodings: the same answer as base64 float32 (what the lab sends) and as JSON lists rounded to
   7 significant digits: bytes, server encoding time, browser parse + decode time.

The models are freshly built (untrained) run folders in a temporary folder: the time does not
depend on the weights. `--runs DIR` measures the run folders there instead.

    DNNX_DATA=/path/to/data OMP_NUM_THREADS=1 python benchmarks/lab_layers.py
    python benchmarks/lab_layers.py --calls 100 --strokes 30 --runs runs

Measure on an idle machine (`uptime`): the load average is printed with the results.
"""

from __future__ import annotations

import argparse
import base64
import json
import os
import statistics
import sys
import tempfile
import time
import urllib.request
from pathlib import Path

import numpy as np
from PIL import Image, ImageDraw

from dnnexplorer.models import create_model
from dnnexplorer.predict import load_image_bytes, to_mnist
from dnnexplorer.serve import create_app
from dnnexplorer.serve.background import serve_in_background
from dnnexplorer.serve.catalog import DatasetStore, RunCatalog
from dnnexplorer.serve.layers import activations, activations_for_upload
from dnnexplorer.train import TrainConfig
from dnnexplorer.train.checkpoint import save_weights
from dnnexplorer.train.runs import RunFolder

MODELS = {  # run name -> (model, options)
    "cnn": ("cnn", {}),
    "lenet5-classic": ("lenet5", {"variant": "classic"}),
    "lenet5-modern": ("lenet5", {"variant": "modern"}),
    "best": ("best", {}),
}
CHROMIUM = os.environ.get("DNNX_CHROMIUM", "/usr/bin/chromium")


def fresh_runs(root: Path) -> list[str]:
    """Run folders holding freshly built models (config.json + model.safetensors)."""
    for name, (model, options) in MODELS.items():
        run = RunFolder.create(root / name)
        run.write_config(TrainConfig(model=model, model_options=options))
        save_weights(create_model(model, **options), run.weights_path)
    return list(MODELS)


def drawing_pgm() -> bytes:
    """A '7' drawn on a 280x280 white pad with an 18-pixel pen, as the page sends it (PGM)."""
    image = Image.new("L", (280, 280), 255)
    ImageDraw.Draw(image).line([(60, 60), (220, 60), (120, 240)], fill=0, width=18)
    return b"P5\n280 280\n255\n" + np.asarray(image).tobytes()


def median_ms(function, calls: int) -> float:
    function()  # warm up: the model is loaded once
    times = []
    for _ in range(calls):
        start = time.perf_counter()
        function()
        times.append(time.perf_counter() - start)
    return 1000 * statistics.median(times)


def post(url: str, body: bytes) -> bytes:
    request = urllib.request.Request(url, data=body, method="POST")
    with urllib.request.urlopen(request) as answer:
        return answer.read()


def as_lists(answer: dict) -> dict:
    """The same answer with every base64 array as a JSON list rounded to 7 significant digits."""
    lists = dict(answer, steps=[dict(s) for s in answer["steps"]])
    for step in lists["steps"]:
        if step["data"] is not None:
            values = np.frombuffer(base64.b64decode(step["data"]), dtype="<f4")
            step["data"] = [float(f"{v:.7g}") for v in values]
    return lists


def server_side(url: str, catalog: RunCatalog, names: list[str], calls: int) -> dict:
    body = drawing_pgm()
    pixels = to_mnist(load_image_bytes(body, "the drawing"))  # (28, 28), as the server prepares it
    results = {}
    for name in names:
        inside = median_ms(lambda n=name: activations_for_upload(catalog, n, body), calls)
        model = catalog.model(name)
        forward = median_ms(lambda m=model: activations(m, pixels), calls)
        route = f"{url}/api/runs/{name}/activations"
        http = median_ms(lambda r=route: post(r, body), calls)
        answer = json.loads(post(route, body))
        lists = as_lists(answer)
        results[name] = {
            "server_ms": inside,
            "forward_ms": forward,
            "http_ms": http,
            "bytes_base64": len(json.dumps(answer)),
            "bytes_lists": len(json.dumps(lists)),
            "encode_base64_ms": median_ms(lambda a=answer: json.dumps(a), calls),
            "encode_lists_ms": median_ms(lambda a=lists: json.dumps(a), calls),
            "texts": (json.dumps(answer), json.dumps(lists)),
        }
    return results


DECODE_BOTH = """([b64, lists]) => {
  const time = (f) => { const t = []; for (let n = 0; n < 20; n++) { const s = performance.now();
    f(); t.push(performance.now() - s); } t.sort((a, b) => a - b); return t[10]; };
  return {
    base64: time(() => JSON.parse(b64).steps.forEach((s) => s.data && insideSums.decode(s.data))),
    lists: time(() => JSON.parse(lists).steps.forEach((s) => s.data && Float32Array.from(s.data))),
  };
}"""


def stroke(page, k: int) -> None:
    """One mouse stroke on the pad: a slanted line, a little different each time."""
    box = page.locator("#pad").bounding_box()
    x0, y0 = box["x"] + 60 + 7 * (k % 20), box["y"] + 50
    page.mouse.move(x0, y0)
    page.mouse.down()
    for step in range(1, 9):
        page.mouse.move(x0 + 6 * step, y0 + 22 * step, steps=2)
    page.mouse.up()


def browser_side(url: str, names: list[str], strokes: int, server: dict) -> dict:
    from playwright.sync_api import sync_playwright

    results = {}
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=CHROMIUM, args=["--headless"])
        page = browser.new_page(viewport={"width": 1280, "height": 900})
        for name in names:
            page.goto(f"{url}/learn/inside?run={name}")
            page.wait_for_function("() => window.inside && inside.model")
            times = []
            for k in range(strokes + 1):
                if k % 4 == 0:
                    page.click("#clear")
                page.evaluate("() => { inside.timing.lastMs = null; }")
                stroke(page, k)
                page.wait_for_function("() => inside.timing.lastMs !== null")
                times.append(page.evaluate("() => inside.timing.lastMs"))
            decode = page.evaluate(DECODE_BOTH, list(server[name].pop("texts")))
            results[name] = {"stroke_to_drawn_ms": statistics.median(times[1:]), **decode}
        browser.close()
    return results


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=Path, help="measure the run folders there (default: fresh)")
    parser.add_argument("--calls", type=int, default=50, help="API calls per model (default 50)")
    parser.add_argument("--strokes", type=int, default=20, help="strokes per model (default 20)")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as scratch:
        root = args.runs or Path(scratch)
        names = [n for n in MODELS if (root / n).is_dir()] if args.runs else fresh_runs(root)
        app = create_app(root)
        catalog = RunCatalog(root, DatasetStore())
        with serve_in_background(app) as url:
            server = server_side(url, catalog, names, args.calls)
            browser = browser_side(url, names, args.strokes, server)
    report(names, server, browser, args)


def report(names: list[str], server: dict, browser: dict, args: argparse.Namespace) -> None:
    threads = os.environ.get("OMP_NUM_THREADS", "(unset)")
    print(f"command: OMP_NUM_THREADS={threads} python {' '.join(sys.argv)}")
    load = ", ".join(f"{x:.2f}" for x in os.getloadavg())
    print(f"{os.cpu_count()} CPUs, load average {load}")
    print(f"medians of {args.calls} API calls and {args.strokes} strokes per model")
    print(
        "model            server ms (forward)  HTTP ms  stroke->drawn ms"
        "  answer kB (lists)  decode ms b64 (lists)"
    )
    for name in names:
        s, b = server[name], browser[name]
        print(
            f"{name:16} {s['server_ms']:9.1f} ({s['forward_ms']:5.1f}) {s['http_ms']:8.1f}"
            f" {b['stroke_to_drawn_ms']:17.1f}"
            f"  {s['bytes_base64'] / 1000:8.0f} ({s['bytes_lists'] / 1000:5.0f})"
            f"  {b['base64']:9.2f} ({b['lists']:.2f})"
        )
    print("server JSON encoding ms, base64 (lists):")
    for name in names:
        b64, lists = server[name]["encode_base64_ms"], server[name]["encode_lists_ms"]
        print(f"  {name}: {b64:.2f} ({lists:.2f})")


if __name__ == "__main__":
    main()
