"""How many CPU threads a training run uses: measured for the work, not inherited.

PyTorch starts with one thread per core. That is fastest for big convolutions, but for a small
model on small batches the threads can spend more time waiting for each other than computing:
on some CPUs one thread trains softmax regression twice as fast as two. Which is faster depends
on the model, the batch and the CPU, so it is measured: a few training steps of a copy of the
model on a real batch, with one thread and with all of them, taken in turns; the faster wins and
a tie goes to all threads. The run trains with the winner and `summary.json` records it.

The choice is cached per machine, model, batch and precision (in the user cache,
`threads.json`), so that runs with the same flags on the same machine use the same threads: the
last bits of a convolution can change with the number of threads, and a run must be
reproducible. A measurement taken while other programs kept the cores busy (half of them or
more, sampled from /proc/stat just before) decides for that run only and is not cached: all
threads can lose by 10x to one while they fight another program for the cores, which says
nothing about an idle machine. `--threads N` decides instead of measuring, and so does the
OMP_NUM_THREADS environment variable (what a cluster's job scripts and a careful user on a
shared machine set);
GPUs and torchrun's processes keep the threads they were given.
"""

from __future__ import annotations

import copy
import json
import os
import platform
import statistics
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from pathlib import Path

import torch
import torch.nn.functional as F
from torch import nn

from dnnexplorer.fileio import write_json_atomic
from dnnexplorer.train.device import autocast

CACHE_FILE = "threads.json"
WARMUP_STEPS, TIMED_STEPS = 2, 5
MEASURE_BATCH = 1024  # a measuring batch need not be larger: every thread is busy by then


@dataclass(frozen=True)
class ThreadChoice:
    """The threads a run uses and how they were chosen.

    `source`: "asked" (--threads), "measured", "cached" (measured by an earlier run),
    "measured on a busy machine" (for this run only, not cached),
    "one core", "resumed" (those the run trained with before it stopped, from its checkpoint),
    "device" (a GPU trains: CPU threads hardly matter) or "processes" (torchrun set them, one
    share of the cores per process).
    `step_ms`: the median training step by thread count, when measured.
    """

    threads: int
    source: str
    step_ms: dict[int, float] = field(default_factory=dict)

    def to_dict(self) -> dict[str, object]:
        return {"threads": self.threads, "source": self.source, "step_ms": self.step_ms}


def available_cores() -> int:
    """The cores this process may use (a SLURM job's share of a node, not the whole node)."""
    if hasattr(os, "sched_getaffinity"):
        return len(os.sched_getaffinity(0))
    return os.cpu_count() or 1


def threads_from_environment(env: Mapping[str, str] | None = None) -> int | None:
    """The thread count OMP_NUM_THREADS asks for (a whole number >= 1), else None."""
    value = (os.environ if env is None else env).get("OMP_NUM_THREADS", "").strip()
    return int(value) if value.isdigit() and int(value) >= 1 else None


def choose_threads(
    requested: int | None,
    model: nn.Module,
    make_batch: Callable[[], tuple[torch.Tensor, torch.Tensor]],
    precision: str,
    cache_key: str,
    cache_dir: Path | None,
) -> ThreadChoice:
    """The threads to train `model` on CPU batches like `make_batch()` (inputs, labels) with.

    `requested` (a number) wins; otherwise the cached choice for `cache_key`, else a measurement
    (then cached in `cache_dir`, if given). The batch is made only when measuring.
    """
    if requested is not None:
        return ThreadChoice(requested, "asked")
    cores = available_cores()
    if cores == 1:
        return ThreadChoice(1, "one core")
    key = f"{cpu_name()} | {cores} cores | torch {torch.__version__} | {cache_key}"
    cached = _read_cache(cache_dir).get(key)
    if isinstance(cached, dict) and cached.get("threads") in range(1, cores + 1):
        return ThreadChoice(int(cached["threads"]), "cached", _step_ms(cached))
    busy = machine_is_busy(cores)
    step_ms = measure_steps(model, make_batch(), precision, (1, cores))
    best = min(step_ms, key=lambda t: (step_ms[t], -t))  # a tie goes to more threads
    if busy:
        return ThreadChoice(best, "measured on a busy machine", step_ms)
    choice = ThreadChoice(best, "measured", step_ms)
    if cache_dir is not None:
        _write_cache(cache_dir, key, choice)
    return choice


