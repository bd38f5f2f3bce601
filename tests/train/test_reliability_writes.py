"""A run folder survives a kill at any write, a full disk and a flipped bit, and says so.

The kills are real: `dnnx train` runs in a subprocess (on the tiny squares data) that SIGKILLs
itself at one chosen write, as a SLURM time limit or the OOM killer would; the test then resumes
the run and checks that it ends exactly as an uninterrupted run does.
"""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest
import torch
from safetensors import safe_open
from safetensors.torch import load_file, save_file

from dnnexplorer.errors import RunError
from dnnexplorer.models import create_model
from dnnexplorer.run import Run
from dnnexplorer.train import TrainConfig, evaluate, resume_training, run_training
from dnnexplorer.train.checkpoint import load_checkpoint
from dnnexplorer.train.loop import TrainingState
from dnnexplorer.train.optim import make_optimizer
from dnnexplorer.train.runs import RunFolder

TESTS = Path(__file__).resolve().parents[1]
# `dnnx ARGS` on the squares data, with one fault: python -c DNNX_ON_SQUARES TESTS FAULT N ARGS
DNNX_ON_SQUARES = """
import json, os, resource, signal, sys
from pathlib import Path

tests, fault, n, args = sys.argv[1], sys.argv[2], int(sys.argv[3]), sys.argv[4:]
sys.path.insert(0, tests)
from conftest import squares_dataset

import dnnexplorer.cli.train as train_command
from dnnexplorer import cli
from dnnexplorer.train import loop, runs

# the tiny_dataset fixture's data
train_command.load_with_progress = lambda name, data_dir: squares_dataset(512, 256)
run = Path(args[args.index("--out") + 1]).resolve()


def die():
    os.kill(os.getpid(), signal.SIGKILL)


if fault == "kill-before-rename":  # the n-th file written into the run folder stays a temp file
    real_replace, renames = os.replace, []

    def replace(src, dst):
        if Path(dst).resolve().parent == run:
            renames.append(dst)
            if len(renames) == n:
                die()
        real_replace(src, dst)

    os.replace = replace
elif fault == "kill-mid-metrics":  # the n-th line of metrics.jsonl is cut off halfway
    real_append, lines = runs.append_jsonl, []

    def append(path, obj):
        lines.append(obj)
        if len(lines) == n:
            with open(path, "a") as f:
                f.write(json.dumps(obj)[:30])
            die()
        real_append(path, obj)

    runs.append_jsonl = append
elif fault == "file-size-limit":  # from epoch n on no file may grow past 1000 bytes (ulimit -f)
    real_epoch = loop.train_one_epoch

    def epoch(state, data, config, number, *rest):
        if number == n:
            resource.setrlimit(resource.RLIMIT_FSIZE, (1000, resource.RLIM_INFINITY))
        return real_epoch(state, data, config, number, *rest)

    loop.train_one_epoch = epoch
cli.main(args)
"""


def dnnx_with_fault(fault: str, n: int, *args: object) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "-c", DNNX_ON_SQUARES, str(TESTS), fault, str(n), *map(str, args)],
        capture_output=True,
        text=True,
        timeout=300,
    )


def train_args(out: Path, *extra: object) -> list[object]:
    return ["train", "--model", "softmax", "--epochs", "2", "--batch-size", "64", "--threads",
            "1", "--seed", "1", "--device", "cpu", "--out", out, *extra]  # fmt: skip


def temporaries(folder: Path) -> list[str]:
    return sorted(p.name for p in folder.iterdir() if p.name.endswith(".tmp"))


def metric_epochs(folder: Path) -> list[int]:
    return [m["epoch"] for m in RunFolder(folder).read_metrics()]


def assert_same_weights(path: Path, model: torch.nn.Module) -> None:
    saved = load_file(str(path))
    expected = model.state_dict()
    assert saved.keys() == expected.keys()
    for name, tensor in saved.items():
        assert torch.equal(tensor, expected[name]), name


def assert_summary_is_the_weights_accuracy(folder: Path, dataset) -> None:
    """What summary.json says is what `dnnx eval` measures on model.safetensors."""
    model = Run.load(folder).model
    measured = evaluate(model, dataset.test_images, dataset.test_labels, dataset.mean, dataset.std)
    summary = RunFolder(folder).read_summary()
    assert summary is not None and summary["complete"]
    assert summary["test_accuracy"] == measured.accuracy


