"""A cache of parsed arrays, so that loading a dataset the second time takes a fraction of a second.

Decompressing MNIST's gzip files costs most of a cold load. Once a file has been decompressed,
parsed and verified, its array is saved as a `.npy` file in the user cache folder (never beside
the originals, which may be read-only or shared), keyed by the MD5 of the source file's bytes:
a changed source gets a new key, so an entry can never describe the wrong file.

Each entry is two files: `<key>.npy` (the array) and `<key>.json` (its shape, dtype, size and a
CRC-32 of its bytes). An entry is used only if everything matches; a stale, truncated or corrupt
entry is treated as missing and rebuilt, never trusted. CRC-32 guards against accidents (a torn
write, a flipped bit), not attackers, and is fast enough to check on every load.
"""

from __future__ import annotations

import hashlib
import json
import zlib
from pathlib import Path

import numpy as np

from dnnexplorer.fileio import atomic_path, write_json_atomic

FORMAT = 1  # bump when the entry layout changes: old entries are then ignored and rebuilt


def source_key(raw: bytes) -> str:
    """The cache key of a source file: the MD5 of its bytes as stored (compressed or not)."""
    return hashlib.md5(raw).hexdigest()


def _crc32(array: np.ndarray) -> int:
    return zlib.crc32(memoryview(np.ascontiguousarray(array)).cast("B"))


class ArrayCache:
    """Parsed arrays stored in `folder`, looked up by the key of their source file."""

    def __init__(self, folder: str | Path) -> None:
        self.folder = Path(folder)

    def _paths(self, key: str) -> tuple[Path, Path]:
        return self.folder / f"{key}.npy", self.folder / f"{key}.json"

    def get(self, key: str, source_md5: str = "") -> np.ndarray | None:
        """The cached array for `key`, or None if absent or not exactly as recorded.

        With `source_md5`, the entry must also have been verified against that checksum.
        """
        npy, meta_path = self._paths(key)
        try:
            meta = json.loads(meta_path.read_text())
            if meta.get("format") != FORMAT or npy.stat().st_size != meta["npy_bytes"]:
                return None
            if source_md5 and meta.get("source_md5") != source_md5:
                return None
            array = np.load(npy, allow_pickle=False)
            ok = (
                list(array.shape) == meta["shape"]
                and array.dtype.str == meta["dtype"]
                and _crc32(array) == meta["crc32"]
            )
        except (OSError, ValueError, KeyError, TypeError, AttributeError, EOFError):
            return None  # unreadable, truncated or garbled: rebuild
        return array if ok else None

    def put(self, key: str, array: np.ndarray, source_md5: str = "") -> bool:
        """Store `array` under `key`; returns False (and leaves no entry) if it cannot be written.

        A read-only or full cache folder must not stop a load, so write errors are swallowed.
        """
        npy, meta_path = self._paths(key)
        try:
            meta_path.unlink(missing_ok=True)  # an entry without its sidecar is never used
            with atomic_path(npy) as tmp, open(tmp, "wb") as f:
                np.save(f, array, allow_pickle=False)
            meta = {
                "format": FORMAT,
                "shape": list(array.shape),
                "dtype": array.dtype.str,
                "crc32": _crc32(array),
                "npy_bytes": npy.stat().st_size,
                "source_md5": source_md5,  # MD5 of the decompressed bytes it was parsed from
            }
            write_json_atomic(meta_path, meta)
        except OSError:
            return False
        return True

    def prune(self, prefix: str, keep: str) -> None:
        """Delete entries whose key starts with `prefix`, except `keep` (a replaced source's)."""
        for path in self.folder.glob(f"{prefix}*"):
            if path.stem != keep and path.suffix in (".npy", ".json"):
                path.unlink(missing_ok=True)
