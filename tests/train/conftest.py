"""The training engine's tests run on the tiny synthetic `squares` data: seconds, not minutes."""

from __future__ import annotations

import pytest

from dnnexplorer.data import Dataset


@pytest.fixture(scope="session")
def tiny_dataset(make_squares) -> Dataset:
    return make_squares(n_train=512, n_test=256)
