"""IDX reading and writing: round trips, every kind of damage, and random bytes (hypothesis)."""

from __future__ import annotations

import contextlib
import gzip
import struct

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from dnnexplorer.data.idx import encode_idx, parse_idx, read_idx, validate_pair, write_idx
from dnnexplorer.errors import DataError


def _images(n: int = 5) -> np.ndarray:
    return np.arange(n * 28 * 28, dtype=np.uint8).reshape(n, 28, 28)


@pytest.mark.parametrize("compress", [False, True])
@pytest.mark.parametrize(
    "array",
    [
        _images(),
        np.array([0, 9, 3], dtype=np.uint8),
        np.array([[-1, 2]], dtype=np.int8),
        np.array([1, -300], dtype=np.int16),
        np.array([[1 << 20]], dtype=np.int32),
        np.array([0.5, -2.0], dtype=np.float32),
        np.array([1e300], dtype=np.float64),
    ],
)
def test_write_then_read_gives_back_the_array(tmp_path, array, compress):
    path = write_idx(tmp_path / "x", array, compress=compress)
    assert path.read_bytes()[:2] == (b"\x1f\x8b" if compress else b"\x00\x00")
    back = read_idx(path)
    assert back.shape == array.shape
    np.testing.assert_array_equal(back, array)


def test_gzip_is_detected_by_content_not_by_name(tmp_path):
    plain = write_idx(tmp_path / "labels.gz", np.array([1, 2], np.uint8), compress=False)
    packed = write_idx(tmp_path / "labels", np.array([1, 2], np.uint8), compress=True)
    np.testing.assert_array_equal(read_idx(plain), read_idx(packed))


def test_header_layout_matches_the_mnist_files():
    raw = encode_idx(_images(2))
    assert raw[:4] == b"\x00\x00\x08\x03"
    assert struct.unpack(">3I", raw[4:16]) == (2, 28, 28)
    assert len(raw) == 16 + 2 * 28 * 28


def _raises(raw: bytes, *words: str) -> str:
    with pytest.raises(DataError) as info:
        parse_idx(raw, "some/file")
    message = str(info.value)
    assert message.startswith("some/file: ")
    for word in words:
        assert word in message
    return message


def test_damage_is_reported_with_the_file_and_what_is_wrong():
    good = encode_idx(_images(3))
    _raises(good[:3], "too short")
    _raises(b"\x08\x03" + good[2:], "magic")
    _raises(good[:2] + b"\x07" + good[3:], "dtype code 0x07")
    _raises(good[:3] + b"\x00" + good[4:], "0 dimensions")
    _raises(good[:3] + b"\x05" + good[4:], "truncated")  # declares 5 dims: header or data short
    _raises(good[:10], "truncated IDX header")
    _raises(good[:-1], "truncated", "(3, 28, 28)")
    _raises(good + b"\x00", "trailing data")


def test_absurd_declared_sizes_do_not_allocate():
    raw = struct.pack(">HBB4I", 0, 0x0C, 4, 2**32 - 1, 2**32 - 1, 2**32 - 1, 2**32 - 1)
    _raises(raw, "truncated")


def test_broken_gzip_stream_is_a_data_error(tmp_path):
    packed = gzip.compress(encode_idx(_images(2)))
    path = tmp_path / "train-images-idx3-ubyte.gz"
    for damaged in (packed[: len(packed) // 2], packed[:-4] + b"\x00\x00\x00\x00"):
        path.write_bytes(damaged)
        with pytest.raises(DataError, match=r"train-images-idx3-ubyte\.gz"):
            read_idx(path)


def test_missing_file_is_a_data_error(tmp_path):
    with pytest.raises(DataError, match="nothing-here"):
        read_idx(tmp_path / "nothing-here")


def test_validate_pair_accepts_a_real_pair():
    validate_pair(_images(3), np.array([0, 9, 4], np.uint8), 10, "img", "lab")


@pytest.mark.parametrize(
    ("images", "labels", "words"),
    [
        (_images(3), np.array([0, 1], np.uint8), ["lab: holds 2 labels", "img holds 3 images"]),
        (_images(2), np.array([0, 10], np.uint8), ["lab: label 10 at index 1", "10 classes"]),
        (_images(2), np.array([0, -1], np.int8), ["lab: label -1 at index 1"]),
        (_images(2).reshape(2, -1), np.array([0, 1], np.uint8), ["img: images must have 3"]),
        (_images(2), np.array([[0, 1]], np.uint8), ["lab: labels must have 1"]),
        (_images(2).astype(np.float32), np.array([0, 1], np.uint8), ["img: images must be"]),
        (_images(2), np.array([0.0, 1.0], np.float32), ["lab: labels must be integers"]),
    ],
)
def test_validate_pair_names_what_does_not_fit(images, labels, words):
    with pytest.raises(DataError) as info:
        validate_pair(images, labels, 10, "img", "lab")
    for word in words:
        assert word in str(info.value)


def _mutate(raw: bytes, data: st.DataObject) -> bytes:
    """Flip, cut, insert or overwrite a few bytes: the damage real files suffer."""
    raw = bytearray(raw)
    for _ in range(data.draw(st.integers(1, 4))):
        op = data.draw(st.sampled_from(["flip", "cut", "insert", "set"]))
        i = data.draw(st.integers(0, max(0, len(raw) - 1)))
        if op == "flip" and raw:
            raw[i] ^= 1 << data.draw(st.integers(0, 7))
        elif op == "cut":
            del raw[i:]
        elif op == "insert":
            raw[i:i] = data.draw(st.binary(min_size=1, max_size=8))
        elif raw:
            raw[i] = data.draw(st.integers(0, 255))
    return bytes(raw)


SEEDS = [
    encode_idx(np.arange(12, dtype=np.uint8).reshape(2, 2, 3)),
    encode_idx(np.array([3, 1, 4], np.uint8)),
    encode_idx(np.array([1.5, 2.5], np.float32)),
]


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(raw=st.binary(max_size=64))
def test_random_bytes_only_ever_raise_data_error(raw):
    with contextlib.suppress(DataError):
        parse_idx(raw, "random")


@settings(max_examples=300, deadline=None)
@given(data=st.data(), seed=st.sampled_from(SEEDS), compress=st.booleans())
def test_mutated_files_only_ever_raise_data_error(tmp_path_factory, data, seed, compress):
    raw = _mutate(gzip.compress(seed) if compress else seed, data)
    path = tmp_path_factory.mktemp("mutated") / "file"
    path.write_bytes(raw)
    try:
        array = read_idx(path)
    except DataError:
        return
    # whatever parses is self-consistent: header sizes match the values read
    assert array.size * array.itemsize == len(encode_idx(array)) - 4 - 4 * array.ndim
