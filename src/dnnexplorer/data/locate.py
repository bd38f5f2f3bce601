"""Finding a dataset's files on disk, and downloading or importing them into the user cache.

Look-up order, first folder holding all four files wins:
  1. the explicit `data_dir` (CLI flag `--data-dir DIR`): DIR/<name>/ or DIR itself;
  2. the environment variable DNNX_DATA: $DNNX_DATA/<name>/;
  3. the user cache: ${XDG_CACHE_HOME:-~/.cache}/dnnexplorer/<name>/;
  4. Debian's shared datasets: /usr/share/datasets/<name>/ (apt install dataset-fashion-mnist).
Each file may be gzip-compressed (`train-images-idx3-ubyte.gz`) or not (`train-images-idx3-ubyte`).

If none holds them, the files are downloaded into the user cache: streamed to a temporary file,
verified by the MD5 of its decompressed bytes, and only then renamed into place, so an interrupted
download never leaves a file that looks complete. Whatever writes a dataset folder (a download, a
`fetch`) holds the folder's lock (fileio.FolderLock): a second one waits for the first to finish,
then finds the files there, so two fetches never delete each other's files. Environment variables
are read only here, at the edge; everything else receives folders as arguments.
"""

from __future__ import annotations

import hashlib
import http.client
import os
import shutil
import urllib.error
import urllib.request
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path

from dnnexplorer.data.idx import decompress_if_gzip, parse_idx, read_file_bytes
from dnnexplorer.data.registry import DataFile, DatasetSpec
from dnnexplorer.errors import DataError
from dnnexplorer.fileio import atomic_path, folder_locked

SYSTEM_ROOT = Path("/usr/share/datasets")
DEFAULT_TIMEOUT = 15.0  # seconds per network operation: fail fast when offline
CHUNK = 1 << 20

# progress(file_name, bytes_done, bytes_total or None): called while a download streams
Progress = Callable[[str, int, "int | None"], None]
# on_wait(folder, pid or None): called before waiting for another process writing `folder`
OnWait = Callable[[Path, "int | None"], None]


@dataclass(frozen=True)
class Located:
    """A folder holding all of a dataset's files, and why it was searched."""

    folder: Path
    origin: str  # "--data-dir", "DNNX_DATA", "user cache" or "system"
    paths: dict[DataFile, Path]


def user_cache_root(env: Mapping[str, str] | None = None) -> Path:
    """dnnexplorer's folder in the user cache: ${XDG_CACHE_HOME:-~/.cache}/dnnexplorer."""
    env = os.environ if env is None else env
    base = env.get("XDG_CACHE_HOME") or str(Path.home() / ".cache")
    return Path(base) / "dnnexplorer"


def search_places(
    name: str,
    data_dir: str | os.PathLike[str] | None = None,
    env: Mapping[str, str] | None = None,
    system_root: str | os.PathLike[str] = SYSTEM_ROOT,
) -> list[tuple[Path, str]]:
    """The folders searched for dataset `name`, in order, each with its origin."""
    env = os.environ if env is None else env
    places: list[tuple[Path, str]] = []
    if data_dir is not None:
        places += [(Path(data_dir) / name, "--data-dir"), (Path(data_dir), "--data-dir")]
    if env.get("DNNX_DATA"):
        places.append((Path(env["DNNX_DATA"]) / name, "DNNX_DATA"))
    places.append((user_cache_root(env) / name, "user cache"))
    places.append((Path(system_root) / name, "system"))
    return places


def files_in(spec: DatasetSpec, folder: Path) -> dict[DataFile, Path]:
    """The files of `spec` present in `folder` (the .gz preferred over the plain file)."""
    found = {}
    for f in spec.files:
        for candidate in (folder / f.gz_name, folder / f.name):
            if candidate.is_file():
                found[f] = candidate
                break
    return found


def locate(
    spec: DatasetSpec,
    data_dir: str | os.PathLike[str] | None = None,
    env: Mapping[str, str] | None = None,
    system_root: str | os.PathLike[str] = SYSTEM_ROOT,
) -> Located | None:
    """The first searched folder holding all of `spec`'s files, or None."""
    for folder, origin in search_places(spec.name, data_dir, env, system_root):
        paths = files_in(spec, folder)
        if len(paths) == len(spec.files):
            return Located(folder, origin, paths)
    return None


def verify_file(path: Path, f: DataFile, dataset: str) -> None:
    """Raise DataError naming `path` unless it parses and its decompressed MD5 is `f.md5`."""
    source = str(path)
    raw = decompress_if_gzip(read_file_bytes(path), source)
    parse_idx(raw, source)  # a precise message (truncated, bad magic...) before the checksum
    check_md5(raw, f, dataset, source)


def check_md5(raw: bytes, f: DataFile, dataset: str, source: str) -> None:
    """Raise DataError unless the decompressed bytes `raw` are the canonical file `f`."""
    digest = hashlib.md5(raw).hexdigest()
    if digest != f.md5:
        raise DataError(
            f"{source}: not the {dataset} file {f.name}: the MD5 of its decompressed bytes is "
            f"{digest}, expected {f.md5} (damaged, or another dataset's file)"
        )


def how_to_supply(
    spec: DatasetSpec, missing: Sequence[DataFile], env: Mapping[str, str] | None = None
) -> str:
    """The message for missing files: which ones, and the three ways to supply them."""
    names = ", ".join(f.gz_name for f in missing)
    cache = user_cache_root(env) / spec.name
    return (
        f"{spec.name}: missing {names}. Supply them in one of three ways: "
        f"run `dnnx data fetch {spec.name}` on a machine with internet and copy its {cache}/ "
        "to the same place here "
        f"(or import a copy with `dnnx data fetch {spec.name} --from DIR`); "
        f"pass `--data-dir DIR` (DIR holding the files or {spec.name}/); "
        f"or set DNNX_DATA to a folder holding {spec.name}/"
    )


