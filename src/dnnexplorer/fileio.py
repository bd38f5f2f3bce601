"""Writing files so that a crash never leaves a half-written file that looks complete.

Every file the project writes (downloads, caches, checkpoints, figures, JSON) goes to a temporary
file in the same folder first and is renamed into place only once it is complete: a rename within
one filesystem is atomic, so readers see either the old file or the new one, never a torn one.
A process killed mid-write leaves only its temporary file (`.NAME.XXXXXXXX.tmp`), which
`remove_leftovers` clears away on the next start.

Two processes writing one folder at once (two runs into one --out, two fetches of a dataset) could
still mix their files, so a writer first takes the folder's lock (`FolderLock`); readers never do.
"""

from __future__ import annotations

import contextlib
import fcntl
import glob
import json
import os
import tempfile
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any


@contextlib.contextmanager
def atomic_path(path: str | os.PathLike[str]) -> Iterator[Path]:
    """Yield a temporary path beside `path`; on success rename it to `path`, else delete it.

    >>> with atomic_path("out.json") as tmp:
    ...     tmp.write_text("{}")
    """
    target = Path(path)
    target.parent.mkdir(parents=True, exist_ok=True)
    fd, name = tempfile.mkstemp(prefix=f".{target.name}.", suffix=".tmp", dir=target.parent)
    os.close(fd)
    tmp = Path(name)
    os.chmod(tmp, 0o666 & ~_umask())  # mkstemp makes files private (0600); use the usual mode
    try:
        yield tmp
        _fsync(tmp)
        os.replace(tmp, target)
    except OSError as e:
        tmp.unlink(missing_ok=True)
        if e.filename in (None, str(tmp)):
            e.filename = str(target)  # a full disk: name the file the user knows, not the temp
        raise
    except BaseException:
        tmp.unlink(missing_ok=True)
        raise


def remove_leftovers(path: str | os.PathLike[str]) -> None:
    """Delete the temporary files that killed writes of `path` left beside it."""
    target = Path(path)
    for tmp in target.parent.glob(f".{glob.escape(target.name)}.*.tmp"):
        tmp.unlink(missing_ok=True)


def _umask() -> int:
    mask = os.umask(0)
    os.umask(mask)
    return mask


def _fsync(path: Path) -> None:
    with open(path, "rb+") as f:
        os.fsync(f.fileno())


def write_bytes_atomic(path: str | os.PathLike[str], data: bytes) -> None:
    """Write `data` to `path` atomically."""
    with atomic_path(path) as tmp:
        tmp.write_bytes(data)


def write_json_atomic(path: str | os.PathLike[str], obj: Any) -> None:
    """Write `obj` as indented JSON to `path` atomically."""
    write_bytes_atomic(path, (json.dumps(obj, indent=2, sort_keys=False) + "\n").encode())


def append_jsonl(path: str | os.PathLike[str], obj: Any) -> None:
    """Append one JSON line to `path` (used for per-epoch metrics), flushed to disk."""
    try:
        with open(path, "a", encoding="utf-8") as f:
            f.write(json.dumps(obj) + "\n")
            f.flush()
            os.fsync(f.fileno())
    except OSError as e:
        e.filename = e.filename or str(path)  # a full disk: say which file
        raise


LOCK_FILE = ".lock"


class FolderLock:
    """An exclusive lock on a folder, so that only one dnnx process writes there at a time.

    It is the operating system's lock (flock) on the file `.lock` inside the folder, which also
    holds the writer's pid for messages. The OS drops the lock when its process ends, even when
    killed, so a crashed writer never leaves a stale lock: a `.lock` file alone locks nothing.
    Readers do not take it, and are never blocked by it.
    """

    def __init__(self, folder: str | os.PathLike[str]) -> None:
        self.folder = Path(folder)
        self.path = self.folder / LOCK_FILE
        self._fd: int | None = None

    def acquire(self, wait: bool = False) -> bool:
        """Take the lock (the folder must exist). If another process holds it: False, or with
        `wait`, block until it is released."""
        while True:
            fd = os.open(self.path, os.O_RDWR | os.O_CREAT, 0o666)
            try:
                fcntl.flock(fd, fcntl.LOCK_EX if wait else fcntl.LOCK_EX | fcntl.LOCK_NB)
            except BlockingIOError:
                os.close(fd)
                return False
            except BaseException:  # e.g. Ctrl-C while waiting
                os.close(fd)
                raise
            if _is_same_file(fd, self.path):
                break
            # The holder removed .lock as it released it, after we opened it: our lock is on a
            # file no one else will ever open, so lock the current one instead.
            os.close(fd)
        os.ftruncate(fd, 0)
        os.write(fd, f"{os.getpid()}\n".encode())
        self._fd = fd
        return True

    def release(self) -> None:
        """Give the lock back (no-op if not held); the lock file goes with it."""
        if self._fd is None:
            return
        self.path.unlink(missing_ok=True)  # while still held, so no one locks the old file
        os.close(self._fd)
        self._fd = None

    def holder(self) -> int | None:
        """The pid of the process holding the lock, as it wrote it (None if unreadable)."""
        try:
            return int(self.path.read_text().strip())
        except (OSError, ValueError):
            return None


def _is_same_file(fd: int, path: Path) -> bool:
    try:
        on_disk = path.stat()
    except FileNotFoundError:
        return False
    held = os.fstat(fd)
    return (held.st_dev, held.st_ino) == (on_disk.st_dev, on_disk.st_ino)


@contextlib.contextmanager
def folder_locked(
    folder: str | os.PathLike[str], on_wait: Callable[[Path, int | None], None] | None = None
) -> Iterator[None]:
    """Hold `folder`'s lock (making the folder if needed), waiting while another process holds
    it; `on_wait(folder, pid)` is called first, so that the caller can say why nothing happens."""
    lock = FolderLock(folder)
    lock.folder.mkdir(parents=True, exist_ok=True)
    if not lock.acquire():
        if on_wait is not None:
            on_wait(lock.folder, lock.holder())
        lock.acquire(wait=True)
    try:
        yield
    finally:
        lock.release()
