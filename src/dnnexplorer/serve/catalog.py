"""The runs folder as the web lab sees it: listing runs, opening one safely, using its model.

A run is named by its path relative to `--runs` (e.g. `cnn-mnist-20261125-231501`, or
`ladder/cnn-mnist` for the runs `dnnx ladder` writes). Names come from URLs, so each one is
checked before it touches the disk: plain path parts only, nothing that could leave the runs
folder (`..`, absolute paths, symbolic links pointing elsewhere).

A run's model is loaded with `dnnexplorer.Run`, as `dnnx eval` and `dnnx predict` load it, and
used through it: the same normalization, the same test-set analysis. An upload is prepared as
`dnnx predict` prepares a file (dnnexplorer.predict); it must be one of a few formats and not
too large (limits.py), and two are decoded at a time. A run folder whose files are damaged
(junk, or `[]` where an object belongs) is listed as damaged, and every route about it answers
with an error: it never breaks the Runs page.
"""

from __future__ import annotations

import re
import threading
import time
from collections import OrderedDict
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import torch

from dnnexplorer.data import Dataset, load_dataset
from dnnexplorer.errors import DnnxError, RunError
from dnnexplorer.predict import load_image_bytes, to_mnist
from dnnexplorer.run import Run
from dnnexplorer.serve import pictures
from dnnexplorer.serve.limits import LIMITS, UPLOAD_FORMATS, Limits
from dnnexplorer.train import TrainConfig
from dnnexplorer.train.runs import CONFIG, RunFolder

NAME_PART = re.compile(r"[A-Za-z0-9][A-Za-z0-9._-]{0,99}")
MAX_DEPTH = 3  # runs/NAME, runs/GROUP/NAME (dnnx ladder), one more level for good measure
MODELS_KEPT = 4  # trained models kept in memory for the Draw page
WORST_ERRORS = 24
DECODING_AT_ONCE = 2  # uploads decoded together: each may take tens of megabytes
# A damaged file fails in many ways: bad JSON, JSON of the wrong shape, fields of the wrong kind.
DAMAGE = (DnnxError, ValueError, TypeError, KeyError, AttributeError, OSError)


class BadRunName(RunError):
    """A run name that is not a plain relative path inside the runs folder."""


class RunNotFound(RunError):
    """No run folder of that name under the runs folder."""


class DamagedRun(RunError):
    """A run folder whose config, summary or metrics cannot be read."""


def check_run_name(name: str) -> str:
    """Return `name` if it is a safe run name (parts like 'cnn-mnist-1', joined by '/')."""
    parts = name.split("/")
    if len(parts) > MAX_DEPTH or not all(NAME_PART.fullmatch(p) and ".." not in p for p in parts):
        raise BadRunName(f"{name!r} is not a run name (letters, digits, '.', '_', '-' only)")
    return name


class DatasetStore:
    """Datasets loaded once and shared by the training job and the Runs page (thread-safe)."""

    def __init__(self, data_dir: str | Path | None = None) -> None:
        self.data_dir = data_dir
        self._loaded: dict[str, Dataset] = {}
        self._lock = threading.Lock()

    def get(self, name: str) -> Dataset:
        with self._lock:  # a second caller waits instead of parsing the same files twice
            if name not in self._loaded:
                self._loaded[name] = load_dataset(name, self.data_dir)
            return self._loaded[name]

    def put(self, dataset: Dataset) -> None:
        """Use `dataset` for its name from now on (e.g. a dataset already in memory)."""
        with self._lock:
            self._loaded[dataset.name] = dataset


@dataclass
class LoadedModel:
    run: Run  # the trained model, its classes and normalization
    lock: threading.Lock  # one forward pass at a time: hooks are attached per request


