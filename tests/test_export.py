"""`dnnx export`: the exported model (ONNX in onnxruntime, TorchScript in torch.jit) gives the
same answers as the run's PyTorch model on all 10,000 test images."""

from __future__ import annotations

import json
import subprocess
import sys
import warnings
from pathlib import Path

import numpy as np
import pytest
import torch

from dnnexplorer.data import load_dataset
from dnnexplorer.errors import ConfigError, RunError
from dnnexplorer.export import export_run
from dnnexplorer.run import Run

pytestmark = pytest.mark.slow


@pytest.fixture(scope="module")
def cnn_run(tmp_path_factory: pytest.TempPathFactory, data_root: Path) -> Path:
    """A convolutional network trained for one epoch on real MNIST (conv, pooling, dropout)."""
    out = tmp_path_factory.mktemp("export") / "cnn"
    train = ["train", "--model", "cnn", "--epochs", "1", "--threads", "2", "--out", str(out)]
    done = subprocess.run(
        [sys.executable, "-m", "dnnexplorer", *train, "--data-dir", str(data_root)],
        capture_output=True,
        text=True,
    )
    assert done.returncode == 0, done.stderr
    return out


@pytest.fixture(scope="module")
def pytorch_answers(cnn_run: Path, data_root: Path) -> tuple[torch.Tensor, np.ndarray]:
    """The test images in [0, 1] and the run's own PyTorch predictions, as `dnnx predict` makes."""
    run = Run.load(cnn_run)
    data = load_dataset(run.config.dataset, data_dir=data_root)
    images = data.test_images.float() / 255  # (10000, 28, 28)
    probs = run.predict(images)
    assert (probs.argmax(1) == data.test_labels).float().mean() > 0.97  # a trained model
    return images, probs.numpy()


def test_onnx_agrees_with_pytorch_on_every_test_image(cnn_run: Path, pytorch_answers) -> None:
    import onnx
    import onnxruntime

    images, expected = pytorch_answers
    done = subprocess.run(
        [sys.executable, "-m", "dnnexplorer", "export", str(cnn_run)],
        capture_output=True,
        text=True,
    )
    assert done.returncode == 0, done.stderr
    path = cnn_run / "model.onnx"
    assert done.stdout.startswith(f"wrote {path}") and len(done.stdout.splitlines()) == 1
    session = onnxruntime.InferenceSession(str(path), providers=["CPUExecutionProvider"])
    (got,) = session.run(None, {"images": images.unsqueeze(1).numpy()})  # all 10,000 at once
    assert got.shape == (10000, 10)
    assert np.array_equal(got.argmax(1), expected.argmax(1))
    assert np.allclose(got, expected, atol=1e-4) and np.allclose(got.sum(1), 1, atol=1e-5)
    meta = {p.key: p.value for p in onnx.load(str(path)).metadata_props}
    assert json.loads(meta["classes"]) == [str(d) for d in range(10)]
    assert meta["dataset"] == "mnist" and meta["model"] == "cnn"


def test_torchscript_agrees_with_pytorch(cnn_run: Path, pytorch_answers, tmp_path: Path) -> None:
    images, expected = pytorch_answers
    path = export_run(cnn_run, "torchscript", tmp_path / "exported" / "cnn.pt")
    extra = {"dnnexplorer.json": ""}
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", DeprecationWarning)  # torch.jit is deprecated
        loaded = torch.jit.load(str(path), _extra_files=extra)
    with torch.inference_mode():
        got = loaded(images.unsqueeze(1)).numpy()
    assert np.array_equal(got.argmax(1), expected.argmax(1))
    assert json.loads(extra["dnnexplorer.json"])["classes"] == [str(d) for d in range(10)]
    assert sorted(p.name for p in path.parent.iterdir()) == ["cnn.pt"]  # no temp file left


def test_bad_requests_are_one_line_errors(tmp_path: Path, cnn_run: Path) -> None:
    with pytest.raises(RunError, match="no such run folder"):
        export_run(tmp_path / "missing")
    with pytest.raises(ConfigError, match="--format"):
        export_run(cnn_run, "tflite")
    done = subprocess.run(
        [sys.executable, "-m", "dnnexplorer", "export", str(tmp_path / "missing")],
        capture_output=True,
        text=True,
    )
    assert done.returncode != 0 and "Traceback" not in done.stderr
    assert done.stderr.strip().splitlines()[-1].startswith("dnnx: error:")
