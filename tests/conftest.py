"""Shared fixtures: an isolated user cache, the real datasets from DNNX_DATA, synthetic data.

Tests that need real MNIST/Fashion-MNIST ask for the `data_root` fixture. On a user's machine
without the data they are skipped with the reason; under CI (CI=true) a missing dataset is a
failure, so CI can never pass by skipping.
"""

from __future__ import annotations

import os
from pathlib import Path

import pytest
import torch

from dnnexplorer.data import Dataset


@pytest.fixture(autouse=True, scope="session")
def _isolated_cache(tmp_path_factory: pytest.TempPathFactory) -> None:
    """Point the user cache (XDG_CACHE_HOME) at a temporary folder for the whole session."""
    cache = tmp_path_factory.mktemp("xdg-cache")
    old = os.environ.get("XDG_CACHE_HOME")
    os.environ["XDG_CACHE_HOME"] = str(cache)
    yield
    if old is None:
        os.environ.pop("XDG_CACHE_HOME", None)
    else:
        os.environ["XDG_CACHE_HOME"] = old


def _require_real_data(name: str) -> Path:
    env = os.environ.get("DNNX_DATA")
    folder = Path(env) / name if env else None
    if folder is not None and folder.is_dir() and any(folder.iterdir()):
        return Path(env).resolve()  # absolute: subprocesses and kernels run elsewhere
    reason = f"real dataset '{name}' not found: set DNNX_DATA to a folder holding {name}/"
    if os.environ.get("CI") == "true":
        pytest.fail(f"{reason} (under CI a missing dataset is a failure, not a skip)")
    pytest.skip(reason)


@pytest.fixture(scope="session")
def data_root() -> Path:
    """The folder that DNNX_DATA names, holding mnist/ and fashion-mnist/."""
    _require_real_data("mnist")
    return _require_real_data("fashion-mnist")


def squares_dataset(n_train: int = 640, n_test: int = 256, seed: int = 0) -> Dataset:
    """An 'mnist' whose class k is a bright 6x6 square at one of ten places, on noise."""
    g = torch.Generator().manual_seed(seed)

    def split(n: int) -> tuple[torch.Tensor, torch.Tensor]:
        labels = torch.randint(0, 10, (n,), generator=g)
        images = torch.randint(0, 60, (n, 28, 28), generator=g, dtype=torch.uint8)
        for k in range(10):
            row, col = 3 + 6 * (k // 4), 3 + 6 * (k % 4)
            images[labels == k, row : row + 6, col : col + 6] = 255
        return images, labels

    train_x, train_y = split(n_train)
    test_x, test_y = split(n_test)
    return Dataset(
        name="mnist",
        classes=tuple(str(i) for i in range(10)),
        mean=0.1307,
        std=0.3081,
        train_images=train_x,
        train_labels=train_y,
        test_images=test_x,
        test_labels=test_y,
        source=Path("synthetic"),
        from_cache=False,
    )


@pytest.fixture(scope="session")
def make_squares():
    """`make_squares(n_train=..., n_test=...)` builds another squares dataset."""
    return squares_dataset


@pytest.fixture(scope="session")
def squares() -> Dataset:
    return squares_dataset()
