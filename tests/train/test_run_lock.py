"""One writer per run folder: a second `dnnx train --out`/`--resume` on it is refused, readers
are not blocked, and a killed writer leaves no lock behind."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from dnnexplorer.errors import RunError
from dnnexplorer.fileio import LOCK_FILE, FolderLock
from dnnexplorer.serve.catalog import DatasetStore, RunCatalog
from dnnexplorer.train import TrainConfig, resume_training, run_training
from dnnexplorer.train.runs import RunFolder

BUSY = "another dnnx process is writing this run"


def config(**overrides) -> TrainConfig:
    base = dict(model="softmax", epochs=2, batch_size=64, lr=0.1, device="cpu", threads=1)
    return TrainConfig(**{**base, **overrides})


def test_the_lock_belongs_to_one_holder_at_a_time(tmp_path) -> None:
    first, second = FolderLock(tmp_path), FolderLock(tmp_path)
    assert first.acquire()
    assert not second.acquire()  # another open file: refused, even in this process
    assert second.holder() == os.getpid()
    first.release()
    assert not (tmp_path / LOCK_FILE).exists()
    assert second.acquire()
    second.release()


def test_a_second_writer_is_refused_and_readers_are_not(ctrl_c_at, tiny_dataset, tmp_path) -> None:
    out = tmp_path / "run"
    with pytest.raises(KeyboardInterrupt):
        run_training(config(), out_dir=out, dataset=tiny_dataset, callbacks=[ctrl_c_at(2)])
    before = {p.name: p.read_bytes() for p in out.iterdir()}
    with RunFolder.open(out, write=True):
        for write in (
            lambda: RunFolder.create(out, overwrite=True),
            lambda: RunFolder.open(out, write=True),
            lambda: resume_training(out, dataset=tiny_dataset),
            lambda: run_training(config(), out_dir=out, overwrite=True, dataset=tiny_dataset),
        ):
            with pytest.raises(RunError, match=f"{out}: {BUSY} \\(pid {os.getpid()}\\)"):
                write()
        assert RunFolder.open(out).read_config() == config().resolved()  # readers go on
        catalog = RunCatalog(tmp_path, DatasetStore())
        assert catalog.names() == ["run"] and catalog.summary_row("run")["epochs"] == 1
        assert {p.name: p.read_bytes() for p in out.iterdir() if p.name != LOCK_FILE} == before
    assert resume_training(out, dataset=tiny_dataset).summary["epochs"] == 2
    assert not (out / LOCK_FILE).exists()  # released when training ended


def test_a_lock_file_alone_is_no_lock_and_no_content(tiny_dataset, tmp_path) -> None:
    """What a killed writer leaves: the OS dropped its lock, and the file holds nothing."""
    out = tmp_path / "run"
    out.mkdir()
    (out / LOCK_FILE).write_text("999999\n")
    result = run_training(config(), out_dir=out, dataset=tiny_dataset)
    assert result.summary["epochs"] == 2
    with pytest.raises(RunError, match="already holds files"):
        run_training(config(), out_dir=out, dataset=tiny_dataset)
    assert not (out / LOCK_FILE).exists()


# -- two real processes ------------------------------------------------------------------


def start(log: Path, *args: object) -> subprocess.Popen:
    with open(log, "w") as out:
        return subprocess.Popen(
            [sys.executable, "-m", "dnnexplorer", *map(str, args)],
            stdout=out,
            stderr=subprocess.STDOUT,
        )


def race(tmp_path: Path, *commands: list[object]) -> tuple[subprocess.Popen, str, int]:
    """Start the commands together; when one exits, kill the others (they train for long).

    Returns the one that exited, its output, and the pid of the one still running.
    """
    logs = [tmp_path / f"log{i}" for i in range(len(commands))]
    procs = [start(log, *args) for log, args in zip(logs, commands, strict=True)]
    try:
        while all(p.poll() is None for p in procs):
            time.sleep(0.05)
    finally:
        running = [p for p in procs if p.poll() is None]
        for p in running:
            p.send_signal(signal.SIGKILL)
            p.wait()
    done = [i for i, p in enumerate(procs) if p not in running]
    assert len(done) == 1 and len(running) == 1, "both ended: neither was refused"
    return procs[done[0]], logs[done[0]].read_text(), running[0].pid


def epochs_written(out: Path) -> list[int]:
    text = (out / "metrics.jsonl").read_text() if (out / "metrics.jsonl").exists() else ""
    return [json.loads(line)["epoch"] for line in text.splitlines()]


LONG_RUN = ["--model", "softmax", "--epochs", "40", "--batch-size", "64", "--threads", "1"]


@pytest.mark.slow
def test_two_trains_into_one_folder_one_is_refused(data_root, tmp_path) -> None:
    out = tmp_path / "run"
    train = ["train", *LONG_RUN, "--out", out, "--data-dir", data_root]
    loser, output, winner_pid = race(tmp_path, [*train, "--seed", "1"], [*train, "--seed", "2"])
    assert loser.returncode == 2
    assert output.splitlines()[-1] == f"dnnx: error: {out}: {BUSY} (pid {winner_pid}); " + (
        "wait for it to end, or stop it"
    )
    assert "Traceback" not in output
    # The folder is the winner's alone: its config, and each epoch once.
    winner_seed = 2 if loser.args[-1] == "1" else 1
    assert json.loads((out / "config.json").read_text())["seed"] == winner_seed
    epochs = epochs_written(out)
    assert epochs == list(range(1, len(epochs) + 1))
    # The winner was killed while it held the lock: the OS released it.
    run = RunFolder.open(out, write=True)  # raises if still locked
    run.release()


@pytest.mark.slow
def test_two_resumes_of_one_run_one_is_refused(
    ctrl_c_at, data_root, tiny_dataset, tmp_path
) -> None:
    out = tmp_path / "run"
    killed = TrainConfig(model="softmax", epochs=40, batch_size=64, threads=1, device="cpu")
    with pytest.raises(KeyboardInterrupt):
        run_training(killed, out_dir=out, dataset=tiny_dataset, callbacks=[ctrl_c_at(2)])
    resume = ["train", "--resume", out, "--data-dir", data_root]
    loser, output, winner_pid = race(tmp_path, resume, resume)
    assert loser.returncode == 2 and "Traceback" not in output
    assert f"dnnx: error: {out}: {BUSY} (pid {winner_pid})" in output.splitlines()[-1]
    epochs = epochs_written(out)
    assert epochs == list(range(1, len(epochs) + 1))