def machine_is_busy(cores: int, seconds: float = 0.1) -> bool:
    """Whether other programs keep half the cores or more busy right now.

    On Linux: the share of CPU time not idle over `seconds` (/proc/stat), while this process
    sleeps, so the work it sees is other programs'. The load average would not do: it lags a
    minute behind, so a run just after another would look busy. Elsewhere: the load average.
    """
    before = _cpu_times()
    if before is None:
        return hasattr(os, "getloadavg") and os.getloadavg()[0] >= cores / 2
    time.sleep(seconds)
    after = _cpu_times()
    if after is None:
        return False
    busy, total = after[0] - before[0], after[1] - before[1]
    return total > 0 and busy / total >= 0.5


def _cpu_times() -> tuple[int, int] | None:
    """(busy, total) CPU time of the whole machine so far, in clock ticks; None off Linux."""
    try:
        fields = Path("/proc/stat").read_text().splitlines()[0].split()
    except (OSError, IndexError):
        return None
    if not fields or fields[0] != "cpu":
        return None
    ticks = [int(x) for x in fields[1:9]]  # user nice system idle iowait irq softirq steal
    idle = ticks[3] + ticks[4]
    return sum(ticks) - idle, sum(ticks)


def measure_steps(
    model: nn.Module,
    batch: tuple[torch.Tensor, torch.Tensor],
    precision: str,
    candidates: tuple[int, ...],
) -> dict[int, float]:
    """Median milliseconds of one training step (forward, backward, update) per thread count.

    The steps train a copy of the model, so the run itself starts untouched; the thread counts
    take turns step by step, so a passing load slows them alike.
    """
    previous = torch.get_num_threads()
    twin = copy.deepcopy(model).train()
    times: dict[int, list[float]] = {t: [] for t in candidates}
    try:
        for step in range(WARMUP_STEPS + TIMED_STEPS):
            for threads in candidates:
                torch.set_num_threads(threads)
                seconds = _one_step(twin, batch, precision)
                if step >= WARMUP_STEPS:
                    times[threads].append(seconds)
    finally:
        torch.set_num_threads(previous)
    return {t: round(1000 * statistics.median(s), 3) for t, s in times.items()}


def _one_step(model: nn.Module, batch: tuple[torch.Tensor, torch.Tensor], precision: str) -> float:
    x, y = batch
    start = time.perf_counter()
    with autocast(precision, x.device):
        logits = model(x)
    F.cross_entropy(logits.float(), y).backward()
    with torch.no_grad():
        for p in model.parameters():
            if p.grad is not None:
                p.sub_(1e-6 * p.grad)  # an update as costly as the optimizer's, nearly a no-op
                p.grad = None
    return time.perf_counter() - start


def cpu_name() -> str:
    """The CPU's model name (from /proc/cpuinfo on Linux), else what `platform` knows."""
    cpuinfo = Path("/proc/cpuinfo")
    if cpuinfo.is_file():
        for line in cpuinfo.read_text(errors="replace").splitlines():
            if line.startswith("model name"):
                return line.split(":", 1)[1].strip()
    return platform.processor() or platform.machine() or "unknown CPU"


def _read_cache(cache_dir: Path | None) -> dict[str, dict]:
    if cache_dir is None:
        return {}
    try:
        data = json.loads((cache_dir / CACHE_FILE).read_text())
    except (OSError, ValueError):
        return {}  # missing or damaged: measure again
    return data if isinstance(data, dict) else {}


def _write_cache(cache_dir: Path, key: str, choice: ThreadChoice) -> None:
    data = _read_cache(cache_dir)
    data[key] = {"threads": choice.threads, "step_ms": choice.step_ms}
    try:
        cache_dir.mkdir(parents=True, exist_ok=True)
        write_json_atomic(cache_dir / CACHE_FILE, data)
    except OSError:
        pass  # a read-only cache only costs a measurement next time


def _step_ms(entry: dict) -> dict[int, float]:
    raw = entry.get("step_ms", {})
    return {int(k): float(v) for k, v in raw.items()} if isinstance(raw, dict) else {}
