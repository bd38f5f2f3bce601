"""`dnnx data ...` end to end: real datasets, damaged files, and no network."""

from __future__ import annotations

import gzip
import os
import socket
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

from dnnexplorer.cli import main
from dnnexplorer.data.idx import write_idx

MNIST_TRAIN_COUNTS = [5923, 6742, 5958, 6131, 5842, 5421, 5918, 6265, 5851, 5949]


def run_dnnx(*args: str, env: dict[str, str] | None = None) -> subprocess.CompletedProcess:
    """`python -m dnnexplorer ARGS` in a fresh process, as a user would run it."""
    return subprocess.run(
        [sys.executable, "-m", "dnnexplorer", *args],
        capture_output=True,
        text=True,
        env={**os.environ, **(env or {})},
        timeout=120,
    )


def dnnx(capsys, *args: str) -> tuple[int, str, str]:
    """Run `dnnx ARGS` in this process; return (exit status, stdout, stderr)."""
    with pytest.raises(SystemExit) as info:
        main(list(args))
    out, err = capsys.readouterr()
    return info.value.code, out, err


def write_mnist_like(folder: Path, n_train: int = 5, n_test: int = 3, **replace) -> Path:
    """Four small files under MNIST's names; `replace` swaps one file's array."""
    rng = np.random.default_rng(0)
    arrays = {
        "train-images-idx3-ubyte": rng.integers(0, 256, (n_train, 28, 28), dtype=np.uint8),
        "train-labels-idx1-ubyte": rng.integers(0, 10, n_train, dtype=np.uint8),
        "t10k-images-idx3-ubyte": rng.integers(0, 256, (n_test, 28, 28), dtype=np.uint8),
        "t10k-labels-idx1-ubyte": rng.integers(0, 10, n_test, dtype=np.uint8),
    }
    for name, array in arrays.items():
        array = replace.get(name.replace("-", "_"), array)
        write_idx(folder / f"{name}.gz", array, compress=True)
    return folder


@pytest.mark.real_data
def test_info_reports_sizes_and_class_counts(data_root):
    result = run_dnnx("data", "info", "mnist", env={"DNNX_DATA": str(data_root)})
    assert result.returncode == 0, result.stderr
    assert "train: 60000 images, test: 10000 images" in result.stdout
    assert f"files: {data_root / 'mnist'}" in result.stdout
    rows = [line.split("│") for line in result.stdout.splitlines() if line.count("│") == 5]
    assert [int(r[3]) for r in rows] == MNIST_TRAIN_COUNTS
    assert "train pixel mean 0.1307, std 0.3081" in result.stdout


@pytest.mark.real_data
def test_info_fashion_names_its_classes(data_root, capsys, monkeypatch):
    monkeypatch.setenv("DNNX_DATA", str(data_root))
    code, out, _ = dnnx(capsys, "data", "info", "fashion-mnist")
    assert code == 0
    assert "train: 60000 images, test: 10000 images" in out
    for cls in ("T-shirt/top", "Ankle boot"):
        assert cls in out
    assert out.count("6000 ") == 10 and out.count("1000 ") == 10
    code, out, _ = dnnx(capsys, "data", "info", "fashion-mnist")
    assert "parsed arrays: from the cache" in out


def _bad_files(tmp_path: Path) -> dict[str, tuple[Path, Path]]:
    """Each kind of damage, as (the --data-dir folder, the file the message must name)."""
    out_of_range = np.zeros(5, np.uint8)
    out_of_range[2] = 12
    cases = {}
    folder = write_mnist_like(tmp_path / "truncated")
    bad = folder / "train-images-idx3-ubyte.gz"
    bad.write_bytes(gzip.decompress(bad.read_bytes())[:-7])  # plain IDX, seven bytes short
    cases["truncated"] = (folder, bad)
    folder = write_mnist_like(tmp_path / "magic")
    bad = folder / "t10k-images-idx3-ubyte.gz"
    bad.write_bytes(b"\x08\x08" + gzip.decompress(bad.read_bytes())[2:])
    cases["wrong magic"] = (folder, bad)
    folder = write_mnist_like(tmp_path / "range", train_labels_idx1_ubyte=out_of_range)
    cases["label out of range"] = (folder, folder / "train-labels-idx1-ubyte.gz")
    folder = write_mnist_like(tmp_path / "count", t10k_labels_idx1_ubyte=np.zeros(4, np.uint8))
    cases["count mismatch"] = (folder, folder / "t10k-labels-idx1-ubyte.gz")
    return cases


