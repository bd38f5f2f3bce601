"""The device's arithmetic: bf16 autocast and torch.compile, exercised on the CPU.

The GPU runs the same code (tests/train/test_gpu.py); here the CPU's own bf16 autocast and
compiler show that both paths train the same model and write the same run folder.
"""

from __future__ import annotations

import pytest
import torch
from safetensors.torch import load_file
from torch import nn

from dnnexplorer.errors import ConfigError
from dnnexplorer.models import create_model
from dnnexplorer.train import Callback, TrainConfig, run_training
from dnnexplorer.train.device import resolve_precision


class ConvOutputDtype(Callback):
    """Records the dtype the first convolution computes in while training, and its weights'."""

    def on_train_start(self, state) -> None:
        self.dtypes: set[torch.dtype] = set()
        conv = next(m for m in state.model.modules() if isinstance(m, nn.Conv2d))
        conv.register_forward_hook(self.record)
        self.weight_dtype = conv.weight.dtype

    def record(self, module: nn.Module, args: tuple, out: torch.Tensor) -> None:
        if module.training:  # evaluation stays in fp32: the accuracy of the fp32 weights
            self.dtypes.add(out.dtype)


def cnn_config(**overrides) -> TrainConfig:
    base = dict(
        model="cnn", epochs=2, batch_size=64, lr=3e-3, optimizer="adam", device="cpu", seed=1
    )
    return TrainConfig(**{**base, **overrides})


def test_auto_precision_is_fp32_on_the_cpu_and_bf16_by_name() -> None:
    cpu = torch.device("cpu")
    assert resolve_precision("auto", cpu) == "fp32"
    assert resolve_precision("fp32", cpu) == "fp32"
    assert resolve_precision("bf16", cpu) == "bf16"


@pytest.mark.parametrize(
    ("precision", "dtype"), [("bf16", torch.bfloat16), ("auto", torch.float32)]
)
def test_bf16_autocast_computes_in_bf16_and_keeps_fp32_weights(
    tiny_dataset, tmp_path, precision, dtype
) -> None:
    probe = ConvOutputDtype()
    result = run_training(
        cnn_config(precision=precision),
        out_dir=tmp_path / "run",
        dataset=tiny_dataset,
        callbacks=[probe],
    )
    assert probe.dtypes == {dtype}
    assert probe.weight_dtype == torch.float32
    assert result.summary["precision"] == ("bf16" if dtype == torch.bfloat16 else "fp32")
    assert result.summary["test_accuracy"] > 0.9
    saved = load_file(tmp_path / "run" / "model.safetensors")
    assert {t.dtype for t in saved.values()} == {torch.float32}


def test_compiled_training_matches_eager_and_saves_plain_weights(tiny_dataset, tmp_path) -> None:
    eager = run_training(cnn_config(epochs=1), dataset=tiny_dataset)
    compiled = run_training(
        cnn_config(epochs=1, compile=True), out_dir=tmp_path / "run", dataset=tiny_dataset
    )
    expected, actual = eager.model.state_dict(), compiled.model.state_dict()
    assert actual.keys() == expected.keys()
    for name in expected:
        torch.testing.assert_close(actual[name], expected[name], atol=1e-5, rtol=1e-4)
    # The run folder holds the model's own weights (no torch.compile wrapper names in them).
    fresh = create_model("cnn", num_classes=len(tiny_dataset.classes))
    fresh.load_state_dict(load_file(tmp_path / "run" / "model.safetensors"))


def test_bf16_on_a_gpu_without_it_is_refused_before_training(monkeypatch) -> None:
    monkeypatch.setattr(torch.cuda, "is_bf16_supported", lambda *a, **k: False)
    monkeypatch.setattr(torch.cuda, "get_device_name", lambda *a, **k: "Tesla V100")
    with pytest.raises(ConfigError, match="V100 does not support bf16"):
        resolve_precision("bf16", torch.device("cuda", 0))
    assert resolve_precision("auto", torch.device("cuda", 0)) == "fp32"
