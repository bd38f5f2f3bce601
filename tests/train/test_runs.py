"""The run folder: files, checkpoints, resume equivalence, no silent overwrite, atomic writes."""

from __future__ import annotations

import dataclasses
import json

import pytest
import torch

from dnnexplorer.errors import RunError, TrainingDiverged
from dnnexplorer.fileio import atomic_path
from dnnexplorer.run import Run
from dnnexplorer.train import Callback, TrainConfig, resume_training, run_training
from dnnexplorer.train import checkpoint as checkpoint_module
from dnnexplorer.train.checkpoint import load_checkpoint
from dnnexplorer.train.runs import RunFolder


def config(**overrides) -> TrainConfig:
    base = dict(
        model="cnn",
        epochs=2,
        batch_size=64,
        lr=0.003,
        optimizer="adam",
        schedule="onecycle",
        device="cpu",
        seed=3,
    )
    base.update(overrides)
    return TrainConfig(**base)


def test_run_folder_holds_config_metrics_weights_summary(tiny_dataset, tmp_path) -> None:
    out = tmp_path / "run"
    result = run_training(config(), out_dir=out, dataset=tiny_dataset)
    names = {p.name for p in out.iterdir()}
    assert {
        "config.json",
        "metrics.jsonl",
        "model.safetensors",
        "checkpoint.safetensors",
        "summary.json",
    } <= names
    assert not [n for n in names if n.endswith(".tmp")]
    lines = [json.loads(x) for x in (out / "metrics.jsonl").read_text().splitlines()]
    assert [m["epoch"] for m in lines] == [1, 2]
    assert {
        "epoch",
        "train_loss",
        "train_accuracy",
        "test_loss",
        "test_accuracy",
        "seconds",
    } <= set(lines[0])
    summary = json.loads((out / "summary.json").read_text())
    for key in (
        "model",
        "dataset",
        "params",
        "epochs",
        "test_accuracy",
        "train_seconds",
        "examples_per_second",
        "device",
        "seed",
    ):
        assert key in summary
    assert summary["test_accuracy"] == result.history[-1]["test_accuracy"]
    # The weights file is plain safetensors and rebuilds the same model.
    loaded = Run.load(out)
    model, cfg = loaded.model, loaded.config
    assert cfg == config().resolved()
    for p, q in zip(model.parameters(), result.model.parameters(), strict=True):
        assert torch.equal(p, q)


def test_a_resumed_run_keeps_the_threads_it_trained_with(
    ctrl_c_at, tiny_dataset, tmp_path, monkeypatch
) -> None:
    """The checkpoint records the measured threads; the resume trains with them, unmeasured."""
    from dnnexplorer.train import session
    from dnnexplorer.train.threads import ThreadChoice

    monkeypatch.delenv("OMP_NUM_THREADS", raising=False)
    monkeypatch.setattr(session, "choose_threads", lambda *a: ThreadChoice(1, "measured"))
    with pytest.raises(KeyboardInterrupt):
        run_training(
            config(epochs=2), out_dir=tmp_path / "b", dataset=tiny_dataset, callbacks=[ctrl_c_at(2)]
        )

    def measuring(*args):
        raise AssertionError("a resumed run measured its threads again")

    monkeypatch.setattr(session, "choose_threads", measuring)
    resumed = resume_training(tmp_path / "b", dataset=tiny_dataset)
    assert resumed.summary["threads"] == 1
    assert resumed.summary["threads_chosen"]["source"] == "resumed"


def test_resume_after_interrupt_gives_the_same_weights(ctrl_c_at, tiny_dataset, tmp_path) -> None:
    # One thread for both runs: measured, the choice could differ on a busy machine, and with it
    # the last bits of the sums (a resumed run keeps its own threads: the test below).
    straight = run_training(
        config(epochs=3, threads=1), out_dir=tmp_path / "a", dataset=tiny_dataset
    )
    with pytest.raises(KeyboardInterrupt):
        run_training(
            config(epochs=3, threads=1),
            out_dir=tmp_path / "b",
            dataset=tiny_dataset,
            callbacks=[ctrl_c_at(2)],
        )
    assert len(RunFolder(tmp_path / "b").read_metrics()) == 1
    resumed = resume_training(tmp_path / "b", dataset=tiny_dataset)
    for p, q in zip(straight.model.parameters(), resumed.model.parameters(), strict=True):
        assert torch.equal(p, q)
    timing = ("seconds", "examples_per_second")
    strip = lambda h: [{k: v for k, v in m.items() if k not in timing} for m in h]  # noqa: E731
    assert strip(resumed.history) == strip(straight.history)
    assert len(RunFolder(tmp_path / "b").read_metrics()) == 3
    with pytest.raises(RunError, match="already complete"):
        resume_training(tmp_path / "b", dataset=tiny_dataset)


