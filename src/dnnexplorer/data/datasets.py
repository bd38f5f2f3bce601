"""MNIST and Fashion-MNIST as PyTorch `Dataset`s, for your own DataLoader code.

They take torchvision's arguments and behave like torchvision.datasets.MNIST and FashionMNIST
(without importing torchvision, which has no CPU build here):

    >>> from torch.utils.data import DataLoader
    >>> from dnnexplorer.data import MNIST
    >>> train = MNIST("data", train=True, transform=my_transform)
    >>> image, label = train[0]            # a 28x28 PIL image (mode "L") and an int, 5
    >>> loader = DataLoader(train, batch_size=64, shuffle=True)

`root` is searched first, in torchvision's layout (root/MNIST/raw/) or this project's
(root/mnist/ or root itself), then the usual places (DNNX_DATA, the user cache, Debian's shared
datasets). `download=True` fetches missing files into root/mnist/, verified by their checksums.
dnnexplorer's own training does not use these classes: it keeps whole splits as tensors and
slices mini-batches from them (see `load_dataset`), which is many times faster than building one
PIL image per sample.
"""

from __future__ import annotations

import os
from collections.abc import Callable
from pathlib import Path
from typing import Any, ClassVar

import torch
from PIL import Image

from dnnexplorer.data import load_dataset
from dnnexplorer.data.locate import fetch
from dnnexplorer.data.registry import get_dataset
from dnnexplorer.errors import DataError

Transform = Callable[[Any], Any]


class MNIST(torch.utils.data.Dataset):
    """The MNIST digits: `dataset[i]` is (image, label), transformed as asked."""

    name: ClassVar[str] = "mnist"
    torchvision_folder: ClassVar[str] = "MNIST"  # torchvision keeps the files in root/MNIST/raw/
    classes: ClassVar[list[str]] = [
        "0 - zero",
        "1 - one",
        "2 - two",
        "3 - three",
        "4 - four",
        "5 - five",
        "6 - six",
        "7 - seven",
        "8 - eight",
        "9 - nine",
    ]

    def __init__(
        self,
        root: str | os.PathLike[str],
        train: bool = True,
        transform: Transform | None = None,
        target_transform: Transform | None = None,
        download: bool = False,
    ) -> None:
        self.root = Path(root).expanduser()
        self.train = train
        self.transform = transform
        self.target_transform = target_transform
        data = self._load(download)
        self.data: torch.Tensor = data.train_images if train else data.test_images  # (N, 28, 28)
        self.targets: torch.Tensor = data.train_labels if train else data.test_labels  # (N,)
        self.source = data.source  # the folder the files were found in

    def _load(self, download: bool):
        raw = self.root / self.torchvision_folder / "raw"
        data_dir = raw if raw.is_dir() else self.root
        try:
            return load_dataset(self.name, data_dir=data_dir, download=False)
        except DataError:
            if not download:
                raise
        fetch(get_dataset(self.name), dest_root=self.root)  # into root/<name>/, verified
        return load_dataset(self.name, data_dir=self.root, download=False)

    @property
    def class_to_idx(self) -> dict[str, int]:
        return {name: i for i, name in enumerate(self.classes)}

    def __len__(self) -> int:
        return len(self.data)

    def __getitem__(self, index: int) -> tuple[Any, Any]:
        image: Any = Image.fromarray(self.data[index].numpy())  # uint8 (28, 28): mode "L"
        target: Any = int(self.targets[index])
        if self.transform is not None:
            image = self.transform(image)
        if self.target_transform is not None:
            target = self.target_transform(target)
        return image, target

    def __repr__(self) -> str:
        lines = [
            f"Dataset {type(self).__name__}",
            f"    Number of datapoints: {len(self)}",
            f"    Root location: {self.root}",
            f"    Split: {'Train' if self.train else 'Test'}",
        ]
        if self.transform is not None:
            lines.append(f"    Transform: {self.transform!r}")
        if self.target_transform is not None:
            lines.append(f"    Target transform: {self.target_transform!r}")
        return "\n".join(lines)


class FashionMNIST(MNIST):
    """Fashion-MNIST: Zalando's clothing images, in MNIST's format."""

    name: ClassVar[str] = "fashion-mnist"
    torchvision_folder: ClassVar[str] = "FashionMNIST"
    classes: ClassVar[list[str]] = list(get_dataset("fashion-mnist").classes)
