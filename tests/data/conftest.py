"""Tiny generated datasets and a local HTTP mirror, so finding and downloading run for real.

The mirror listens on 127.0.0.1 only: no test ever contacts another machine.
"""

from __future__ import annotations

import gzip
import hashlib
import http.server
import socket
import threading
from collections.abc import Iterator
from pathlib import Path

import numpy as np
import pytest

from dnnexplorer.data.idx import encode_idx
from dnnexplorer.data.registry import DataFile, DatasetSpec

TINY_CLASSES = ("zero", "one", "two")


def tiny_arrays(n_train: int = 6, n_test: int = 4, seed: int = 0) -> dict[str, np.ndarray]:
    """Random 28x28 uint8 images and labels in [0, 3), by file name."""
    rng = np.random.default_rng(seed)
    out = {}
    for stem, n in (("train", n_train), ("t10k", n_test)):
        out[f"{stem}-images-idx3-ubyte"] = rng.integers(0, 256, (n, 28, 28), dtype=np.uint8)
        out[f"{stem}-labels-idx1-ubyte"] = rng.integers(0, 3, n, dtype=np.uint8)
    return out


def tiny_spec(arrays: dict[str, np.ndarray], name: str = "tiny", mirrors=()) -> DatasetSpec:
    """A spec whose checksums are those of `arrays` encoded as IDX."""
    files = []
    for split, stem in (("train", "train"), ("test", "t10k")):
        for kind, idx in (("images", "idx3"), ("labels", "idx1")):
            file_name = f"{stem}-{kind}-{idx}-ubyte"
            md5 = hashlib.md5(encode_idx(arrays[file_name])).hexdigest()
            files.append(DataFile(split, kind, file_name, md5))
    return DatasetSpec(
        name, "Tiny test data", TINY_CLASSES, tuple(files), tuple(mirrors), 0.5, 0.29
    )


def write_tiny_files(folder: Path, arrays: dict[str, np.ndarray], compress: bool = True) -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    for file_name, array in arrays.items():
        raw = encode_idx(array)
        if compress:
            (folder / f"{file_name}.gz").write_bytes(gzip.compress(raw, mtime=0))
        else:
            (folder / file_name).write_bytes(raw)
    return folder


@pytest.fixture
def tiny(tmp_path: Path) -> tuple[DatasetSpec, dict[str, np.ndarray]]:
    arrays = tiny_arrays()
    return tiny_spec(arrays), arrays


@pytest.fixture
def write_tiny():
    """The function writing a tiny dataset's files into a folder (gzip unless compress=False)."""
    return write_tiny_files


@pytest.fixture
def other_arrays() -> dict[str, np.ndarray]:
    """Valid tiny arrays that are not the ones the `tiny` spec names."""
    return tiny_arrays(seed=1)


@pytest.fixture
def env(tmp_path: Path) -> dict[str, str]:
    """An environment with a private user cache and no DNNX_DATA."""
    return {"XDG_CACHE_HOME": str(tmp_path / "xdg")}


class Mirror:
    """Serves `files` (name -> bytes) over HTTP on 127.0.0.1; names in `cut` stop half-way."""

    def __init__(self) -> None:
        self.files: dict[str, bytes] = {}
        self.cut: set[str] = set()
        self.requests: list[str] = []
        mirror = self

        class Handler(http.server.BaseHTTPRequestHandler):
            def do_GET(self) -> None:
                name = self.path.rsplit("/", 1)[-1]
                mirror.requests.append(self.path)
                body = mirror.files.get(name)
                if body is None:
                    self.send_error(404)
                    return
                self.send_response(200)
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body[: len(body) // 2] if name in mirror.cut else body)

            def log_message(self, *args) -> None:  # keep test output clean
                pass

        self.server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}/data/"
        self.thread = threading.Thread(target=self.server.serve_forever, args=(0.05,), daemon=True)
        self.thread.start()

    def serve(self, arrays: dict[str, np.ndarray], level: int = 9) -> None:
        for file_name, array in arrays.items():
            self.files[f"{file_name}.gz"] = gzip.compress(encode_idx(array), level, mtime=0)

    def close(self) -> None:
        self.server.shutdown()
        self.server.server_close()


@pytest.fixture
def mirror() -> Iterator[Mirror]:
    m = Mirror()
    yield m
    m.close()


@pytest.fixture
def closed_port_url() -> str:
    """A loopback URL where nothing listens: connecting fails at once, like having no network."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    return f"http://127.0.0.1:{port}/"
