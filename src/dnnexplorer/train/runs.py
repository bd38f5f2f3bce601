"""The run folder: everything one training run leaves behind, in plain, documented files.

    runs/NAME/
      config.json            the TrainConfig (resolved) — enough to rebuild model and data
      metrics.jsonl          one JSON line per epoch (loss, accuracy, seconds, ...)
      checkpoint.safetensors model + optimizer + schedule + history, for --resume
      model.safetensors      the weights alone, what eval/predict/serve load
      summary.json           the result: model, params, test accuracy, seconds, device, ...

Every file is written atomically; a folder that already holds a run is never overwritten
silently.
"""

from __future__ import annotations

import json
import time
from pathlib import Path
from typing import Any

from torch import nn

from dnnexplorer.errors import RunError
from dnnexplorer.fileio import append_jsonl, write_bytes_atomic, write_json_atomic
from dnnexplorer.train.checkpoint import load_weights, save_checkpoint, save_weights
from dnnexplorer.train.config import TrainConfig
from dnnexplorer.train.loop import Callback, EpochMetrics, TrainingState

CONFIG = "config.json"
METRICS = "metrics.jsonl"
CHECKPOINT = "checkpoint.safetensors"
WEIGHTS = "model.safetensors"
SUMMARY = "summary.json"


def default_run_dir(config: TrainConfig, root: str | Path = "runs") -> Path:
    """runs/<model>-<dataset>-<date>-<time>, e.g. runs/cnn-mnist-20261125-231501."""
    stamp = time.strftime("%Y%m%d-%H%M%S")
    return Path(root) / f"{config.model}-{config.dataset}-{stamp}"


class RunFolder:
    """Read and write the files of one run folder."""

    def __init__(self, path: str | Path) -> None:
        self.path = Path(path)

    @classmethod
    def create(cls, path: str | Path, overwrite: bool = False) -> RunFolder:
        """A new, empty run folder. An existing non-empty folder is an error unless `overwrite`."""
        run = cls(path)
        if run.path.exists() and not run.path.is_dir():
            raise RunError(f"{run.path}: exists and is not a folder")
        if run.path.is_dir() and any(run.path.iterdir()):
            if not overwrite:
                raise RunError(
                    f"{run.path}: already holds files; continue it with --resume {run.path}, "
                    "or choose another --out (or pass --overwrite)"
                )
            for name in (CONFIG, METRICS, CHECKPOINT, WEIGHTS, SUMMARY):
                (run.path / name).unlink(missing_ok=True)
        run.path.mkdir(parents=True, exist_ok=True)
        return run

    @classmethod
    def open(cls, path: str | Path) -> RunFolder:
        """An existing run folder (it must hold config.json)."""
        run = cls(path)
        if not run.path.is_dir():
            raise RunError(f"{run.path}: no such run folder")
        if not (run.path / CONFIG).is_file():
            raise RunError(f"{run.path}: not a run folder (no {CONFIG})")
        return run

    # -- config and summary -------------------------------------------------------------
    def write_config(self, config: TrainConfig) -> None:
        write_json_atomic(self.path / CONFIG, config.to_dict())

    def read_config(self) -> TrainConfig:
        return TrainConfig.from_dict(self._read_json(CONFIG))

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

    def load_model(self) -> tuple[nn.Module, TrainConfig]:
        """Rebuild the run's model from config.json and load model.safetensors (on the CPU)."""
        from dnnexplorer.data.registry import get_dataset
        from dnnexplorer.models import create_model

        config = self.read_config()
        num_classes = len(get_dataset(config.dataset).classes)
        model = create_model(config.model, num_classes=num_classes, **config.model_options)
        if not self.weights_path.is_file():
            raise RunError(f"{self.path}: no {WEIGHTS} yet (the run has not finished an epoch)")
        load_weights(model, self.weights_path)
        model.eval()
        return model, config


class CheckpointWriter(Callback):
    """After every epoch: checkpoint, weights, and one metrics line — in that order.

    If the process dies between the checkpoint and the metrics line, --resume rewrites
    metrics.jsonl from the checkpoint's history, so the two always agree.
    """

    def __init__(self, run: RunFolder) -> None:
        self.run = run

    def on_epoch_end(self, state: TrainingState, metrics: EpochMetrics) -> None:
        save_checkpoint(state, self.run.checkpoint_path)
        save_weights(state.model, self.run.weights_path)
        self.run.append_metrics(metrics)
