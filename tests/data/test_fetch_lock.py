"""Two fetches into one dataset folder: the second waits for the first, so neither deletes the
other's files. Real processes, real MNIST files imported from local folders (no network)."""

from __future__ import annotations

import gzip
import os
import subprocess
import sys
import threading
import time
from pathlib import Path

import pytest

from dnnexplorer.data.locate import fetch, files_in, verify_file
from dnnexplorer.data.registry import get_dataset
from dnnexplorer.errors import DataError
from dnnexplorer.fileio import LOCK_FILE, FolderLock, folder_locked

WAITING = "waiting for another dnnx process fetching into"

# `dnnx ARGS`, with the step where two unlocked fetches collide made slow: between writing one
# variant of a file (.gz or not) and deleting the other one. Two fetches started together then
# reliably meet there (a forced race), as they might by chance on a slow disk.
SLOW_DELETES = """
import pathlib, sys, time
unlink = pathlib.Path.unlink
def slow_unlink(self, missing_ok=False):
    if self.name.startswith("train-images"):
        time.sleep(2)
    unlink(self, missing_ok=missing_ok)
pathlib.Path.unlink = slow_unlink
from dnnexplorer.cli import main
main(sys.argv[1:])
"""


def start_fetch(source: Path, cache: Path, log: Path, forced: bool = False) -> subprocess.Popen:
    """`dnnx data fetch mnist --from SOURCE` into the user cache `cache`, output in `log`."""
    env = {**os.environ, "XDG_CACHE_HOME": str(cache)}
    env.pop("DNNX_DATA", None)
    launch = ["-c", SLOW_DELETES] if forced else ["-m", "dnnexplorer"]
    with open(log, "w") as out:
        return subprocess.Popen(
            [sys.executable, *launch, "data", "fetch", "mnist", "--from", str(source)],
            stdout=out,
            stderr=subprocess.STDOUT,
            env=env,
        )


@pytest.fixture(scope="module")
def sources(data_root, tmp_path_factory) -> tuple[Path, Path]:
    """MNIST twice: gzipped as distributed, and decompressed (the two variants `fetch` keeps
    apart by deleting the other one: the step where two unlocked fetches collide)."""
    gz = data_root / "mnist"
    plain = tmp_path_factory.mktemp("mnist-plain")
    for path in gz.glob("*.gz"):
        (plain / path.stem).write_bytes(gzip.decompress(path.read_bytes()))
    return gz, plain


def assert_complete(folder: Path) -> None:
    spec = get_dataset("mnist")
    found = files_in(spec, folder)
    assert len(found) == len(spec.files), sorted(p.name for p in folder.iterdir())
    for f, path in found.items():
        verify_file(path, f, "mnist")  # raises if damaged: complete, and the real file
    assert not (folder / LOCK_FILE).exists()


def test_two_fetches_racing_into_one_folder_leave_it_complete(sources, tmp_path) -> None:
    cache = tmp_path / "cache"
    logs = [tmp_path / "log-gz", tmp_path / "log-plain"]
    procs = [start_fetch(s, cache, log, forced=True) for s, log in zip(sources, logs, strict=True)]
    for proc, log in zip(procs, logs, strict=True):
        assert proc.wait(timeout=300) == 0, log.read_text()
        assert "4 files verified" in log.read_text()
    assert_complete(cache / "dnnexplorer" / "mnist")  # unlocked, train-images was lost


def test_a_fetch_waits_while_another_process_writes_the_folder(sources, tmp_path) -> None:
    gz, _ = sources
    cache = tmp_path / "cache"
    dest = cache / "dnnexplorer" / "mnist"
    dest.mkdir(parents=True)
    log = tmp_path / "log"
    held = FolderLock(dest)
    assert held.acquire()  # this test process plays the other fetch
    try:
        proc = start_fetch(gz, cache, log)
        deadline = time.time() + 300
        while WAITING not in log.read_text() and proc.poll() is None and time.time() < deadline:
            time.sleep(0.05)
        assert WAITING in log.read_text(), log.read_text()
        assert f"{dest} (pid {os.getpid()})" in log.read_text()
        assert proc.poll() is None and sorted(p.name for p in dest.iterdir()) == [LOCK_FILE]
    finally:
        held.release()
    assert proc.wait(timeout=300) == 0, log.read_text()
    assert "4 files verified" in log.read_text()
    assert_complete(dest)


def test_the_lock_file_is_not_left_behind(tmp_path, env, tiny, write_tiny) -> None:
    spec, arrays = tiny
    folder = fetch(spec, write_tiny(tmp_path / "usb", arrays), env=env)
    assert sorted(p.name for p in folder.iterdir()) == sorted(f.gz_name for f in spec.files)


def test_on_wait_is_told_the_folder_and_the_holder(tmp_path, env, tiny, write_tiny) -> None:
    """In one process too: the lock belongs to an open file, not to the process."""
    spec, arrays = tiny
    dest = tmp_path / "shared"
    usb = write_tiny(tmp_path / "usb", arrays)
    told = []
    with folder_locked(dest / "tiny"):
        worker = threading.Thread(
            target=fetch,
            args=(spec, usb),
            kwargs={"env": env, "dest_root": dest, "on_wait": lambda *a: told.append(a)},
        )
        worker.start()
        while not told and worker.is_alive():
            time.sleep(0.01)
        assert not files_in(spec, dest / "tiny")  # still waiting
    worker.join()
    assert told == [(dest / "tiny", os.getpid())]
    assert len(files_in(spec, dest / "tiny")) == len(spec.files)


def test_a_bad_source_makes_no_folder(tmp_path, env, tiny) -> None:
    spec, _ = tiny
    empty = tmp_path / "empty"
    empty.mkdir()
    with pytest.raises(DataError, match="does not hold all tiny files"):
        fetch(spec, empty, env=env, dest_root=tmp_path / "shared")
    assert not (tmp_path / "shared").exists()
