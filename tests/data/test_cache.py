"""Loading datasets into tensors, and the parsed-array cache that makes the second load fast."""

from __future__ import annotations

import json
import os
import time
from dataclasses import replace

import numpy as np
import pytest
import torch

from dnnexplorer.data import load_dataset, load_spec
from dnnexplorer.data.cache import ArrayCache
from dnnexplorer.data.locate import user_cache_root
from dnnexplorer.errors import DataError


def _load(spec, folder, env, **kw):
    return load_spec(spec, folder, download=False, env=env, system_root=folder / "none", **kw)


def _entries(env) -> list:
    return sorted((user_cache_root(env) / "parsed").glob("*.npy"))


def test_load_gives_tensors_and_the_second_load_uses_the_cache(tmp_path, env, tiny, write_tiny):
    spec, arrays = tiny
    folder = write_tiny(tmp_path / "src", arrays)
    first = _load(spec, folder, env)
    assert not first.from_cache and first.source == folder
    assert first.train_images.dtype == torch.uint8 and first.train_images.shape == (6, 28, 28)
    assert first.test_labels.dtype == torch.int64 and first.test_labels.shape == (4,)
    assert np.array_equal(first.train_images.numpy(), arrays["train-images-idx3-ubyte"])
    assert len(_entries(env)) == 4
    second = _load(spec, folder, env)
    assert second.from_cache
    for field in ("train_images", "train_labels", "test_images", "test_labels"):
        assert torch.equal(getattr(first, field), getattr(second, field))
    assert (second.classes, second.mean, second.std) == (spec.classes, spec.mean, spec.std)


def test_the_cache_can_be_turned_off(tmp_path, env, tiny, write_tiny):
    spec, arrays = tiny
    folder = write_tiny(tmp_path / "src", arrays)
    _load(spec, folder, env, use_cache=False)
    assert _entries(env) == []


def _corrupt_npy(path):
    raw = bytearray(path.read_bytes())
    raw[-1] ^= 0xFF
    path.write_bytes(bytes(raw))


def _truncate_npy(path):
    path.write_bytes(path.read_bytes()[:-100])


def _garble_sidecar(path):
    path.with_suffix(".json").write_text("{not json")


def _drop_sidecar(path):
    path.with_suffix(".json").unlink()


def _stale_format(path):
    meta_path = path.with_suffix(".json")
    meta = json.loads(meta_path.read_text())
    meta["format"] = 0
    meta_path.write_text(json.dumps(meta))


@pytest.mark.parametrize(
    "damage", [_corrupt_npy, _truncate_npy, _garble_sidecar, _drop_sidecar, _stale_format]
)
def test_a_damaged_cache_entry_is_rebuilt_not_trusted(tmp_path, env, tiny, write_tiny, damage):
    spec, arrays = tiny
    folder = write_tiny(tmp_path / "src", arrays)
    _load(spec, folder, env)
    for entry in _entries(env):
        damage(entry)
    rebuilt = _load(spec, folder, env)
    assert not rebuilt.from_cache
    assert np.array_equal(rebuilt.train_images.numpy(), arrays["train-images-idx3-ubyte"])
    assert np.array_equal(rebuilt.test_labels.numpy(), arrays["t10k-labels-idx1-ubyte"])
    assert _load(spec, folder, env).from_cache


def test_a_changed_source_file_is_parsed_again(tmp_path, env, tiny, write_tiny, other_arrays):
    spec, arrays = tiny
    folder = write_tiny(tmp_path / "src", arrays)
    _load(spec, folder, env)
    write_tiny(folder, other_arrays)  # same names, other content: checked, not served stale
    with pytest.raises(DataError, match="not the tiny file"):
        _load(spec, folder, env)
    assert len(_entries(env)) == 4


def test_entries_of_a_replaced_source_are_pruned(tmp_path, env, tiny, write_tiny):
    spec, arrays = tiny
    folder = write_tiny(tmp_path / "src", arrays)
    _load(spec, folder, env)
    write_tiny(folder, arrays, compress=False)  # same arrays, other bytes: other keys
    for f in spec.files:
        (folder / f.gz_name).unlink()
    assert not _load(spec, folder, env).from_cache
    assert len(_entries(env)) == 4
    assert len(list((user_cache_root(env) / "parsed").glob("*.json"))) == 4


def test_cached_bytes_are_not_trusted_for_another_checksum(tmp_path, env, tiny, write_tiny):
    spec, arrays = tiny
    folder = write_tiny(tmp_path / "src", arrays)
    _load(spec, folder, env)
    labels = spec.file("train", "labels")
    files = tuple(replace(f, md5="0" * 32) if f == labels else f for f in spec.files)
    wrong = replace(spec, files=files)  # the same file names, claiming other checksums
    with pytest.raises(DataError, match="train-labels-idx1-ubyte"):
        _load(wrong, folder, env)


def test_a_read_only_source_folder_works(tmp_path, env, tiny, write_tiny):
    spec, arrays = tiny
    folder = write_tiny(tmp_path / "src", arrays)
    before = sorted(os.listdir(folder))
    folder.chmod(0o555)
    try:
        assert not _load(spec, folder, env).from_cache
        assert _load(spec, folder, env).from_cache
    finally:
        folder.chmod(0o755)
    assert sorted(os.listdir(folder)) == before  # nothing written beside the originals


def test_an_unwritable_cache_does_not_stop_a_load(tmp_path, tiny, write_tiny):
    spec, arrays = tiny
    folder = write_tiny(tmp_path / "src", arrays)
    blocker = tmp_path / "xdg"
    blocker.write_text("a file where the cache folder should be")
    data = _load(spec, folder, {"XDG_CACHE_HOME": str(blocker)})
    assert not data.from_cache and data.train_labels.shape == (6,)
    assert not ArrayCache(blocker / "parsed").put("k", np.zeros(3, np.uint8))


@pytest.mark.parametrize(
    ("file_name", "damage", "words"),
    [
        ("train-images-idx3-ubyte", lambda a: a[:5], "holds 6 labels but"),
        ("t10k-labels-idx1-ubyte", lambda a: a + 3, "outside the 3 classes"),
    ],
)
def test_a_mismatched_pair_names_the_file(
    tmp_path, env, tiny, write_tiny, file_name, damage, words
):
    spec, arrays = tiny
    folder = write_tiny(tmp_path / "src", {**arrays, file_name: damage(arrays[file_name])})
    with pytest.raises(DataError, match=words) as info:
        _load(spec, folder, env)
    assert str(folder) in str(info.value)


@pytest.mark.real_data
def test_real_mnist_loads_and_comes_back_from_the_cache(data_root, monkeypatch, tmp_path):
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "xdg"))
    cold = load_dataset("mnist", data_root, download=False)
    assert not cold.from_cache and cold.source == data_root / "mnist"
    assert cold.train_images.shape == (60000, 28, 28) and cold.test_images.shape == (10000, 28, 28)
    assert cold.train_labels.bincount().tolist()[:2] == [5923, 6742]
    start = time.perf_counter()
    warm = load_dataset("mnist", data_root, download=False)
    seconds = time.perf_counter() - start
    assert warm.from_cache and torch.equal(warm.train_images, cold.train_images)
    assert seconds < 2.0  # ~0.1 s alone; generous for a busy shared machine