def download_file(
    f: DataFile,
    dataset: str,
    folder: Path,
    mirrors: Sequence[str],
    progress: Progress | None = None,
    timeout: float = DEFAULT_TIMEOUT,
) -> Path:
    """Download `f` into `folder` from the first mirror that serves a verified copy."""
    target = folder / f.gz_name
    problems = []
    for base in mirrors:
        url = base.rstrip("/") + "/" + f.gz_name
        try:
            with (
                urllib.request.urlopen(url, timeout=timeout) as response,
                atomic_path(target) as tmp,
            ):
                _stream(response, tmp, f.gz_name, progress)
                verify_file(tmp, f, dataset)  # raises: the temp file is deleted, nothing kept
            return target
        except DataError as e:
            problems.append(f"{url}: {str(e).split(': ', 1)[-1]}")
        except (OSError, http.client.HTTPException, ValueError) as e:
            problems.append(f"{url}: {getattr(e, 'reason', None) or e}")
    raise DataError("; ".join(problems) or "no mirrors to download from")


def _stream(response, tmp: Path, name: str, progress: Progress | None) -> None:
    length = response.headers.get("Content-Length")
    total = int(length) if length and length.isdigit() else None
    done = 0
    with open(tmp, "wb") as out:
        while chunk := response.read(CHUNK):
            out.write(chunk)
            done += len(chunk)
            if progress is not None:
                progress(name, done, total)


def download_missing(
    spec: DatasetSpec,
    folder: Path,
    mirrors: Sequence[str] | None = None,
    progress: Progress | None = None,
    timeout: float = DEFAULT_TIMEOUT,
    env: Mapping[str, str] | None = None,
) -> dict[DataFile, Path]:
    """Download the files of `spec` not yet in `folder`; the error says how to supply them."""
    mirrors = spec.mirrors if mirrors is None else tuple(mirrors)
    present = files_in(spec, folder)
    missing = [f for f in spec.files if f not in present]
    for i, f in enumerate(missing):
        try:
            present[f] = download_file(f, spec.name, folder, mirrors, progress, timeout)
        except DataError as e:
            raise DataError(
                f"{how_to_supply(spec, missing[i:], env)}. Download failed: {e}"
            ) from None
    return present


def find_or_download(
    spec: DatasetSpec,
    data_dir: str | os.PathLike[str] | None = None,
    download: bool = True,
    mirrors: Sequence[str] | None = None,
    progress: Progress | None = None,
    env: Mapping[str, str] | None = None,
    system_root: str | os.PathLike[str] = SYSTEM_ROOT,
    on_wait: OnWait | None = None,
) -> Located:
    """Locate `spec`'s files; if no folder holds them all, download them into the user cache."""
    found = locate(spec, data_dir, env, system_root)
    if found is not None:
        return found
    folder = user_cache_root(env) / spec.name
    if not download:
        missing = [f for f in spec.files if f not in files_in(spec, folder)]
        raise DataError(f"{how_to_supply(spec, missing, env)} (downloading is switched off)")
    with folder_locked(folder, on_wait):  # files another process downloaded meanwhile are kept
        paths = download_missing(spec, folder, mirrors, progress, env=env)
    return Located(folder, "user cache", paths)


def fetch(
    spec: DatasetSpec,
    source_dir: str | os.PathLike[str] | None = None,
    mirrors: Sequence[str] | None = None,
    progress: Progress | None = None,
    env: Mapping[str, str] | None = None,
    timeout: float = DEFAULT_TIMEOUT,
    dest_root: str | os.PathLike[str] | None = None,
    on_wait: OnWait | None = None,
) -> Path:
    """Put verified copies of `spec`'s files into the user cache and return that folder.

    From `source_dir` (holding the files or <name>/) if given, else by download. Files already
    in the cache are verified; a damaged one is replaced. `dest_root` replaces the user cache,
    e.g. a shared folder that DNNX_DATA will name on a cluster's compute nodes. While another
    process writes the same folder, waits for it (after calling `on_wait`).
    """
    dest = (Path(dest_root) if dest_root is not None else user_cache_root(env)) / spec.name
    source = _source_folder(spec, Path(source_dir)) if source_dir is not None else None
    with folder_locked(dest, on_wait):
        _fetch_into(dest, spec, source, mirrors, progress, env, timeout)
    return dest


def _fetch_into(
    dest: Path,
    spec: DatasetSpec,
    source: Path | None,
    mirrors: Sequence[str] | None,
    progress: Progress | None,
    env: Mapping[str, str] | None,
    timeout: float,
) -> None:
    for f, path in files_in(spec, dest).items():
        try:
            verify_file(path, f, spec.name)
        except DataError:
            path.unlink()
    if source is None:
        download_missing(spec, dest, mirrors, progress, timeout, env)
        return
    for f, path in files_in(spec, source).items():
        verify_file(path, f, spec.name)
        target = dest / path.name
        if path.resolve() != target.resolve():
            with atomic_path(target) as tmp:
                shutil.copyfile(path, tmp)
        for other in (dest / f.gz_name, dest / f.name):  # the other variant would shadow it
            if other != target:
                other.unlink(missing_ok=True)


def _source_folder(spec: DatasetSpec, source: Path) -> Path:
    for folder in (source / spec.name, source):
        found = files_in(spec, folder)
        if len(found) == len(spec.files):
            return folder
    names = ", ".join(f.gz_name for f in spec.files if f not in files_in(spec, source))
    raise DataError(f"{source}: does not hold all {spec.name} files (missing: {names})")
