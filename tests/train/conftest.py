"""The training engine's tests run on the tiny synthetic `squares` data: seconds, not minutes."""

from __future__ import annotations

import pytest

from dnnexplorer.data import Dataset
from dnnexplorer.train.loop import Callback


@pytest.fixture(scope="session")
def tiny_dataset(make_squares) -> Dataset:
    return make_squares(n_train=512, n_test=256)


class CtrlCAtEpoch(Callback):
    """Ctrl-C as epoch `epoch` starts: the previous epoch's files are all written, and the run
    folder is left as a user's Ctrl-C (or a killed job) leaves it, ready for --resume."""

    def __init__(self, epoch: int) -> None:
        self.epoch = epoch

    def on_epoch_start(self, epoch: int, num_steps: int) -> None:
        if epoch == self.epoch:
            raise KeyboardInterrupt


@pytest.fixture(scope="session")
def ctrl_c_at() -> type[CtrlCAtEpoch]:
    """`callbacks=[ctrl_c_at(3)]` stops a run with Ctrl-C as its epoch 3 starts."""
    return CtrlCAtEpoch
