"""A trained run as one file that runs without this project: ONNX or TorchScript.

The exported model computes, from images to answers, everything `dnnx predict` does after the
picture has become a 28x28 image:

    images (N, 1, 28, 28), float32, pixels in [0, 1] (white strokes on black, as MNIST)
      -> (images - mean) / std             the training set's normalization, built in
      -> the trained network               logits (N, classes)
      -> softmax                           probabilities (N, classes), each row sums to 1

so a user of the file needs no normalization constants, only the class names, which are stored in
the file's metadata. ONNX runs in onnxruntime (Python, C++, C#, JavaScript, phones) and most
inference servers; TorchScript runs in PyTorch's C++ library (libtorch). PyTorch has deprecated
TorchScript in favour of torch.export: prefer ONNX for new uses.
"""

from __future__ import annotations

import contextlib
import json
import logging
import os
import warnings
from collections.abc import Iterator
from pathlib import Path

import torch
from torch import nn

from dnnexplorer.errors import ConfigError
from dnnexplorer.fileio import atomic_path
from dnnexplorer.train.runs import EXPORTS

INPUT_NAME, OUTPUT_NAME = "images", "probabilities"


class Deployable(nn.Module):
    """The trained network between its input normalization and a softmax."""

    def __init__(self, model: nn.Module, mean: float, std: float) -> None:
        super().__init__()
        self.model = model
        self.register_buffer("mean", torch.tensor(mean, dtype=torch.float32))
        self.register_buffer("std", torch.tensor(std, dtype=torch.float32))

    def forward(self, images: torch.Tensor) -> torch.Tensor:
        logits = self.model((images - self.mean) / self.std)  # (N, classes)
        return torch.softmax(logits, dim=1)  # (N, classes), rows sum to 1


def export_run(
    run_dir: str | os.PathLike[str], fmt: str = "onnx", out: str | os.PathLike[str] | None = None
) -> Path:
    """Write the run's model as `fmt` ("onnx" or "torchscript") to `out` (default: beside its
    weights, RUN/model.onnx or RUN/model.pt), atomically; return the path written."""
    from dnnexplorer.run import Run

    if fmt not in EXPORTS:
        raise ConfigError(f"--format must be one of {', '.join(EXPORTS)}, got {fmt!r}")
    run = Run.load(run_dir)
    deployable = Deployable(run.model, run.mean, run.std).eval()
    metadata = {
        "producer": "dnnexplorer",
        "model": run.config.model,
        "dataset": run.config.dataset,
        "classes": list(run.classes),
        "input": f"{INPUT_NAME}: float32 (N, 1, 28, 28), pixels in [0, 1], white on black",
        "output": f"{OUTPUT_NAME}: float32 (N, {len(run.classes)}), softmax over the classes",
    }
    target = Path(out) if out is not None else run.path / EXPORTS[fmt]
    example = torch.zeros(2, *run.input_shape)  # two images: the batch size is left free
    with atomic_path(target) as tmp:
        if fmt == "onnx":
            _write_onnx(deployable, example, tmp, metadata)
        else:
            _write_torchscript(deployable, example, tmp, metadata)
    return target


def _write_onnx(model: nn.Module, example: torch.Tensor, path: Path, metadata: dict) -> None:
    try:
        import onnx
        import onnxscript  # noqa: F401  (torch's exporter writes ONNX through it)
    except ImportError:
        raise ConfigError(
            "ONNX export needs the packages onnx and onnxscript: pip install 'dnnexplorer[onnx]'"
        ) from None
    with _quiet_exporter():
        program = torch.onnx.export(
            model,
            (example,),
            dynamo=True,  # torch.export-based, PyTorch's exporter since 2.9
            input_names=[INPUT_NAME],
            output_names=[OUTPUT_NAME],
            dynamic_shapes=({0: torch.export.Dim("batch")},),  # any number of images
            verbose=False,
        )
    proto = program.model_proto
    for key, value in metadata.items():  # ONNX metadata holds strings: the classes as JSON
        entry = proto.metadata_props.add()
        entry.key, entry.value = key, value if isinstance(value, str) else json.dumps(value)
    onnx.checker.check_model(proto)
    onnx.save(proto, str(path))


def _write_torchscript(model: nn.Module, example: torch.Tensor, path: Path, metadata: dict) -> None:
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", DeprecationWarning)  # TorchScript is deprecated (above)
        traced = torch.jit.trace(model, example)
        extra = {"dnnexplorer.json": json.dumps(metadata)}
        torch.jit.save(traced, str(path), _extra_files=extra)


@contextlib.contextmanager
def _quiet_exporter() -> Iterator[None]:
    """The exporter logs each of its steps and the torchvision kernels it skips: keep only
    errors, so that `dnnx export` prints one line."""
    logger = logging.getLogger("torch.onnx")
    level = logger.level
    logger.setLevel(logging.ERROR)
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", FutureWarning)
            warnings.simplefilter("ignore", DeprecationWarning)
            yield
    finally:
        logger.setLevel(level)
