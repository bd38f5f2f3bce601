"""Fixtures for the web lab's API tests: trained run folders and clients.

Training here uses the synthetic `squares` dataset (tests/conftest.py), so a run trains in well
under a second; the tests that need real MNIST ask for `data_root`.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from fastapi.testclient import TestClient

from dnnexplorer.data import Dataset
from dnnexplorer.serve import create_app
from dnnexplorer.serve.background import free_port, serve_in_background
from dnnexplorer.serve.catalog import DatasetStore
from dnnexplorer.train import TrainConfig, run_training


@pytest.fixture(scope="session")
def trained_runs(tmp_path_factory: pytest.TempPathFactory, squares: Dataset) -> Path:
    """A runs folder: a softmax run, a small CNN, a ladder-style nested run, a broken one."""
    root = tmp_path_factory.mktemp("runs")
    configs = {
        "softmax-a": TrainConfig(model="softmax", epochs=1),
        "cnn-b": TrainConfig(model="cnn", epochs=1, model_options={"channels": [4], "hidden": 16}),
        "ladder/mlp-mnist": TrainConfig(model="mlp", epochs=1, model_options={"hidden": [16]}),
    }
    for name, config in configs.items():
        run_training(config, out_dir=root / name, dataset=squares)
    (root / "broken").mkdir()
    (root / "broken" / "config.json").write_text("{ not json")
    (root / "not-a-run").mkdir()
    return root


def store_with(dataset: Dataset) -> DatasetStore:
    store = DatasetStore()
    store.put(dataset)
    return store


@pytest.fixture
def store(squares: Dataset) -> DatasetStore:
    """Datasets for the lab: 'mnist' is the synthetic squares."""
    return store_with(squares)


@pytest.fixture
def client(trained_runs: Path, store: DatasetStore) -> Iterator[TestClient]:
    """A test client talking to the lab as the browser does (Host: 127.0.0.1)."""
    app = create_app(trained_runs, datasets=store)
    with TestClient(app, base_url="http://127.0.0.1:8000") as c:
        yield c


@pytest.fixture
def live_port() -> int:
    """A TCP port free on 127.0.0.1 right now."""
    return free_port()


@pytest.fixture(scope="session")
def live_server():
    """`with live_server(app) as base_url:` serves `app` on a real socket for the test."""
    return serve_in_background
