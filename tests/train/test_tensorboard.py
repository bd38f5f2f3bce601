"""`dnnx train --tensorboard`: the event files TensorBoard (and MLflow, ...) read, read back."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from tensorboard.backend.event_processing.event_accumulator import EventAccumulator

from dnnexplorer.train import TrainConfig, run_training


def read_events(folder: Path) -> EventAccumulator:
    events = EventAccumulator(str(folder), size_guidance={"scalars": 0})
    events.Reload()
    return events


def test_scalars_and_hyperparameters_read_back(tmp_path: Path, squares) -> None:
    config = TrainConfig(
        model="mlp",
        model_options={"hidden": [16]},
        epochs=3,
        batch_size=64,
        lr=0.01,
        optimizer="adam",
        tensorboard=True,
        threads=1,
    )
    result = run_training(config, out_dir=tmp_path / "run", dataset=squares)
    events = read_events(tmp_path / "run" / "tb")
    metrics = [json.loads(line) for line in (tmp_path / "run" / "metrics.jsonl").open()]
    tags = set(events.Tags()["scalars"])
    assert {"loss/train", "loss/test", "accuracy/train", "accuracy/test", "learning_rate"} <= tags
    test_acc = events.Scalars("accuracy/test")
    assert [e.step for e in test_acc] == [1, 2, 3]
    assert [e.value for e in test_acc] == pytest.approx([m["test_accuracy"] for m in metrics])
    assert test_acc[-1].value == pytest.approx(result.summary["test_accuracy"])
    # the HParams tab: the run's settings and the metrics it compares runs by
    plugin = events.PluginTagToContent("hparams")
    assert "_hparams_/experiment" in plugin and "_hparams_/session_start_info" in plugin
    start = plugin["_hparams_/session_start_info"].decode("latin-1")
    assert "optimizer" in start and "adam" in start and "model_options.hidden" in start


def test_resume_appends_to_the_same_curves(tmp_path: Path, squares) -> None:
    """Stopped after epoch 1 of 2 (config says 2, no summary yet), then resumed: one curve."""
    from dnnexplorer.train import resume_training

    config = TrainConfig(
        model="softmax", epochs=1, batch_size=64, schedule="constant", tensorboard=True, threads=1
    )
    run_training(config, out_dir=tmp_path / "r", dataset=squares)
    saved = json.loads((tmp_path / "r" / "config.json").read_text())
    (tmp_path / "r" / "config.json").write_text(json.dumps({**saved, "epochs": 2}))
    (tmp_path / "r" / "summary.json").unlink()
    resume_training(tmp_path / "r", dataset=squares)
    steps = [e.step for e in read_events(tmp_path / "r" / "tb").Scalars("accuracy/test")]
    assert steps == [1, 2]


def test_no_tensorboard_folder_unless_asked(tmp_path: Path, squares) -> None:
    run_training(
        TrainConfig(model="softmax", epochs=1, threads=1), out_dir=tmp_path / "r", dataset=squares
    )
    assert not (tmp_path / "r" / "tb").exists()
