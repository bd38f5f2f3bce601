"""Datasets from disk to tensors: `load_dataset("mnist")` is the one entry point.

The path a learner can follow: `locate` finds the four IDX files (or downloads them), `idx`
parses each into a NumPy array and checks that images and labels belong together, the MD5 of the
decompressed bytes proves they are the real dataset, and `cache` keeps the parsed arrays so the
next load skips decompression. The result holds whole splits as tensors: MNIST is small enough
(47 MB of uint8 pixels) to live in memory, so mini-batches are slices, not per-sample loads.
"""

from __future__ import annotations

import os
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import torch

from dnnexplorer.data.cache import ArrayCache, source_key
from dnnexplorer.data.idx import decompress_if_gzip, parse_idx, read_file_bytes, validate_pair
from dnnexplorer.data.locate import (
    SYSTEM_ROOT,
    Located,
    OnWait,
    Progress,
    check_md5,
    find_or_download,
    user_cache_root,
)
from dnnexplorer.data.registry import Augmentation, DatasetSpec, dataset_names, get_dataset

__all__ = [
    "MNIST",
    "Dataset",
    "DatasetSpec",
    "FashionMNIST",
    "dataset_names",
    "get_dataset",
    "load_dataset",
    "load_spec",
]


@dataclass(frozen=True)
class Dataset:
    """A dataset's training and test splits as tensors, with what is needed to describe them."""

    name: str
    classes: tuple[str, ...]
    mean: float  # training-set pixel mean on the [0, 1] scale
    std: float  # training-set pixel standard deviation on the [0, 1] scale
    train_images: torch.Tensor  # (60000, 28, 28) uint8
    train_labels: torch.Tensor  # (60000,) int64
    test_images: torch.Tensor  # (10000, 28, 28) uint8
    test_labels: torch.Tensor  # (10000,) int64
    source: Path  # the folder the files were found in
    from_cache: bool  # parsed arrays came from the cache
    augmentation: Augmentation = field(default_factory=Augmentation)  # changes keeping classes


def load_dataset(
    name: str,
    data_dir: str | Path | None = None,
    download: bool = True,
    progress: Progress | None = None,
    *,
    mirrors: Sequence[str] | None = None,
    use_cache: bool = True,
    on_wait: OnWait | None = None,
) -> Dataset:
    """Load dataset `name` ("mnist", "fashion-mnist"), finding or downloading its files.

    `data_dir` is searched first (see `locate`); `download=False` turns a missing dataset into a
    DataError instead of a download; `progress(file, done, total)` is called while downloading;
    `on_wait(folder, pid)` before waiting for another process downloading into the same folder.
    """
    spec = get_dataset(name)
    return load_spec(
        spec, data_dir, download, progress, mirrors=mirrors, use_cache=use_cache, on_wait=on_wait
    )


def load_spec(
    spec: DatasetSpec,
    data_dir: str | os.PathLike[str] | None = None,
    download: bool = True,
    progress: Progress | None = None,
    *,
    mirrors: Sequence[str] | None = None,
    use_cache: bool = True,
    env: Mapping[str, str] | None = None,
    system_root: str | os.PathLike[str] = SYSTEM_ROOT,
    on_wait: OnWait | None = None,
) -> Dataset:
    """`load_dataset` for any spec (tests use tiny ones); `env` replaces os.environ."""
    located = find_or_download(
        spec, data_dir, download, mirrors, progress, env, system_root, on_wait
    )
    cache = ArrayCache(user_cache_root(env) / "parsed") if use_cache else None
    arrays, from_cache = _load_arrays(spec, located, cache)
    images = {s: arrays[spec.file(s, "images").name] for s in ("train", "test")}
    labels = {s: arrays[spec.file(s, "labels").name] for s in ("train", "test")}
    return Dataset(
        name=spec.name,
        classes=spec.classes,
        mean=spec.mean,
        std=spec.std,
        train_images=_tensor(images["train"]),
        train_labels=torch.from_numpy(labels["train"].astype(np.int64)),
        test_images=_tensor(images["test"]),
        test_labels=torch.from_numpy(labels["test"].astype(np.int64)),
        source=located.folder,
        from_cache=from_cache,
        augmentation=spec.augmentation,
    )


def _tensor(array: np.ndarray) -> torch.Tensor:
    # torch.from_numpy shares memory; an array viewing immutable bytes must be copied first
    return torch.from_numpy(array if array.flags.writeable else array.copy())


def _load_arrays(
    spec: DatasetSpec, located: Located, cache: ArrayCache | None
) -> tuple[dict[str, np.ndarray], bool]:
    """Parse (or take from the cache) each file; verify the pairs, then the checksums."""
    arrays: dict[str, np.ndarray] = {}
    parsed = []  # files parsed now: (file, path, cache key, decompressed bytes)
    for f, path in located.paths.items():
        raw = read_file_bytes(path)
        key = f"{spec.name}.{f.name}.{source_key(raw)}"
        # only an entry verified against this file's checksum is trusted
        array = cache.get(key, f.md5) if cache is not None else None
        if array is None:
            data = decompress_if_gzip(raw, str(path))
            array = parse_idx(data, str(path))
            parsed.append((f, path, key, data))
        arrays[f.name] = array
    for split in ("train", "test"):
        fi, fl = spec.file(split, "images"), spec.file(split, "labels")
        validate_pair(
            arrays[fi.name],
            arrays[fl.name],
            len(spec.classes),
            str(located.paths[fi]),
            str(located.paths[fl]),
        )
    # Structure first (precise messages), then the checksum proves it is the real dataset.
    for f, path, _key, data in parsed:
        check_md5(data, f, spec.name, str(path))
    if cache is not None:
        for f, _path, key, _data in parsed:
            if cache.put(key, arrays[f.name], f.md5):
                cache.prune(f"{spec.name}.{f.name}.", keep=key)
    return arrays, not parsed


# torchvision-style Datasets for users' own DataLoader code (they build on load_dataset above)
from dnnexplorer.data.datasets import MNIST, FashionMNIST  # noqa: E402
