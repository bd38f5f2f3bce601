"""On a CUDA GPU: the same training path, data resident on the device, bf16 autocast.

Skipped on machines without a GPU (such as CI); the CPU suite covers the same code otherwise.
"""

from __future__ import annotations

import pytest
import torch

from dnnexplorer.train import Callback, TrainConfig, run_training
from dnnexplorer.train.device import choose_device

pytestmark = pytest.mark.skipif(not torch.cuda.is_available(), reason="needs a CUDA GPU")


class DeviceProbe(Callback):
    def on_train_start(self, state) -> None:
        self.device = next(state.model.parameters()).device


def test_auto_picks_the_gpu() -> None:
    assert choose_device("auto").type == "cuda"


@pytest.mark.parametrize("precision", ["bf16", "fp32"])
def test_training_on_the_gpu_learns(tiny_dataset, tmp_path, precision) -> None:
    probe = DeviceProbe()
    config = TrainConfig(
        model="cnn",
        epochs=3,
        batch_size=64,
        lr=3e-3,
        optimizer="adam",
        schedule="onecycle",
        device="cuda",
        precision=precision,
    )
    result = run_training(config, out_dir=tmp_path / "run", dataset=tiny_dataset, callbacks=[probe])
    assert probe.device.type == "cuda"
    assert result.summary["device"].startswith("cuda")
    assert result.summary["test_accuracy"] > 0.9
    assert next(result.model.parameters()).device.type == "cpu"  # handed back on the CPU
