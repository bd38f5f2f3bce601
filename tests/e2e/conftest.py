"""Browser tests: the lab in a real headless Chromium, driven by Playwright for Python.

The browser is the system's Chromium (Debian packages `chromium` and `chromium-driver`),
launched by its path; Playwright never downloads one. Without it the tests are skipped on a
user's machine and fail under CI. Every page is checked for console errors.
"""

from __future__ import annotations

import dataclasses
import os
import shutil
from collections.abc import Iterator
from pathlib import Path

import pytest
from playwright.sync_api import sync_playwright

from dnnexplorer.data import load_dataset
from dnnexplorer.serve import create_app
from dnnexplorer.serve.background import serve_in_background
from dnnexplorer.serve.catalog import DatasetStore
from dnnexplorer.train import TrainConfig, run_training

CHROMIUM_FLAGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--host-resolver-rules=MAP ondemand.test 127.0.0.1",  # the proxy test's portal name
]
DRAW_MODEL = "mlp-draw"  # the model the Draw tests use: recognises hand-drawn digits
CNN_MODEL = "cnn-small"  # a convolutional model: the Draw page shows its feature maps


def chromium_path() -> str:
    for candidate in (os.environ.get("DNNX_CHROMIUM"), "/usr/bin/chromium", "chromium"):
        found = candidate and shutil.which(candidate)
        if found:
            return found
    reason = "no system Chromium (apt install chromium chromium-driver, or set DNNX_CHROMIUM)"
    if os.environ.get("CI") == "true":
        pytest.fail(reason)
    pytest.skip(reason)


@pytest.fixture(scope="session")
def mnist(data_root: Path):
    return load_dataset("mnist", data_root)


@pytest.fixture(scope="session")
def lab_runs(tmp_path_factory: pytest.TempPathFactory, mnist) -> Path:
    """A runs folder: an MLP trained for one epoch on real MNIST (~96%), good at drawn digits,
    a small CNN trained briefly, to see feature maps, and LeNet-5 (classic) trained as briefly
    (~87%, a few seconds), to see every layer of a deeper CNN."""
    runs = tmp_path_factory.mktemp("lab-runs")
    run_training(TrainConfig(model="mlp", epochs=1), out_dir=runs / DRAW_MODEL, dataset=mnist)
    part = dataclasses.replace(
        mnist, train_images=mnist.train_images[:6000], train_labels=mnist.train_labels[:6000]
    )
    cnn = TrainConfig(model="cnn", epochs=1, model_options={"channels": [8], "hidden": 32})
    run_training(cnn, out_dir=runs / CNN_MODEL, dataset=part)
    run_training(TrainConfig(model="lenet5", epochs=1), out_dir=runs / "lenet5-small", dataset=part)
    return runs


@pytest.fixture(scope="session")
def lab_url(lab_runs: Path, mnist) -> Iterator[str]:
    """The lab, served by uvicorn on a thread at a free port of 127.0.0.1."""
    store = DatasetStore()
    store.put(mnist)
    app = create_app(lab_runs, datasets=store)
    with serve_in_background(app) as url:
        yield url


@pytest.fixture(scope="session")
def browser() -> Iterator:
    path = chromium_path()
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=path, args=CHROMIUM_FLAGS)
        yield browser
        browser.close()


@pytest.fixture
def console_errors() -> list[str]:
    """Errors the test's pages logged; a test expecting one removes it from the list."""
    return []


@pytest.fixture
def context(browser, console_errors: list[str]) -> Iterator:
    """A fresh browser profile; at the end, the test fails if any page logged an error."""
    context = browser.new_context(viewport={"width": 1280, "height": 900})
    context.set_default_timeout(30_000)
    context.on("console", lambda m: console_errors.append(m.text) if m.type == "error" else None)
    context.on("weberror", lambda e: console_errors.append(f"uncaught: {e.error}"))
    yield context
    context.close()
    assert console_errors == [], f"console errors: {console_errors}"


@pytest.fixture
def page(context):
    """A fresh tab."""
    return context.new_page()
