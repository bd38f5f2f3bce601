"""The run folder: everything one training run leaves behind, in plain, documented files.

    runs/NAME/
      config.json            the TrainConfig (resolved) — enough to rebuild model and data
      model.json             what using the model needs: architecture and options, class names,
                             the training set's mean and std, the input shape (see ModelSpec)
      metrics.jsonl          one JSON line per epoch (loss, accuracy, seconds, ...)
      checkpoint.safetensors model + optimizer + schedule + history, for --resume
      model.safetensors      the weights alone, what eval/predict/serve load
      summary.json           the result: model, params, test accuracy, seconds, device, ...
      confusion.png          `dnnx eval`'s confusion matrix (unless given another --out)
      errors.png             `dnnx eval`'s most confidently wrong test images

model.json makes the folder self-describing: `dnnexplorer.Run.load` rebuilds the network and
prepares its inputs from it alone, even for a dataset the registry does not know. A run written
before model.json existed gets the same facts from config.json and the dataset registry.

Every file is written atomically; a folder that already holds a run is never overwritten
silently. A process writing the folder holds its lock (the file `.lock`, see fileio.FolderLock)
for the whole run, so a second `dnnx train --out`/`--resume` on it is refused, not mixed in.
"""

from __future__ import annotations

import json
import shutil
import time
from dataclasses import asdict, dataclass, replace
from pathlib import Path
from typing import Any

from dnnexplorer.data import Dataset, DatasetSpec, get_dataset
from dnnexplorer.errors import ConfigError, RunError
from dnnexplorer.fileio import (
    LOCK_FILE,
    FolderLock,
    append_jsonl,
    remove_leftovers,
    write_bytes_atomic,
    write_json_atomic,
)
from dnnexplorer.train.checkpoint import save_checkpoint, save_weights
from dnnexplorer.train.config import TrainConfig
from dnnexplorer.train.loop import Callback, EpochMetrics, TrainingState

CONFIG = "config.json"
MODEL = "model.json"
METRICS = "metrics.jsonl"
CHECKPOINT = "checkpoint.safetensors"
WEIGHTS = "model.safetensors"
SUMMARY = "summary.json"
CONFUSION = "confusion.png"
ERRORS = "errors.png"
EXPORTS = {"onnx": "model.onnx", "torchscript": "model.pt"}  # dnnx export's files, by format
TENSORBOARD = "tb"  # a folder: TensorBoard's event files, with --tensorboard
# Every file dnnx writes into a run folder: what --overwrite removes. Other files are the
# user's (notes, their own plots) and are left alone.
WRITTEN = (
    CONFIG,
    MODEL,
    METRICS,
    CHECKPOINT,
    WEIGHTS,
    SUMMARY,
    CONFUSION,
    ERRORS,
    *EXPORTS.values(),
)

INPUT_SHAPE = (1, 28, 28)  # (channels, height, width): every model here reads 28x28 grey images


@dataclass(frozen=True)
class ModelSpec:
    """Everything needed to rebuild a run's model and to feed it: the contents of model.json."""

    model: str  # the registry's name, e.g. "cnn"
    model_options: dict[str, Any]  # the builder's options, e.g. {"hidden": [200, 100]}
    dataset: str
    classes: tuple[str, ...]  # the name of each output, in order
    mean: float  # the training set's pixel mean on the [0, 1] scale: inputs are (x - mean) / std
    std: float
    input_shape: tuple[int, ...] = INPUT_SHAPE

    @classmethod
    def of(cls, config: TrainConfig, dataset: Dataset | DatasetSpec) -> ModelSpec:
        """The spec of a run of `config` trained on `dataset` (loaded, or the registry's)."""
        return cls(
            model=config.model,
            model_options=dict(config.model_options),
            dataset=config.dataset,
            classes=tuple(dataset.classes),
            mean=float(dataset.mean),
            std=float(dataset.std),
        )

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)

    @classmethod
    def from_dict(cls, data: Any) -> ModelSpec:
        """A spec from model.json's contents; ValueError naming the first field that is wrong."""
        if not isinstance(data, dict):
            raise ValueError("not a JSON object")
        kinds = {
            "model": str,
            "model_options": dict,
            "dataset": str,
            "classes": list,
            "mean": (int, float),
            "std": (int, float),
            "input_shape": list,
        }
        for name, kind in kinds.items():
            value = data.get(name)
            if isinstance(value, bool) or not isinstance(value, kind):  # JSON's true is no number
                raise ValueError(f"'{name}' is missing or of the wrong kind")
        if len(data["classes"]) < 2 or not all(isinstance(c, str) for c in data["classes"]):
            raise ValueError("'classes' must list two or more class names")
        if not data["std"] > 0:
            raise ValueError(f"'std' must be positive, got {data['std']}")
        if tuple(data["input_shape"]) != INPUT_SHAPE:
            raise ValueError(f"'input_shape' must be {list(INPUT_SHAPE)}")
        return cls(
            model=data["model"],
            model_options=data["model_options"],
            dataset=data["dataset"],
            classes=tuple(data["classes"]),
            mean=float(data["mean"]),
            std=float(data["std"]),
            input_shape=tuple(data["input_shape"]),
        )


