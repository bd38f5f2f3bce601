"""The dataset registry: names, files, checksums, and the statistics checked against real data."""

from __future__ import annotations

import gzip
import hashlib

import numpy as np
import pytest

from dnnexplorer.data.registry import dataset_names, get_dataset
from dnnexplorer.errors import ConfigError


def test_known_names():
    assert dataset_names() == ["mnist", "fashion-mnist"]


def test_unknown_name_lists_the_known_ones():
    with pytest.raises(ConfigError, match=r"unknown dataset 'cifar'.*mnist, fashion-mnist"):
        get_dataset("cifar")


@pytest.mark.parametrize("name", dataset_names())
def test_each_spec_is_complete(name):
    spec = get_dataset(name)
    assert len(spec.classes) == 10
    assert {f.gz_name for f in spec.files} == {
        "train-images-idx3-ubyte.gz",
        "train-labels-idx1-ubyte.gz",
        "t10k-images-idx3-ubyte.gz",
        "t10k-labels-idx1-ubyte.gz",
    }
    assert spec.file("test", "labels").name == "t10k-labels-idx1-ubyte"
    for f in spec.files:
        assert len(f.md5) == 32 and len(f.gz_md5) == 32
    assert spec.mirrors and all(m.endswith("/") for m in spec.mirrors)
    assert 0 < spec.mean < 1 and 0 < spec.std < 1


def test_mnist_has_several_mirrors_and_fashion_its_class_names():
    assert len(get_dataset("mnist").mirrors) >= 2
    fashion = get_dataset("fashion-mnist").classes
    assert fashion[0] == "T-shirt/top" and fashion[9] == "Ankle boot"


@pytest.mark.real_data
@pytest.mark.parametrize("name", dataset_names())
def test_checksums_and_statistics_match_the_real_files(data_root, name):
    spec = get_dataset(name)
    for f in spec.files:
        raw = gzip.decompress((data_root / name / f.gz_name).read_bytes())
        assert hashlib.md5(raw).hexdigest() == f.md5, f.name
    raw = gzip.decompress((data_root / name / spec.file("train", "images").gz_name).read_bytes())
    pixels = np.frombuffer(raw, np.uint8, offset=16) / 255.0
    assert pixels.mean() == pytest.approx(spec.mean, abs=1e-4)
    assert pixels.std() == pytest.approx(spec.std, abs=1e-4)
