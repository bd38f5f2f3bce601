"""`dnnexplorer.data.MNIST` / `FashionMNIST`: torchvision's Dataset signature and behaviour, for
users' own DataLoader code, found in torchvision's layout or ours, downloaded when asked."""

from __future__ import annotations

import dataclasses
import shutil
from pathlib import Path

import numpy as np
import pytest
import torch
from PIL import Image
from torch.utils.data import DataLoader

from dnnexplorer.data import MNIST, FashionMNIST, load_dataset
from dnnexplorer.data import datasets as datasets_module
from dnnexplorer.data.registry import get_dataset
from dnnexplorer.errors import DataError


def to_tensor(image: Image.Image) -> torch.Tensor:
    """torchvision's ToTensor for a grayscale image: (1, 28, 28) floats in [0, 1]."""
    return torch.from_numpy(np.array(image)).unsqueeze(0).float() / 255


@pytest.fixture
def no_other_data(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    """Only `root` can hold the data: no DNNX_DATA, an empty user cache."""
    monkeypatch.delenv("DNNX_DATA", raising=False)
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "empty-cache"))


def test_items_are_pil_images_and_int_labels_like_torchvision(data_root: Path) -> None:
    train, test = MNIST(data_root), MNIST(data_root, train=False)
    assert (len(train), len(test)) == (60000, 10000)
    image, label = train[0]
    assert isinstance(image, Image.Image) and image.mode == "L" and image.size == (28, 28)
    assert label == 5 and isinstance(label, int)  # MNIST's first training digit is a 5
    reference = load_dataset("mnist", data_dir=data_root)
    assert np.array_equal(np.array(test[9999][0]), reference.test_images[9999].numpy())
    assert torch.equal(train.targets, reference.train_labels) and train.data.dtype == torch.uint8
    assert train.classes[3] == "3 - three" and train.class_to_idx["9 - nine"] == 9
    assert "Split: Test" in repr(test) and "Number of datapoints: 10000" in repr(test)


def test_transforms_and_a_dataloader(data_root: Path) -> None:
    fashion = FashionMNIST(
        data_root, train=False, transform=to_tensor, target_transform=lambda y: y * 10
    )
    assert fashion.classes[9] == "Ankle boot"
    images, labels = next(iter(DataLoader(fashion, batch_size=64, shuffle=False)))
    assert images.shape == (64, 1, 28, 28) and images.dtype == torch.float32
    assert images.min() >= 0.0 and images.max() <= 1.0
    assert torch.equal(labels, fashion.targets[:64] * 10)


def test_torchvision_layout_under_root_is_found(
    data_root: Path, tmp_path: Path, no_other_data: None
) -> None:
    raw = tmp_path / "MNIST" / "raw"  # where torchvision.datasets.MNIST keeps the files
    shutil.copytree(data_root / "mnist", raw)
    assert MNIST(tmp_path).source == raw


def test_missing_data_without_download_is_a_data_error(tmp_path: Path, no_other_data: None):
    with pytest.raises(DataError, match="mnist: missing"):
        MNIST(tmp_path / "nothing-here")


def test_download_true_fetches_verified_files_into_root(
    data_root: Path, tmp_path: Path, no_other_data: None, mirror, monkeypatch
) -> None:
    """download=True fetches from the dataset's mirrors (here a local one serving the real files)
    into root/mnist/; the checksums are verified as for `dnnx data fetch`."""
    for path in (data_root / "mnist").glob("*.gz"):
        mirror.files[path.name] = path.read_bytes()
    spec = dataclasses.replace(get_dataset("mnist"), mirrors=(mirror.url,))
    monkeypatch.setattr(datasets_module, "get_dataset", lambda name: spec)
    monkeypatch.setattr("dnnexplorer.data.get_dataset", lambda name: spec)
    root = tmp_path / "root"
    test = MNIST(root, train=False, download=True)
    assert len(test) == 10000 and test.source == root / "mnist"
    assert sorted(p.name for p in (root / "mnist").glob("*.gz")) == sorted(mirror.files)
    assert len(mirror.requests) == 4