class RunCatalog:
    """Every run folder under `root`, and the trained models of those runs."""

    def __init__(self, root: str | Path, datasets: DatasetStore, limits: Limits = LIMITS) -> None:
        self.root = Path(root)
        self.datasets = datasets
        self.limits = limits
        self._decoding = threading.BoundedSemaphore(DECODING_AT_ONCE)
        self._models: OrderedDict[tuple[str, int], LoadedModel] = OrderedDict()
        self._analyses: dict[tuple[str, int], dict[str, Any]] = {}
        self._lock = threading.Lock()

    # -- finding runs -------------------------------------------------------------------
    def path_of(self, name: str) -> Path:
        """The folder of run `name`, which must exist and lie inside the runs folder."""
        check_run_name(name)
        root = self.root.resolve()
        path = (root / name).resolve()
        if not path.is_relative_to(root) or path == root:
            raise BadRunName(f"{name!r} is not a run name (it leads outside the runs folder)")
        if not (path / CONFIG).is_file():
            raise RunNotFound(f"no run named {name!r} in {self.root}")
        return path

    def names(self) -> list[str]:
        """Names of all run folders (those holding config.json), up to MAX_DEPTH deep."""
        if not self.root.is_dir():
            return []
        found = []
        for depth in range(1, MAX_DEPTH + 1):
            for config in self.root.glob("/".join(["*"] * depth) + "/" + CONFIG):
                name = config.parent.relative_to(self.root).as_posix()
                try:
                    self.path_of(name)
                except RunError:
                    continue  # a folder with an odd name or a link outside: not listed
                found.append(name)
        return found

    def summary_row(self, name: str) -> dict[str, Any]:
        """One line of the Runs table: model, dataset, accuracy, time, date, state.

        A damaged run gets a line saying so ({"name", "error"}), and the others still show.
        """
        try:
            return self._summary_row(name)
        except DAMAGE as e:
            return {"name": name, "error": str(e)}

    def _summary_row(self, name: str) -> dict[str, Any]:
        run = RunFolder(self.path_of(name))
        config, summary, metrics = read_run(run)
        last = metrics[-1] if metrics else {}
        modified = max(p.stat().st_mtime for p in run.path.iterdir() if p.is_file())
        return {
            "name": name,
            "model": config.model,
            "dataset": config.dataset,
            "epochs": len(metrics),
            "planned_epochs": config.epochs,
            "test_accuracy": summary.get("test_accuracy", last.get("test_accuracy")),
            "train_seconds": summary.get("train_seconds", sum(m["seconds"] for m in metrics)),
            "params": summary.get("params"),
            "date": time.strftime("%Y-%m-%d %H:%M", time.localtime(modified)),
            "modified": modified,
            "complete": bool(summary.get("complete")),
            "has_weights": run.weights_path.is_file(),
        }

    def rows(self) -> list[dict[str, Any]]:
        """The Runs table, newest first."""
        rows = [self.summary_row(name) for name in self.names()]
        return sorted(rows, key=lambda r: r.get("modified", 0), reverse=True)

    def details(self, name: str) -> dict[str, Any]:
        """Config, summary and per-epoch metrics of one run (its curves)."""
        run = RunFolder(self.path_of(name))
        config, summary, metrics = read_run(run)
        return {
            "name": name,
            "config": config.to_dict(),
            "summary": summary or None,
            "metrics": metrics,
            "has_weights": run.weights_path.is_file(),
        }

    def config_of(self, name: str) -> TrainConfig:
        """The config of run `name`; DamagedRun if its config.json is not a config."""
        return read_run(RunFolder(self.path_of(name)))[0]

    # -- using a run's model ----------------------------------------------------------------
    def model(self, name: str) -> LoadedModel:
        """The run's trained model, loaded once (reloaded when its weights file changes)."""
        run = RunFolder(self.path_of(name))
        if not run.weights_path.is_file():
            raise RunError(f"run {name!r} has no trained weights yet (no epoch finished)")
        key = (name, run.weights_path.stat().st_mtime_ns)
        with self._lock:
            if key not in self._models:
                read_run(run)  # a damaged run folder: DamagedRun, not an error inside torch
                try:
                    self._models[key] = LoadedModel(Run.load(run.path), threading.Lock())
                except DAMAGE as e:
                    raise DamagedRun(f"run {name!r} cannot be loaded: {e}") from None
                while len(self._models) > MODELS_KEPT:
                    self._models.popitem(last=False)
            self._models.move_to_end(key)
            return self._models[key]

    def predict(self, name: str, image_bytes: bytes) -> dict[str, Any]:
        """Preprocess an uploaded image exactly as `dnnx predict` does, then classify it."""
        loaded = self.model(name)  # first: a bad run name is refused before the image is read
        x = self.digit_of_upload(image_bytes)  # (28, 28)
        conv = pictures.first_conv(loaded.run.model)
        captured: list[torch.Tensor] = []  # the first convolution's output: its feature maps
        with loaded.lock:
            hook = None
            if conv is not None:
                hook = conv[1].register_forward_hook(lambda m, i, o: captured.append(o))
            try:
                probs = loaded.run.predict(x.unsqueeze(0))[0]  # (classes,)
            finally:
                if hook is not None:
                    hook.remove()
        digit = int(probs.argmax())
        maps = pictures.feature_map_pictures(conv[0], captured[0]) if captured else None
        return {
            "run": name,
            "digit": digit,
            "label": loaded.run.classes[digit],
            "classes": loaded.run.classes,
            "probabilities": [round(float(p), 6) for p in probs],
            "input": pictures.gray_picture(x),
            "feature_maps": maps.to_dict() if maps else None,
        }

    def digit_of_upload(self, image_bytes: bytes) -> torch.Tensor:
        """An uploaded image prepared as `dnnx predict` does: (28, 28) in [0, 1], ink bright.

        Only the formats and sizes the lab accepts (limits.py); two uploads are decoded at a time.
        """
        with self._decoding:
            image = load_image_bytes(
                image_bytes,
                "the image",
                max_pixels=self.limits.image_pixels,
                formats=UPLOAD_FORMATS,
            )
            return to_mnist(image, name="the image")

    def analysis(self, name: str) -> dict[str, Any]:
        """Confusion matrix, per-class accuracy and worst errors on the test set (cached)."""
        loaded = self.model(name)
        run = RunFolder(self.path_of(name))
        key = (name, run.weights_path.stat().st_mtime_ns)
        if key in self._analyses:
            return self._analyses[key]
        data = self.datasets.get(loaded.run.config.dataset)
        with loaded.lock:
            result = loaded.run.evaluate(data, errors=WORST_ERRORS)
        classes = loaded.run.classes
        errors = [
            {
                "image": pictures.gray_picture(data.test_images[i].float() / 255),
                "true": classes[int(data.test_labels[i])],
                "predicted": classes[int(result.predictions[i])],
                "confidence": round(float(result.probabilities[i].max()), 4),
            }
            for i in result.errors.tolist()
        ]
        self._analyses[key] = {
            "name": name,
            "classes": classes,
            "test_accuracy": result.accuracy,
            "confusion": result.confusion.tolist(),
            "per_class_accuracy": result.per_class_accuracy.tolist(),
            "errors": errors,
        }
        return self._analyses[key]


def read_run(run: RunFolder) -> tuple[TrainConfig, dict[str, Any], list[dict[str, Any]]]:
    """A run's config, summary ({} before its first epoch) and per-epoch metrics.

    DamagedRun if one of its files is not what `dnnx train` writes: junk, `[]` or `null` where
    a record belongs, or a config whose fields are not a config's.
    """
    try:
        config = run.read_config()
        summary = run.read_summary()
        summary = {} if summary is None else summary
        metrics = run.read_metrics()
        if not isinstance(summary, dict) or not all(isinstance(m, dict) for m in metrics):
            raise ValueError("summary.json or metrics.jsonl does not hold records")
    except DAMAGE as e:
        raise DamagedRun(f"run {run.path.name!r} is damaged: {e}") from None
    return config, summary, metrics