def test_a_resumed_run_keeps_the_model_options_its_weights_were_trained_with(tmp_path) -> None:
    """A run of `best` on clothes saved before its everyday recipe brought wider channels:
    resuming must rebuild the model it trained, not today's recipe's."""
    older = config(model="best", dataset="fashion-mnist", recipe="default", betas=(0.9, 0.999))
    with RunFolder.create(tmp_path / "old") as run:
        run.write_config(older)
    assert older.model_options == {} and older.resolved().model_options  # today: wider
    again = RunFolder.open(tmp_path / "old").read_resumable_config()
    assert again == dataclasses.replace(older.resolved(), model_options={})


def test_existing_run_folder_is_never_overwritten_silently(tiny_dataset, tmp_path) -> None:
    out = tmp_path / "run"
    run_training(config(epochs=1), out_dir=out, dataset=tiny_dataset)
    before = (out / "model.safetensors").read_bytes()
    with pytest.raises(RunError, match="--resume"):
        run_training(config(epochs=1, seed=9), out_dir=out, dataset=tiny_dataset)
    assert (out / "model.safetensors").read_bytes() == before
    run_training(config(epochs=1, seed=9), out_dir=out, dataset=tiny_dataset, overwrite=True)
    assert (out / "model.safetensors").read_bytes() != before


def test_crash_while_writing_checkpoint_keeps_the_previous_one(
    tiny_dataset, tmp_path, monkeypatch
) -> None:
    out = tmp_path / "run"
    calls = {"n": 0}

    def write_then_die(path, data):
        calls["n"] += 1
        with atomic_path(path) as tmp:
            if calls["n"] == 3:  # the second epoch's checkpoint: write half of it, then crash
                tmp.write_bytes(data[: len(data) // 2])
                raise OSError(28, "No space left on device")
            tmp.write_bytes(data)

    monkeypatch.setattr(checkpoint_module, "write_bytes_atomic", write_then_die)
    with pytest.raises(OSError, match="No space"):
        run_training(config(epochs=2), out_dir=out, dataset=tiny_dataset)
    assert not [p for p in out.iterdir() if p.name.endswith(".tmp")]
    # The epoch-1 checkpoint is intact and resumable.
    monkeypatch.undo()
    resumed = resume_training(out, dataset=tiny_dataset)
    assert resumed.summary["epochs"] == 2


def test_divergence_keeps_the_last_good_checkpoint(tiny_dataset, tmp_path) -> None:
    class PoisonWeightsAtEpoch2(Callback):
        """Stands in for an exploding update: a weight becomes inf when epoch 2 starts."""

        def __init__(self, model_holder: list) -> None:
            self.model_holder = model_holder

        def on_epoch_end(self, state, metrics) -> None:
            self.model_holder.append(state.model)

        def on_epoch_start(self, epoch: int, num_steps: int) -> None:
            if epoch == 2:
                with torch.no_grad():
                    next(self.model_holder[0].parameters())[0, 0] = float("inf")

    out = tmp_path / "run"
    with pytest.raises(TrainingDiverged, match="epoch 2 step 1;"):
        run_training(
            config(model="softmax", optimizer="sgd", schedule="constant", lr=0.1),
            out_dir=out,
            dataset=tiny_dataset,
            callbacks=[PoisonWeightsAtEpoch2([])],
        )
    state = run_training(
        config(model="softmax", optimizer="sgd", schedule="constant", lr=0.1, epochs=1),
        dataset=tiny_dataset,
    )
    from dnnexplorer.train.loop import TrainingState

    fresh = TrainingState(
        model=state.model,
        optimizer=torch.optim.SGD(state.model.parameters(), lr=0.1),
        scheduler=None,
    )
    load_checkpoint(fresh, out / "checkpoint.safetensors")
    assert fresh.epoch == 1
    assert all(torch.isfinite(p).all() for p in fresh.model.parameters())


def test_damaged_checkpoint_is_a_clear_error(ctrl_c_at, tiny_dataset, tmp_path) -> None:
    out = tmp_path / "run"
    with pytest.raises(KeyboardInterrupt):
        run_training(config(epochs=2), out_dir=out, dataset=tiny_dataset, callbacks=[ctrl_c_at(2)])
    (out / "checkpoint.safetensors").write_bytes(b"\x00garbage")
    with pytest.raises(RunError, match=r"checkpoint\.safetensors: damaged checkpoint"):
        resume_training(out, dataset=tiny_dataset)