# The writes of a 2-epoch run, in order: 1 config.json, 2 checkpoint (epoch 1), 3 weights (1),
# metrics line 1, 4 checkpoint (2), 5 weights (2), metrics line 2, 6 summary.json.
KILLS = [("kill-before-rename", n) for n in range(2, 7)] + [("kill-mid-metrics", 2)]


@pytest.mark.parametrize(("fault", "n"), KILLS, ids=[f"{f}-{n}" for f, n in KILLS])
def test_a_kill_at_any_write_then_resume_ends_as_an_uninterrupted_run(
    tiny_dataset, tmp_path, fault, n
) -> None:
    run = tmp_path / "run"
    killed = dnnx_with_fault(fault, n, *train_args(run))
    assert killed.returncode == -9, killed.stderr
    assert not (run / "summary.json").exists()
    if fault == "kill-before-rename":
        assert temporaries(run), "the kill should leave the interrupted write's temp file"

    resumed = resume_training(run, dataset=tiny_dataset)
    assert temporaries(run) == []
    assert metric_epochs(run) == [1, 2]
    assert resumed.summary["epochs"] == 2
    straight = run_training(RunFolder(run).read_config(), dataset=tiny_dataset)
    assert_same_weights(run / "model.safetensors", straight.model)
    assert_summary_is_the_weights_accuracy(run, tiny_dataset)
    assert resumed.summary["test_accuracy"] == straight.summary["test_accuracy"]


@pytest.mark.parametrize("n", [3, 4], ids=["kill-at-weights", "kill-at-summary"])
def test_a_resumed_run_that_had_reached_its_target_trains_no_further(
    tiny_dataset, tmp_path, n
) -> None:
    """Epoch 1 reaches --target-acc; the kill comes before the run could say so."""
    run = tmp_path / "run"
    args = train_args(run, "--target-acc", "0.5", "--recipe", "default")
    killed = dnnx_with_fault("kill-before-rename", n, *args)
    assert killed.returncode == -9, killed.stderr

    resumed = resume_training(run, dataset=tiny_dataset)
    assert resumed.summary["epochs"] == 1 and resumed.summary["target_reached"]
    assert metric_epochs(run) == [1]
    straight = run_training(RunFolder(run).read_config(), dataset=tiny_dataset)
    assert straight.summary["epochs"] == 1
    assert_same_weights(run / "model.safetensors", straight.model)
    assert_summary_is_the_weights_accuracy(run, tiny_dataset)


def test_a_kill_before_config_is_written_leaves_a_folder_a_new_run_can_use(
    tiny_dataset, tmp_path
) -> None:
    run = tmp_path / "run"
    killed = dnnx_with_fault("kill-before-rename", 1, *train_args(run))
    assert killed.returncode == -9, killed.stderr
    assert [name.startswith(".config.json.") for name in temporaries(run)] == [True]

    config = TrainConfig(model="softmax", epochs=1, batch_size=64, device="cpu", threads=1)
    run_training(config, out_dir=run, dataset=tiny_dataset)
    assert temporaries(run) == []
    assert metric_epochs(run) == [1]


def test_a_full_disk_is_one_line_keeps_the_last_checkpoint_and_no_temp_file(
    tiny_dataset, tmp_path
) -> None:
    """`ulimit -f`: writes past the limit fail (EFBIG), as writes to a full disk do (ENOSPC)."""
    run = tmp_path / "run"
    result = dnnx_with_fault("file-size-limit", 2, *train_args(run))
    assert result.returncode == 1, result.stderr
    assert "Traceback" not in result.stderr
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("dnnx: error: ")
    assert "File too large" in lines[0] and str(run / "checkpoint.safetensors") in lines[0]
    assert "--resume" in lines[0]
    assert temporaries(run) == []

    state = fresh_state(RunFolder(run).read_config())
    load_checkpoint(state, run / "checkpoint.safetensors")
    assert state.epoch == 1
    assert resume_training(run, dataset=tiny_dataset).summary["epochs"] == 2


def fresh_state(config: TrainConfig) -> TrainingState:
    model = create_model(config.model, num_classes=10)
    return TrainingState(model=model, optimizer=make_optimizer(model, config), scheduler=None)


