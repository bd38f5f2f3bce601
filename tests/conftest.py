"""Shared fixtures: an isolated user cache, and the real datasets from DNNX_DATA.

Tests that need real MNIST/Fashion-MNIST ask for the `data_root` fixture. On a user's machine
without the data they are skipped with the reason; under CI (CI=true) a missing dataset is a
failure, so CI can never pass by skipping.
"""

from __future__ import annotations

import os
from pathlib import Path

import pytest


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
        return Path(env)
    reason = f"real dataset '{name}' not found: set DNNX_DATA to a folder holding {name}/"
    if os.environ.get("CI") == "true":
        pytest.fail(f"{reason} (under CI a missing dataset is a failure, not a skip)")
    pytest.skip(reason)


@pytest.fixture(scope="session")
def data_root() -> Path:
    """The folder that DNNX_DATA names, holding mnist/ and fashion-mnist/."""
    _require_real_data("mnist")
    return _require_real_data("fashion-mnist")
