"""A tiny, learnable, synthetic dataset so the training engine can be tested in seconds."""

from __future__ import annotations

from pathlib import Path

import pytest
import torch

from dnnexplorer.data import Dataset


def make_tiny_dataset(n_train: int = 512, n_test: int = 256, seed: int = 0) -> Dataset:
    """Class k is a bright 6x6 square at one of ten positions, plus noise: easy to learn."""
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
def tiny_dataset() -> Dataset:
    return make_tiny_dataset()