def softmax(**overrides) -> TrainConfig:
    base = dict(model="softmax", epochs=2, batch_size=64, device="cpu", threads=1, seed=1)
    return TrainConfig(**{**base, **overrides})


def test_resume_without_a_checkpoint_writes_each_epoch_once(
    ctrl_c_at, tiny_dataset, tmp_path
) -> None:
    run = tmp_path / "run"
    with pytest.raises(KeyboardInterrupt):
        run_training(softmax(), out_dir=run, dataset=tiny_dataset, callbacks=[ctrl_c_at(2)])
    (run / "checkpoint.safetensors").unlink()  # e.g. removed to save space: start again
    resume_training(run, dataset=tiny_dataset)
    assert metric_epochs(run) == [1, 2]


def test_overwrite_removes_what_dnnx_wrote_and_keeps_other_files(
    ctrl_c_at, tiny_dataset, tmp_path
) -> None:
    run = tmp_path / "run"
    run_training(softmax(epochs=1), out_dir=run, dataset=tiny_dataset)
    for name in ("confusion.png", "errors.png", ".model.safetensors.x1y2z3.tmp", "model.onnx"):
        (run / name).write_bytes(b"from the old run")  # eval's figures, a killed write, export
    (run / "tb").mkdir()
    (run / "tb" / "events.out.tfevents.1").write_bytes(b"old curves")  # --tensorboard
    (run / "notes.txt").write_text("mine")
    with pytest.raises(KeyboardInterrupt):
        run_training(
            softmax(seed=2), out_dir=run, dataset=tiny_dataset, overwrite=True,
            callbacks=[ctrl_c_at(1)],
        )  # fmt: skip
    assert sorted(p.name for p in run.iterdir()) == ["config.json", "model.json", "notes.txt"]


def flip_last_bit(path: Path) -> None:
    """One bit of the last tensor's data changes, as a failing disk or memory might do."""
    data = bytearray(path.read_bytes())
    data[-1] ^= 1
    path.write_bytes(bytes(data))


def test_a_flipped_bit_in_checkpoint_or_weights_is_a_one_line_error(
    ctrl_c_at, tiny_dataset, tmp_path
) -> None:
    run = tmp_path / "run"
    with pytest.raises(KeyboardInterrupt):
        run_training(softmax(), out_dir=run, dataset=tiny_dataset, callbacks=[ctrl_c_at(2)])
    flip_last_bit(run / "model.safetensors")
    with pytest.raises(RunError, match=r"model\.safetensors: .*checksum") as error:
        Run.load(run)
    assert "\n" not in str(error.value)
    flip_last_bit(run / "checkpoint.safetensors")
    with pytest.raises(RunError, match=r"checkpoint\.safetensors: damaged checkpoint.*checksum"):
        resume_training(run, dataset=tiny_dataset)


def without_checksum(path: Path) -> None:
    """Rewrite `path` as dnnexplorer wrote it before checksums: the same tensors and metadata."""
    with safe_open(str(path), framework="pt") as f:
        metadata = {k: v for k, v in (f.metadata() or {}).items() if k != "sha256"}
    save_file(load_file(str(path)), str(path), metadata=metadata)


def test_files_written_without_a_checksum_still_load(ctrl_c_at, tiny_dataset, tmp_path) -> None:
    run = tmp_path / "run"
    with pytest.raises(KeyboardInterrupt):
        run_training(softmax(), out_dir=run, dataset=tiny_dataset, callbacks=[ctrl_c_at(2)])
    for name in ("model.safetensors", "checkpoint.safetensors"):
        without_checksum(run / name)
    Run.load(run)
    assert resume_training(run, dataset=tiny_dataset).summary["epochs"] == 2


def test_weights_and_checkpoint_get_the_usual_file_mode(tiny_dataset, tmp_path) -> None:
    run = tmp_path / "run"
    run_training(softmax(epochs=1), out_dir=run, dataset=tiny_dataset)
    umask = os.umask(0)
    os.umask(umask)
    for name in ("model.safetensors", "checkpoint.safetensors", "config.json"):
        assert (run / name).stat().st_mode & 0o777 == 0o666 & ~umask, name
