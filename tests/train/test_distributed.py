"""Data-parallel training with torchrun: 2 gloo processes on this CPU = 1 process, same batch,
even when killed and resumed."""

from __future__ import annotations

import json
import os
import re
import signal
import subprocess
import sys
import time
from pathlib import Path

import torch
from safetensors.torch import load_file

from dnnexplorer.data.batches import shard_indices
from dnnexplorer.train.distributed import SINGLE, World, world_from_env


def test_world_from_torchrun_environment() -> None:
    assert world_from_env({}) == SINGLE
    world = world_from_env({"RANK": "3", "WORLD_SIZE": "4", "LOCAL_RANK": "1"})
    assert world == World(rank=3, size=4, local_rank=1)
    assert world.distributed and not world.is_main


def test_shards_are_disjoint_and_cover_the_batch() -> None:
    batch = torch.randperm(100)
    shards = [shard_indices(batch, r, 3) for r in range(3)]
    assert sorted(torch.cat(shards).tolist()) == sorted(batch.tolist())


TORCHRUN = [sys.executable, "-m", "torch.distributed.run", "--standalone", "--nproc-per-node", "2"]
# torchrun picks a free port, frees it, then binds it again: on a busy machine another process
# can take it in between. That launcher race is retried; no other failure is.
PORT_TAKEN = re.compile(r"EADDRINUSE|address already in use", re.IGNORECASE)


def torchrun(*args: str, retries: int = 2) -> subprocess.CompletedProcess:
    """`torchrun --standalone --nproc-per-node 2 -m dnnexplorer ARGS`, one thread per process."""
    for _ in range(retries + 1):
        done = subprocess.run(
            [*TORCHRUN, "-m", "dnnexplorer", *args],
            capture_output=True,
            text=True,
            timeout=600,
            env={**os.environ, "OMP_NUM_THREADS": "1"},
        )
        if done.returncode == 0 or not PORT_TAKEN.search(done.stderr):
            return done
    return done


def kill_processes_mentioning(text: str) -> None:
    """SIGKILL every process whose command line contains `text`, as a crashed node loses them."""
    for entry in Path("/proc").iterdir():
        try:
            if entry.name.isdigit() and text in (entry / "cmdline").read_text():
                os.kill(int(entry.name), signal.SIGKILL)
        except (OSError, ProcessLookupError):
            pass  # gone already, or not ours to read


def test_two_processes_killed_and_resumed_match_one_process(data_root, tmp_path) -> None:
    """2 gloo processes, killed (as a SLURM time limit kills a job) after their first epoch and
    resumed under torchrun, end with the weights of 1 uninterrupted process, same global batch.

    A model without dropout, smooth (tanh) and trained by plain SGD: the only difference is the
    order of floating-point sums (~1e-7). ReLU's kink or Adam's 1/sqrt(v) can magnify such
    rounding differences over an epoch, which says nothing about the method.
    """
    args = "train --model mlp --hidden 64 --activation tanh --epochs 4 --batch-size 256 --lr 0.1"
    args = [*args.split(), "--optimizer", "sgd", "--schedule", "constant", "--device", "cpu"]
    args += ["--json", "--data-dir", str(data_root)]
    one, two = tmp_path / "one", tmp_path / "two"
    single = subprocess.run(
        [sys.executable, "-m", "dnnexplorer", *args, "--out", str(one)],
        capture_output=True,
        text=True,
        timeout=600,
    )
    assert single.returncode == 0, single.stderr

    launch = subprocess.Popen(
        [*TORCHRUN, "-m", "dnnexplorer", *args, "--out", str(two)],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
        env={**os.environ, "OMP_NUM_THREADS": "1"},
    )
    metrics, deadline = two / "metrics.jsonl", time.time() + 300
    while time.time() < deadline and not (metrics.is_file() and metrics.read_text().strip()):
        time.sleep(0.01)
    kill_processes_mentioning(str(two))  # the launcher and its workers (own sessions)
    launch.wait()
    assert metrics.is_file(), "the distributed run never finished an epoch"
    assert not (two / "summary.json").exists(), "the run finished before it could be killed"

    resumed = torchrun("train", "--resume", str(two), "--data-dir", str(data_root), "--json")
    assert resumed.returncode == 0, resumed.stderr
    json_lines = [line for line in resumed.stdout.splitlines() if line.startswith("{")]
    assert len(json_lines) == 1  # only rank 0 speaks
    summary = json.loads(json_lines[0])
    assert summary["world_size"] == 2 and summary["epochs"] == 4 and summary["complete"]
    assert len(metrics.read_text().splitlines()) == 4

    expected = load_file(str(one / "model.safetensors"))
    actual = load_file(str(two / "model.safetensors"))
    for key in expected:
        torch.testing.assert_close(actual[key], expected[key], rtol=1e-4, atol=1e-5)
    one_acc = json.loads((one / "summary.json").read_text())["test_accuracy"]
    assert abs(summary["test_accuracy"] - one_acc) < 0.002