def test_damaged_files_get_one_line_naming_the_file(tmp_path, capsys):
    expected = {
        "truncated": "truncated",
        "wrong magic": "bad magic number",
        "label out of range": "label 12 at index 2",
        "count mismatch": "holds 4 labels",
    }
    for case, (folder, bad) in _bad_files(tmp_path).items():
        code, _, err = dnnx(capsys, "data", "info", "mnist", "--data-dir", str(folder))
        assert code == 2, case
        assert err.count("\n") == 1 and err.startswith("dnnx: error: "), err
        assert str(bad) in err and expected[case] in err, err
        assert "Traceback" not in err


def test_a_well_formed_but_wrong_file_is_caught_by_its_checksum(tmp_path, capsys):
    folder = write_mnist_like(tmp_path / "fake")
    code, _, err = dnnx(capsys, "data", "info", "mnist", "--data-dir", str(folder))
    assert code == 2 and "not the mnist file" in err and str(folder) in err


def test_damage_through_a_real_process(tmp_path):
    folder, bad = _bad_files(tmp_path)["wrong magic"]
    result = run_dnnx("data", "show", "mnist", "--data-dir", str(folder), "--out", "x.png")
    assert result.returncode == 2
    assert result.stderr.strip().count("\n") == 0 and str(bad) in result.stderr
    assert "Traceback" not in result.stderr


@pytest.fixture
def offline(tmp_path, monkeypatch) -> dict[str, str]:
    """No data anywhere, and every mirror a closed port on 127.0.0.1 (like having no network)."""
    if Path("/usr/share/datasets/mnist").exists():
        pytest.skip("this machine has MNIST in /usr/share/datasets")
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    env = {"DNNX_MIRROR": f"http://127.0.0.1:{port}/", "XDG_CACHE_HOME": str(tmp_path / "xdg")}
    for key, value in env.items():
        monkeypatch.setenv(key, value)
    monkeypatch.delenv("DNNX_DATA", raising=False)
    return env


def test_no_data_and_no_network_gives_the_three_ways(tmp_path, offline):
    empty = tmp_path / "empty"
    empty.mkdir()
    result = run_dnnx("data", "info", "mnist", "--data-dir", str(empty))
    assert result.returncode == 2
    err = result.stderr.strip()
    assert "\n" not in err and "Traceback" not in err
    assert "missing train-images-idx3-ubyte.gz, train-labels-idx1-ubyte.gz" in err
    for way in ("dnnx data fetch mnist", "--data-dir DIR", "DNNX_DATA"):
        assert way in err
    assert "Connection refused" in err


def test_fetch_from_a_folder_then_list_and_show(data_root, tmp_path, capsys, offline):
    code, out, err = dnnx(capsys, "data", "list")
    assert code == 0 and "mnist" in out and "not found" in out
    code, out, err = dnnx(capsys, "data", "fetch", "mnist", "--from", str(data_root))
    assert code == 0, err
    cache = Path(offline["XDG_CACHE_HOME"]) / "dnnexplorer" / "mnist"
    assert f"verified in {cache}" in out
    code, out, _ = dnnx(capsys, "data", "list")
    assert f"found in {cache} (user cache)" in out
    grid = tmp_path / "grid.png"
    code, out, err = dnnx(capsys, "data", "show", "mnist", "--n", "9", "--out", str(grid))
    assert code == 0, err
    assert grid.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"


def test_unknown_dataset_and_bad_flags_exit_2(capsys):
    code, _, err = dnnx(capsys, "data", "info", "cifar")
    assert code == 2 and "unknown dataset 'cifar' (known: mnist, fashion-mnist)" in err
    code, _, err = dnnx(capsys, "data", "show", "mnist", "--n", "0")
    assert code == 2 and "--n" in err
