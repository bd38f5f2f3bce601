"""Finding datasets in the searched folders, downloading from a local mirror, importing them."""

from __future__ import annotations

import gzip

import pytest

from dnnexplorer.data.idx import encode_idx
from dnnexplorer.data.locate import (
    fetch,
    files_in,
    find_or_download,
    locate,
    search_places,
    user_cache_root,
)
from dnnexplorer.errors import DataError


def test_search_order(tmp_path, env):
    env = {**env, "DNNX_DATA": str(tmp_path / "shared")}
    places = search_places("tiny", tmp_path / "given", env, system_root=tmp_path / "sys")
    assert places == [
        (tmp_path / "given" / "tiny", "--data-dir"),
        (tmp_path / "given", "--data-dir"),
        (tmp_path / "shared" / "tiny", "DNNX_DATA"),
        (tmp_path / "xdg" / "dnnexplorer" / "tiny", "user cache"),
        (tmp_path / "sys" / "tiny", "system"),
    ]


def test_user_cache_defaults_to_home(monkeypatch, tmp_path):
    monkeypatch.setenv("HOME", str(tmp_path))
    assert user_cache_root({}) == tmp_path / ".cache" / "dnnexplorer"


def test_first_complete_folder_wins(tmp_path, env, tiny, write_tiny):
    spec, arrays = tiny
    env = {**env, "DNNX_DATA": str(tmp_path / "shared")}
    system = tmp_path / "sys"
    kw = {"env": env, "system_root": system}
    assert locate(spec, **kw) is None
    write_tiny(system / "tiny", arrays)
    assert locate(spec, **kw).origin == "system"
    write_tiny(user_cache_root(env) / "tiny", arrays)
    assert locate(spec, **kw).origin == "user cache"
    write_tiny(tmp_path / "shared" / "tiny", arrays)
    assert locate(spec, **kw).origin == "DNNX_DATA"
    write_tiny(tmp_path / "flat", arrays, compress=False)  # the four files directly
    found = locate(spec, tmp_path / "flat", **kw)
    assert (found.origin, found.folder) == ("--data-dir", tmp_path / "flat")
    assert all(p.suffix != ".gz" for p in found.paths.values())


def test_a_folder_missing_one_file_is_skipped(tmp_path, env, tiny, write_tiny):
    spec, arrays = tiny
    folder = write_tiny(tmp_path / "given", arrays)
    (folder / "t10k-labels-idx1-ubyte.gz").unlink()
    assert len(files_in(spec, folder)) == 3
    assert locate(spec, folder, env, system_root=tmp_path / "sys") is None


def _download(spec, env, tmp_path, **kw):
    return find_or_download(spec, env=env, system_root=tmp_path / "sys", **kw)


def test_download_streams_verifies_and_reports_progress(tmp_path, env, tiny, mirror):
    spec, arrays = tiny
    mirror.serve(arrays, level=1)  # a recompressed copy: checked by its decompressed bytes
    calls = []
    found = _download(
        spec, env, tmp_path, mirrors=[mirror.url], progress=lambda *a: calls.append(a)
    )
    assert found.origin == "user cache" and found.folder == user_cache_root(env) / "tiny"
    assert sorted(p.name for p in found.folder.iterdir()) == sorted(f.gz_name for f in spec.files)
    for f, path in found.paths.items():
        assert gzip.decompress(path.read_bytes()) == encode_idx(arrays[f.name])
    name, done, total = calls[-1]
    assert done == total == len(mirror.files[name])
    assert locate(spec, env=env, system_root=tmp_path / "sys").origin == "user cache"


def test_mirrors_are_tried_in_order(tmp_path, env, tiny, mirror, closed_port_url):
    spec, arrays = tiny
    mirror.serve(arrays)
    found = _download(spec, env, tmp_path, mirrors=[closed_port_url, mirror.url])
    assert len(found.paths) == 4


def test_a_mirror_that_404s_is_skipped(tmp_path, env, tiny, mirror):
    spec, arrays = tiny
    mirror.serve(arrays)
    mirror.files.pop("train-labels-idx1-ubyte.gz")
    second = type(mirror)()  # a second local mirror holding everything
    try:
        second.serve(arrays)
        found = _download(spec, env, tmp_path, mirrors=[mirror.url, second.url])
    finally:
        second.close()
    assert len(found.paths) == 4
    assert any(r.endswith("train-labels-idx1-ubyte.gz") for r in second.requests)


def _cache_is_clean(env) -> bool:
    folder = user_cache_root(env) / "tiny"
    return not folder.exists() or not any(folder.iterdir())


