"""The plain-pytorch lesson and its script, examples/mnist_plain.py.

The script must stay what the chapter promises: under 100 lines, no project internals, runnable
alone from a checkout (`examples/mnist_plain.py` is a link to the package's copy). It runs as a
real subprocess, on tiny IDX files here and for one epoch on real MNIST, and must learn.
"""

from __future__ import annotations

import ast
import math
import re
import subprocess
import sys
from pathlib import Path

import nbformat
import numpy as np
import pytest
import torch

from dnnexplorer.data.idx import write_idx
from dnnexplorer.examples import mnist_plain
from dnnexplorer.lessons.plain_pytorch import write_mnist_files
from dnnexplorer.lessons.synthetic import seven_segment_digits

ROOT = Path(__file__).resolve().parents[2]
LINK = ROOT / "examples" / "mnist_plain.py"
SCRIPT = ROOT / "src" / "dnnexplorer" / "examples" / "mnist_plain.py"
NOTEBOOK = ROOT / "notebooks" / "11-plain-pytorch.ipynb"
MARK = "# from examples/mnist_plain.py"  # a notebook cell holding the script's own text
EPOCH_LINE = re.compile(r"epoch (\d+): train loss ([\d.]+), test accuracy ([\d.]+)%")
# Run the script with dnnexplorer made unimportable: it must not need the project.
WITHOUT_PROJECT = (
    "import runpy, sys; sys.modules['dnnexplorer'] = None; "
    "sys.argv = sys.argv[1:]; runpy.run_path(sys.argv[0], run_name='__main__')"
)


def _run_script(*args: str, cwd: Path) -> list[tuple[int, float, float]]:
    done = subprocess.run(
        [sys.executable, "-c", WITHOUT_PROJECT, str(LINK), *args],
        cwd=cwd,
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert done.returncode == 0, done.stderr
    return [
        (int(e), float(loss), float(acc) / 100) for e, loss, acc in EPOCH_LINE.findall(done.stdout)
    ]


def test_examples_link_resolves_to_the_package_script():
    assert LINK.is_symlink()
    assert LINK.resolve() == SCRIPT.resolve()


def test_script_is_short_and_uses_no_project_internals():
    source = SCRIPT.read_text()
    assert len(source.splitlines()) < 100
    imported = set()
    for node in ast.walk(ast.parse(source)):
        if isinstance(node, ast.Import):
            imported |= {a.name.split(".")[0] for a in node.names}
        elif isinstance(node, ast.ImportFrom):
            imported.add((node.module or "").split(".")[0])
    assert imported <= {"argparse", "gzip", "os", "pathlib", "numpy", "torch"}
    assert 'if __name__ == "__main__":' in source


def test_notebook_shows_the_script_verbatim():
    """The chapter's copies of the script's code cannot drift from the file."""
    source = SCRIPT.read_text()
    notebook = nbformat.read(NOTEBOOK, as_version=4)
    copies = [c.source for c in notebook.cells if c.source.startswith(MARK + "\n")]
    assert len(copies) >= 6  # header, read_idx, load_mnist, Net, train, test, main
    for cell in copies:
        assert cell.removeprefix(MARK + "\n") in source
    shown = "\n".join(copies)
    for name in (
        "def read_idx",
        "def load_mnist",
        "class Net",
        "def train",
        "def test",
        "def main",
    ):
        assert name in shown


def test_read_idx_reads_plain_and_gzip_files(tmp_path):
    images = np.arange(2 * 28 * 28, dtype=np.uint8).reshape(2, 28, 28)
    write_idx(tmp_path / "a-ubyte.gz", images, compress=True)
    write_idx(tmp_path / "b-ubyte", images)  # asked for as .gz, found uncompressed
    np.testing.assert_array_equal(mnist_plain.read_idx(tmp_path / "a-ubyte.gz"), images)
    np.testing.assert_array_equal(mnist_plain.read_idx(tmp_path / "b-ubyte.gz"), images)


def test_load_mnist_standardises_like_dnnx_train(tmp_path):
    data = seven_segment_digits(seed=0, n_train=50, n_test=20)
    write_mnist_files(data, tmp_path)
    x, y = mnist_plain.load_mnist(tmp_path, "t10k")
    assert x.shape == (20, 1, 28, 28) and y.dtype == torch.int64
    expected = (data.test_images.float() / 255 - mnist_plain.MEAN) / mnist_plain.STD
    torch.testing.assert_close(x[:, 0], expected)
    torch.testing.assert_close(y, data.test_labels)


def test_script_runs_alone_on_idx_files(tmp_path):
    write_mnist_files(seven_segment_digits(seed=0, n_train=1000, n_test=200), tmp_path)
    epochs = _run_script("--data", str(tmp_path), "--epochs", "2", cwd=tmp_path)
    assert [e for e, _, _ in epochs] == [1, 2]
    assert epochs[1][1] < epochs[0][1]  # the training loss falls
    assert epochs[1][2] > 0.5  # far above chance (0.1): it learns


def test_offline_lesson_opens_one_step(lesson_run):
    n = lesson_run("plain-pytorch")[0].numbers
    assert n["script_lines"] < 100 and "dnnexplorer" not in n["script_imports"]
    assert n["parameters"] == 784 * 128 + 128 + 128 * 10 + 10
    assert n["batch_shape"] == [64, 1, 28, 28] and n["logits_shape"] == [64, 10]
    assert n["initial_loss"] == pytest.approx(math.log(10), abs=0.3)
    assert n["gradient_shapes"] == {
        "hidden.weight": [128, 784],
        "hidden.bias": [128],
        "output.weight": [10, 128],
        "output.bias": [10],
    }
    assert n["step_max_difference"] < 1e-6
    assert n["twice_backward_ratio"] == pytest.approx(2.0)
    assert n["train_loss"][-1] < n["train_loss"][0]
    assert n["test_accuracy"][-1] > 0.9


@pytest.mark.real_data
@pytest.mark.slow
def test_script_learns_mnist_in_one_epoch(data_root, tmp_path):
    epochs = _run_script("--epochs", "1", "--data", str(data_root / "mnist"), cwd=tmp_path)
    assert len(epochs) == 1
    assert epochs[0][2] > 0.9  # about 95.7% after one epoch