def default_run_dir(config: TrainConfig, root: str | Path = "runs") -> Path:
    """runs/<model>-<dataset>-<date>-<time>, e.g. runs/cnn-mnist-20261125-231501."""
    stamp = time.strftime("%Y%m%d-%H%M%S")
    return Path(root) / f"{config.model}-{config.dataset}-{stamp}"


class RunFolder:
    """Read and write the files of one run folder.

    `create` and `open(write=True)` hold the folder's lock until `release()` (or the end of a
    `with` block): use them as `with RunFolder.create(path) as run: ...`.
    """

    def __init__(self, path: str | Path) -> None:
        self.path = Path(path)
        self._lock: FolderLock | None = None

    @classmethod
    def create(cls, path: str | Path, overwrite: bool = False) -> RunFolder:
        """A new, empty run folder, locked. An existing non-empty folder is an error unless
        `overwrite`."""
        run = cls(path)
        if run.path.exists() and not run.path.is_dir():
            raise RunError(f"{run.path}: exists and is not a folder")
        run.path.mkdir(parents=True, exist_ok=True)
        run._lock_for_writing()  # before looking inside: two runs started at once both see it empty
        run.remove_leftovers()  # a folder holding only a killed write's temp file is empty
        if any(p.name != LOCK_FILE for p in run.path.iterdir()):
            if not overwrite:
                run.release()
                raise RunError(
                    f"{run.path}: already holds files; continue it with --resume {run.path}, "
                    "or choose another --out (or pass --overwrite)"
                )
            for name in WRITTEN:
                (run.path / name).unlink(missing_ok=True)
            shutil.rmtree(run.path / TENSORBOARD, ignore_errors=True)
        return run

    @classmethod
    def open(cls, path: str | Path, write: bool = False) -> RunFolder:
        """An existing run folder (it must hold config.json); locked if we will `write` it."""
        run = cls(path)
        if not run.path.is_dir():
            raise RunError(f"{run.path}: no such run folder")
        if not (run.path / CONFIG).is_file():
            raise RunError(f"{run.path}: not a run folder (no {CONFIG})")
        if write:
            run._lock_for_writing()
        return run

    # -- the writer's lock --------------------------------------------------------------
    def _lock_for_writing(self) -> None:
        lock = FolderLock(self.path)
        if not lock.acquire():
            pid = lock.holder()
            raise RunError(
                f"{self.path}: another dnnx process is writing this run"
                + (f" (pid {pid})" if pid else "")
                + "; wait for it to end, or stop it"
            )
        self._lock = lock

    def release(self) -> None:
        """Give back the writer's lock (no-op for a folder opened only to read)."""
        if self._lock is not None:
            self._lock.release()
            self._lock = None

    def __enter__(self) -> RunFolder:
        return self

    def __exit__(self, *exc: object) -> None:
        self.release()

    def remove_leftovers(self) -> None:
        """Delete the temp files of writes that a kill interrupted (see fileio.atomic_path)."""
        for name in WRITTEN:
            remove_leftovers(self.path / name)

    # -- config and summary -------------------------------------------------------------
    def write_config(self, config: TrainConfig) -> None:
        write_json_atomic(self.path / CONFIG, config.to_dict())

    def read_config(self) -> TrainConfig:
        """The run's TrainConfig; RunError naming config.json if it is not a valid one."""
        try:
            return TrainConfig.from_dict(self._read_json(CONFIG))
        except ConfigError as e:
            raise RunError(f"{self.path / CONFIG}: {e}") from None

    def read_resumable_config(self) -> TrainConfig:
        """The config to go on training with: any setting it predates filled from its recipe,
        its model options kept as they were (the weights were trained with them, whatever the
        model's recipes bring today)."""
        stored = self.read_config()
        return replace(stored.resolved(), model_options=stored.model_options)

    def write_model_spec(self, spec: ModelSpec) -> None:
        write_json_atomic(self.path / MODEL, spec.to_dict())

    def read_model_spec(self) -> ModelSpec:
        """What using the model needs (model.json); RunError naming model.json if it is damaged.

        A run written before model.json existed gets the same facts from its config.json and the
        dataset registry, as they were always found.
        """
        if not (self.path / MODEL).is_file():
            config = self.read_config()
            return ModelSpec.of(config, get_dataset(config.dataset))
        try:
            return ModelSpec.from_dict(self._read_json(MODEL))
        except ValueError as e:
            raise RunError(f"{self.path / MODEL}: not a model description ({e})") from None

    def write_summary(self, summary: dict[str, Any]) -> None:
        write_json_atomic(self.path / SUMMARY, summary)

    def read_summary(self) -> dict[str, Any] | None:
        return self._read_json(SUMMARY) if (self.path / SUMMARY).is_file() else None

    def _read_json(self, name: str) -> Any:
        try:
            return json.loads((self.path / name).read_text(encoding="utf-8"))
        except (OSError, json.JSONDecodeError) as e:
            raise RunError(f"{self.path / name}: cannot read ({e})") from None

    # -- metrics ----------------------------------------------------------------------
    def append_metrics(self, metrics: EpochMetrics) -> None:
        append_jsonl(self.path / METRICS, metrics.to_dict())

    def rewrite_metrics(self, history: list[EpochMetrics]) -> None:
        """Make metrics.jsonl match a checkpoint's history (after a kill between the two)."""
        lines = "".join(json.dumps(m.to_dict()) + "\n" for m in history)
        write_bytes_atomic(self.path / METRICS, lines.encode())

    def agree_with_checkpoint(self, state: TrainingState) -> None:
        """On resume: make the other files agree with the checkpoint just loaded into `state`.

        A kill can land between any two writes of an epoch (checkpoint, weights, metrics line)
        or in the middle of one. The checkpoint is what counts: the metrics and the weights are
        rewritten from it, so that a run whose last epoch was already saved ends with that
        epoch's weights, and the temp files of interrupted writes go.
        """
        self.remove_leftovers()
        self.rewrite_metrics(state.history)  # no checkpoint: no epoch done, an empty file
        if state.epoch > 0:
            save_weights(state.kept_weights(), self.weights_path)

    def read_metrics(self) -> list[dict[str, Any]]:
        path = self.path / METRICS
        if not path.is_file():
            return []
        return [json.loads(line) for line in path.read_text().splitlines() if line.strip()]

    # -- weights ----------------------------------------------------------------------
    @property
    def checkpoint_path(self) -> Path:
        return self.path / CHECKPOINT

    @property
    def weights_path(self) -> Path:
        return self.path / WEIGHTS


class CheckpointWriter(Callback):
    """After every epoch: checkpoint, weights, and one metrics line — in that order.

    If the process dies between the checkpoint and the metrics line, --resume rewrites
    metrics.jsonl from the checkpoint's history, so the two always agree.
    """

    def __init__(self, run: RunFolder) -> None:
        self.run = run

    def on_epoch_end(self, state: TrainingState, metrics: EpochMetrics) -> None:
        save_checkpoint(state, self.run.checkpoint_path)
        save_weights(state.kept_weights(), self.run.weights_path)  # with --val-size: the best
        self.run.append_metrics(metrics)