def test_a_wrong_file_is_not_kept(tmp_path, env, tiny, mirror, other_arrays):
    spec, _ = tiny
    mirror.serve(other_arrays)  # valid IDX files, but not the ones the spec names
    with pytest.raises(DataError) as info:
        _download(spec, env, tmp_path, mirrors=[mirror.url])
    message = str(info.value)
    assert "not the tiny file" in message and mirror.url in message
    assert _cache_is_clean(env)


def test_a_cut_download_is_not_kept(tmp_path, env, tiny, mirror):
    spec, arrays = tiny
    mirror.serve(arrays)
    mirror.cut.add("train-images-idx3-ubyte.gz")
    with pytest.raises(DataError, match=r"train-images-idx3-ubyte\.gz"):
        _download(spec, env, tmp_path, mirrors=[mirror.url])
    assert not (user_cache_root(env) / "tiny" / "train-images-idx3-ubyte.gz").exists()
    assert not list((user_cache_root(env) / "tiny").glob(".*.tmp"))


def test_no_network_says_what_is_missing_and_the_three_ways(tmp_path, env, tiny, closed_port_url):
    spec, _ = tiny
    with pytest.raises(DataError) as info:
        _download(spec, env, tmp_path, mirrors=[closed_port_url])
    message = str(info.value)
    for f in spec.files:
        assert f.gz_name in message
    assert "dnnx data fetch tiny" in message and "--data-dir" in message and "DNNX_DATA" in message
    assert "\n" not in message
    assert _cache_is_clean(env)


def test_download_can_be_switched_off(tmp_path, env, tiny, mirror):
    spec, arrays = tiny
    mirror.serve(arrays)
    with pytest.raises(DataError, match="switched off"):
        _download(spec, env, tmp_path, download=False, mirrors=[mirror.url])
    assert mirror.requests == []


def test_fetch_downloads_into_the_cache(env, tiny, mirror):
    spec, arrays = tiny
    mirror.serve(arrays)
    folder = fetch(spec, mirrors=[mirror.url], env=env)
    assert len(files_in(spec, folder)) == 4
    mirror.requests.clear()
    fetch(spec, mirrors=[mirror.url], env=env)  # already there and verified: nothing to do
    assert mirror.requests == []


def test_fetch_to_a_shared_folder_that_dnnx_data_then_names(tmp_path, env, tiny, write_tiny):
    spec, arrays = tiny
    write_tiny(tmp_path / "usb" / "tiny", arrays)
    shared = tmp_path / "shared"
    folder = fetch(spec, tmp_path / "usb", env=env, dest_root=shared)
    assert folder == shared / "tiny"
    assert not (user_cache_root(env) / "tiny").exists()
    found = locate(spec, None, {**env, "DNNX_DATA": str(shared)}, system_root=tmp_path / "sys")
    assert found.origin == "DNNX_DATA"


def test_fetch_imports_from_a_folder_and_replaces_damaged_copies(tmp_path, env, tiny, write_tiny):
    spec, arrays = tiny
    source = write_tiny(tmp_path / "usb" / "tiny", arrays)
    dest = user_cache_root(env) / "tiny"
    dest.mkdir(parents=True)
    (dest / "train-images-idx3-ubyte").write_bytes(b"junk")  # would shadow nothing, but is bad
    folder = fetch(spec, tmp_path / "usb", env=env)
    assert folder == dest
    assert sorted(p.name for p in dest.iterdir()) == sorted(f.gz_name for f in spec.files)
    for f in spec.files:
        assert (dest / f.gz_name).read_bytes() == (source / f.gz_name).read_bytes()


def test_fetch_from_a_folder_with_a_damaged_file_names_it(tmp_path, env, tiny, write_tiny):
    spec, arrays = tiny
    source = write_tiny(tmp_path / "usb", arrays)
    bad = source / "t10k-images-idx3-ubyte.gz"
    bad.write_bytes(bad.read_bytes()[:-10])
    with pytest.raises(DataError, match=str(bad)):
        fetch(spec, source, env=env)


def test_fetch_from_an_incomplete_folder_lists_what_is_missing(tmp_path, env, tiny, write_tiny):
    spec, arrays = tiny
    source = write_tiny(tmp_path / "usb", arrays)
    (source / "train-labels-idx1-ubyte.gz").unlink()
    with pytest.raises(DataError, match=r"missing: train-labels-idx1-ubyte\.gz"):
        fetch(spec, source, env=env)
