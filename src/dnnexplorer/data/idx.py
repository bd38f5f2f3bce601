"""Reading and writing IDX files, the simple binary format MNIST and Fashion-MNIST ship in.

An IDX file is a 4-byte magic number, one big-endian uint32 size per dimension, then the values
in row-major (C) order (LeCun et al., http://yann.lecun.com/exdb/mnist/):

    byte 0-1   always 0
    byte 2     dtype code: 0x08 uint8, 0x09 int8, 0x0B int16, 0x0C int32, 0x0D float32, 0x0E float64
    byte 3     number of dimensions (1 for labels, 3 for images: count, rows, columns)
    then       ndim sizes, then prod(sizes) values, big-endian

Downloaded files are damaged more often than one would like (a cut connection, a wrong file saved
under the right name), so every field is checked and each problem raises `DataError` naming the
file. Parsing is one `np.frombuffer` call: no Python loop ever touches a pixel.
"""

from __future__ import annotations

import gzip
import os
import struct
import zlib
from pathlib import Path

import numpy as np

from dnnexplorer.errors import DataError
from dnnexplorer.fileio import write_bytes_atomic

# dtype code -> numpy dtype (big-endian, as the format stores multi-byte values)
DTYPES: dict[int, np.dtype] = {
    0x08: np.dtype("u1"),
    0x09: np.dtype("i1"),
    0x0B: np.dtype(">i2"),
    0x0C: np.dtype(">i4"),
    0x0D: np.dtype(">f4"),
    0x0E: np.dtype(">f8"),
}
GZIP_MAGIC = b"\x1f\x8b"
MAX_DIMS = 16  # real files use 1 or 3; a huge count can only be damage


def parse_idx(raw: bytes, source: str) -> np.ndarray:
    """Parse the bytes of an (uncompressed) IDX file into an array; `source` names it in errors.

    The result shares memory with `raw` (read-only) when the values are single bytes.
    """
    if len(raw) < 4:
        raise DataError(f"{source}: not an IDX file: only {len(raw)} bytes, too short for a header")
    zero, code, ndim = struct.unpack_from(">HBB", raw)
    if zero != 0:
        raise DataError(
            f"{source}: not an IDX file: bad magic number 0x{raw[:4].hex()} "
            "(the first two bytes must be zero)"
        )
    if code not in DTYPES:
        known = ", ".join(f"0x{c:02X}" for c in DTYPES)
        raise DataError(f"{source}: unknown IDX dtype code 0x{code:02X} (known: {known})")
    if not 1 <= ndim <= MAX_DIMS:
        raise DataError(
            f"{source}: IDX header declares {ndim} dimensions (expected 1 to {MAX_DIMS})"
        )
    header = 4 + 4 * ndim
    if len(raw) < header:
        raise DataError(f"{source}: truncated IDX header ({len(raw)} bytes, need {header})")
    shape = struct.unpack_from(f">{ndim}I", raw, 4)
    dtype = DTYPES[code]
    expected = dtype.itemsize * _product(shape)  # Python ints: no overflow on absurd sizes
    actual = len(raw) - header
    if actual != expected:
        what = "truncated" if actual < expected else "trailing data"
        raise DataError(
            f"{source}: {what}: header declares shape {shape} of {dtype.name} "
            f"({expected} bytes of values) but the file holds {actual}"
        )
    try:
        return np.frombuffer(raw, dtype=dtype, offset=header).reshape(shape)
    except ValueError as e:  # e.g. a zero-sized array with sizes numpy cannot represent
        raise DataError(f"{source}: IDX shape {shape} cannot be represented: {e}") from None


def _product(sizes: tuple[int, ...]) -> int:
    n = 1
    for s in sizes:
        n *= s
    return n


def decompress_if_gzip(raw: bytes, source: str) -> bytes:
    """Return `raw` gunzipped if it starts with the gzip magic bytes (not judged by file name)."""
    if not raw.startswith(GZIP_MAGIC):
        return raw
    try:
        return gzip.decompress(raw)
    except (OSError, EOFError, zlib.error) as e:
        raise DataError(f"{source}: broken gzip stream ({e or type(e).__name__})") from None


def read_file_bytes(path: str | os.PathLike[str]) -> bytes:
    """Read a whole file; a missing or unreadable file is a DataError naming it."""
    try:
        return Path(path).read_bytes()
    except OSError as e:
        raise DataError(f"{path}: cannot read: {e.strerror or e}") from None


def read_idx(path: str | os.PathLike[str]) -> np.ndarray:
    """Read an IDX file, plain or gzip-compressed (detected by its first bytes)."""
    source = str(path)
    return parse_idx(decompress_if_gzip(read_file_bytes(path), source), source)


def encode_idx(array: np.ndarray) -> bytes:
    """The IDX bytes of `array` (its dtype must be one the format knows)."""
    array = np.asarray(array)
    matches = [
        (code, dtype)
        for code, dtype in DTYPES.items()
        if (array.dtype.kind, array.dtype.itemsize) == (dtype.kind, dtype.itemsize)
    ]
    if not matches:
        raise DataError(f"IDX cannot store dtype {array.dtype}")
    code, dtype = matches[0]
    if not 1 <= array.ndim <= MAX_DIMS:
        raise DataError(f"IDX stores 1 to {MAX_DIMS} dimensions, not {array.ndim}")
    header = struct.pack(f">HBB{array.ndim}I", 0, code, array.ndim, *array.shape)
    return header + np.ascontiguousarray(array, dtype=dtype).tobytes()


def write_idx(path: str | os.PathLike[str], array: np.ndarray, compress: bool = False) -> Path:
    """Write `array` as an IDX file (gzip-compressed if `compress`), atomically."""
    raw = encode_idx(array)
    if compress:
        raw = gzip.compress(raw, compresslevel=6, mtime=0)
    write_bytes_atomic(path, raw)
    return Path(path)


def validate_pair(
    images: np.ndarray,
    labels: np.ndarray,
    num_classes: int,
    images_source: str,
    labels_source: str,
) -> None:
    """Check that images (N, rows, cols) uint8 and labels (N,) in [0, classes) belong together."""
    if images.ndim != 3:
        raise DataError(
            f"{images_source}: images must have 3 dimensions (count, rows, columns), "
            f"got shape {images.shape}"
        )
    if images.dtype != np.uint8:
        raise DataError(f"{images_source}: images must be unsigned bytes, got {images.dtype}")
    if labels.ndim != 1:
        raise DataError(f"{labels_source}: labels must have 1 dimension, got shape {labels.shape}")
    if labels.dtype.kind not in "ui":
        raise DataError(f"{labels_source}: labels must be integers, got {labels.dtype}")
    if len(images) != len(labels):
        raise DataError(
            f"{labels_source}: holds {len(labels)} labels but {images_source} holds "
            f"{len(images)} images"
        )
    if len(labels) and (labels.min() < 0 or labels.max() >= num_classes):
        bad = int(np.flatnonzero((labels < 0) | (labels >= num_classes))[0])
        raise DataError(
            f"{labels_source}: label {int(labels[bad])} at index {bad} is outside the "
            f"{num_classes} classes (0 to {num_classes - 1})"
        )
