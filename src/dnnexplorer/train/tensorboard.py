"""TensorBoard event files for a run (`dnnx train --tensorboard`), in the run folder's tb/.

One more listener to the training loop: after every epoch it writes the epoch's metrics as
scalars (loss/train, loss/test, accuracy/train, accuracy/test, the learning rate, examples per
second), and at the start the run's settings as hyper-parameters, so that TensorBoard's HParams
tab (and MLflow, Weights & Biases, ... which read these files) compares runs side by side:

    dnnx train --model cnn --tensorboard --out runs/cnn-a
    tensorboard --logdir runs          # every run with a tb/ folder, one curve each

It needs the `tensorboard` package (`pip install 'dnnexplorer[tensorboard]'`), imported only here.
"""

from __future__ import annotations

import importlib.util
from pathlib import Path
from typing import Any

from dnnexplorer.errors import ConfigError
from dnnexplorer.train.config import TrainConfig
from dnnexplorer.train.loop import Callback, EpochMetrics, TrainingState

FOLDER = "tb"
# The metrics TensorBoard's HParams tab shows beside each run's settings.
HPARAM_METRICS = ("accuracy/test", "loss/test", "accuracy/train", "loss/train")


def check_tensorboard() -> None:
    """ConfigError if the tensorboard package is missing (checked before a run folder is made)."""
    if importlib.util.find_spec("tensorboard") is None:
        raise ConfigError(
            "--tensorboard needs the tensorboard package: pip install 'dnnexplorer[tensorboard]'"
        )


class TensorBoardWriter(Callback):
    """Writes RUN/tb/events.out.tfevents.* as the run trains."""

    def __init__(self, run_dir: str | Path, config: TrainConfig) -> None:
        check_tensorboard()
        from torch.utils.tensorboard import SummaryWriter

        self.config = config
        self.writer = SummaryWriter(log_dir=str(Path(run_dir) / FOLDER))

    def on_train_start(self, state: TrainingState) -> None:
        if state.history:  # a resumed run: its settings were written when it started
            return
        from torch.utils.tensorboard.summary import hparams

        for event in hparams(hparam_values(self.config), dict.fromkeys(HPARAM_METRICS, 0.0)):
            self.writer.file_writer.add_summary(event)

    def on_epoch_end(self, state: TrainingState, metrics: EpochMetrics) -> None:
        epoch = metrics.epoch
        scalars = {
            "loss/train": metrics.train_loss,
            "loss/test": metrics.test_loss,
            "accuracy/train": metrics.train_accuracy,
            "accuracy/test": metrics.test_accuracy,
            "loss/validation": metrics.val_loss,
            "accuracy/validation": metrics.val_accuracy,
            "learning_rate": metrics.lr,
            "speed/examples_per_second": metrics.examples_per_second,
            "speed/epoch_seconds": metrics.seconds,
        }
        for tag, value in scalars.items():
            if value is not None:
                self.writer.add_scalar(tag, value, epoch)
        self.writer.flush()

    def close(self) -> None:
        self.writer.close()


def hparam_values(config: TrainConfig) -> dict[str, Any]:
    """The run's settings as TensorBoard accepts them: numbers, strings and booleans."""
    values: dict[str, Any] = {}
    for key, value in config.to_dict().items():
        if isinstance(value, dict):  # model options, e.g. {"hidden": [300, 100]}
            for option, inner in value.items():
                values[f"{key}.{option}"] = _scalar(inner)
        elif value is not None:
            values[key] = _scalar(value)
    return values


def _scalar(value: Any) -> Any:
    if isinstance(value, bool | int | float | str):
        return value
    if isinstance(value, list | tuple):
        return ",".join(str(v) for v in value)
    return str(value)
