"""--val-size: validation chooses the epoch whose weights the run keeps and decides
--target-acc; the test set is evaluated once, at the end, on the kept weights."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
import torch

from dnnexplorer.models import create_model
from dnnexplorer.train import TrainConfig, resume_training, run_training
from dnnexplorer.train.checkpoint import load_weights
from dnnexplorer.train.loop import Callback, TrainingState, evaluate


class SpoilEpoch(Callback):
    """After the last step of epoch `epoch`, replace the weights with noise: that epoch, and
    the ones after it, evaluate worse than the one before (training that went wrong)."""

    def __init__(self, epoch: int) -> None:
        self.epoch = epoch
        self.state: TrainingState | None = None

    def on_train_start(self, state: TrainingState) -> None:
        self.state = state

    def on_step_end(self, epoch: int, step: int, loss: float, correct: int, size: int) -> None:
        if epoch == self.epoch and self.state is not None:
            with torch.no_grad():
                for p in self.state.model.parameters():
                    p.normal_(0, 5)


def config(**overrides) -> TrainConfig:
    base = dict(
        model="softmax", epochs=3, batch_size=64, lr=0.05, optimizer="sgd", schedule="constant",
        val_size=128, device="cpu", threads=1, seed=3,
    )  # fmt: skip
    return TrainConfig(**{**base, **overrides})


def kept_model(run: Path) -> torch.nn.Module:
    """The model the run keeps: model.safetensors."""
    model = create_model("softmax")
    load_weights(model, run / "model.safetensors")
    return model.eval()


def lines(run: Path) -> list[dict]:
    return [json.loads(line) for line in (run / "metrics.jsonl").open()]


def test_the_best_validation_epoch_is_kept_and_tested_once(tiny_dataset, tmp_path: Path) -> None:
    run = tmp_path / "run"
    result = run_training(config(), out_dir=run, dataset=tiny_dataset, callbacks=[SpoilEpoch(3)])
    epochs = lines(run)
    assert all("test_accuracy" not in m and "val_accuracy" in m for m in epochs)  # no peeking
    val = [m["val_accuracy"] for m in epochs]
    assert val[2] < max(val[:2])  # the spoiled last epoch is worse
    best = 1 + val.index(max(val))
    summary = json.loads((run / "summary.json").read_text())
    assert summary["selected_epoch"] == best and summary["val_accuracy"] == max(val)

    kept = kept_model(run)
    d = tiny_dataset
    test = evaluate(kept, d.test_images, d.test_labels, d.mean, d.std)
    assert summary["test_accuracy"] == pytest.approx(test.accuracy)
    assert result.summary["test_accuracy"] == summary["test_accuracy"]
    assert test.accuracy > 0.5  # the kept model is the good one, not the spoiled last epoch


def test_target_acc_stops_on_validation_accuracy(tiny_dataset, tmp_path: Path) -> None:
    run_training(config(epochs=8, target_acc=0.5), out_dir=tmp_path / "run", dataset=tiny_dataset)
    epochs = lines(tmp_path / "run")
    assert epochs[-1]["val_accuracy"] >= 0.5
    assert all(m["val_accuracy"] < 0.5 for m in epochs[:-1]) and len(epochs) < 8
    summary = json.loads((tmp_path / "run" / "summary.json").read_text())
    assert summary["target_reached"] and summary["test_accuracy"] is not None


def test_a_resumed_run_keeps_the_best_epoch_from_before_the_kill(
    ctrl_c_at, tiny_dataset, tmp_path
) -> None:
    """The best weights travel in the checkpoint: after a kill following a worse epoch, the
    resumed run still keeps the earlier best epoch, as the uninterrupted run does."""
    whole = tmp_path / "whole"
    run_training(config(epochs=4), out_dir=whole, dataset=tiny_dataset, callbacks=[SpoilEpoch(3)])
    cut = tmp_path / "cut"
    with pytest.raises(KeyboardInterrupt):
        run_training(
            config(epochs=4), out_dir=cut, dataset=tiny_dataset,
            callbacks=[SpoilEpoch(3), ctrl_c_at(4)],
        )  # fmt: skip
    resume_training(cut, dataset=tiny_dataset)
    timeless = [{k: v for k, v in m.items() if "second" not in k} for m in lines(cut)]
    assert timeless == [{k: v for k, v in m.items() if "second" not in k} for m in lines(whole)]
    a, b = (json.loads((r / "summary.json").read_text()) for r in (whole, cut))
    assert a["selected_epoch"] == b["selected_epoch"] < 3
    assert a["test_accuracy"] == b["test_accuracy"]
    model_a, model_b = kept_model(whole), kept_model(cut)
    for (name, wa), wb in zip(
        model_a.state_dict().items(), model_b.state_dict().values(), strict=True
    ):
        assert torch.equal(wa, wb), name


def test_without_validation_every_epoch_is_tested(tiny_dataset, tmp_path: Path) -> None:
    run_training(config(val_size=0, epochs=2), out_dir=tmp_path / "run", dataset=tiny_dataset)
    assert all("test_accuracy" in m and "val_accuracy" not in m for m in lines(tmp_path / "run"))
    summary = json.loads((tmp_path / "run" / "summary.json").read_text())
    assert summary["selected_epoch"] is None
