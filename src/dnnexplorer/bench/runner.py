"""The benchmark run: every case once per seed, each in its own process; then statistics and floors.

`run_benchmark(options)` measures the CPU's matmul throughput once, runs each case with seeds
0 .. `seeds`-1 (one fresh process each: `python -m dnnexplorer.bench.worker`), and summarizes
each case as the strongest speed-run projects do: the mean test accuracy over the seeds with its
spread, the share of seeds that reached the target, and the median of every time with its range.
A case meets its goal only if the MEAN accuracy reaches the target (one lucky seed is not a
record) and the median training time is under the goal. It adds each case's arithmetic floor
(floor.py) and the speed-up over the reference pipeline, and returns the whole report as one
JSON-ready dict. It prints nothing: progress goes to the optional `on_run(case, seed, run)`
listener.
"""

from __future__ import annotations

import dataclasses
import json
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import torch

from dnnexplorer.bench.cases import (
    CASE_NAMES,
    PUBLIC,
    REFERENCE,
    BenchCase,
    get_case,
    on_device,
)
from dnnexplorer.bench.floor import (
    MATMUL_SIZE,
    Floor,
    matmul_flops_per_second,
    training_flops_per_example,
)
from dnnexplorer.bench.report import machine_info
from dnnexplorer.errors import ConfigError
from dnnexplorer.train.device import choose_device, resolve_precision

RunListener = Callable[[str, int, dict[str, Any]], None]
MEDIAN_FIELDS = (
    "wall_seconds",
    "train_seconds",
    "epochs",
    "test_accuracy",
    "examples_per_second",
    "peak_memory_mib",
    "startup_seconds",
    "import_seconds",
    "data_seconds",
    "other_seconds",
)
GPU_MATMUL_SIZE = 8192  # a 1024 product is over before a GPU's launch overhead is amortized
ERROR_TAIL = 2000  # characters of a failed case's stderr kept in the report


@dataclass(frozen=True)
class BenchOptions:
    """What to run: which cases, how many seeds each, quick or full, where the data is."""

    cases: tuple[str, ...] = CASE_NAMES
    seeds: int = 20
    quick: bool = False
    data_dir: Path | None = None
    threads: int | None = None  # torch threads for every case (None: each case's own setting)
    device: str = "cpu"  # where every case trains: cpu (what the cases are tuned for), cuda, ...
    timeout_seconds: float = 1800.0  # per case process

    def __post_init__(self) -> None:
        if self.seeds < 1:
            raise ConfigError(f"--seeds must be at least 1, got {self.seeds}")
        if self.threads is not None and self.threads < 1:
            raise ConfigError(f"--threads must be at least 1, got {self.threads}")
        if not self.cases:
            raise ConfigError("--cases: name at least one case")
        choose_device(self.device)  # ConfigError for an unknown or absent device
        for name in self.cases:
            get_case(name)  # ConfigError for an unknown name


def run_benchmark(options: BenchOptions, on_run: RunListener | None = None) -> dict[str, Any]:
    """Run every case of `options` and return the report (see report.py for its layout)."""
    device = choose_device(options.device)
    started, machine = time.time(), machine_info(device)  # the load average before we add to it
    floor_fields, throughput = measure_throughput(device, 0.3 if options.quick else 1.0)
    cases = []
    for name in options.cases:
        case = on_device(get_case(name, options.quick), device.type)
        if options.threads is not None:
            case = dataclasses.replace(case, threads=options.threads)
        runs = []
        for seed in range(min(options.seeds, case.max_seeds or options.seeds)):
            run = run_case_process(case, options, seed)
            runs.append(run)
            if on_run is not None:
                on_run(name, seed, run)
        cases.append(summarize_case(case, runs, throughput))
    add_speedups(cases)
    return {
        "machine": machine,
        "settings": {
            "cases": list(options.cases),
            "seeds": options.seeds,
            "quick": options.quick,
            "threads": options.threads,
            "device": str(device),
        },
        **floor_fields,
        "cases": cases,
        "benchmark_seconds": round(time.time() - started, 1),
    }


def measure_throughput(device: torch.device, seconds: float) -> tuple[dict[str, Any], float]:
    """The matmul throughput (FLOP/s) the floors are computed from, and its report fields.

    On a CPU: float32, with all threads and with one; the floor uses the better (on a busy
    machine all threads can lose to one). On a GPU: in the dtype the cases compute in there
    (bf16 autocast where supported), on products large enough to keep the GPU busy.
    """
    if device.type == "cpu":
        matmul = {"device": "cpu", "dtype": "float32", "size": MATMUL_SIZE}
        all_threads = matmul_flops_per_second(seconds)
        one_thread: float | None = matmul_flops_per_second(seconds, threads=1)
        throughput = max(all_threads, one_thread)
    else:
        bf16 = resolve_precision("auto", device) == "bf16"
        dtype = torch.bfloat16 if bf16 else torch.float32
        dtype_name = str(dtype).removeprefix("torch.")
        matmul = {"device": str(device), "dtype": dtype_name, "size": GPU_MATMUL_SIZE}
        all_threads = throughput = matmul_flops_per_second(
            seconds, size=GPU_MATMUL_SIZE, device=device, dtype=dtype
        )
        one_thread = None
    fields = {
        "matmul": matmul,
        "matmul_gflops": round(all_threads / 1e9, 1),
        "matmul_gflops_one_thread": round(one_thread / 1e9, 1) if one_thread else None,
        "floor_gflops": round(throughput / 1e9, 1),
    }
    return fields, throughput


def run_case_process(case: BenchCase, options: BenchOptions, seed: int) -> dict[str, Any]:
    """Run `case` from `seed` in a fresh Python process; its measurements, or its error."""
    with tempfile.TemporaryDirectory(prefix="dnnx-bench-") as tmp:
        out = Path(tmp) / "result.json"
        command = [sys.executable, "-m", "dnnexplorer.bench.worker", case.name, str(out)]
        if options.quick:
            command.append("--quick")
        if options.data_dir is not None:
            command += ["--data-dir", str(options.data_dir)]
        if case.threads is not None:
            command += ["--threads", str(case.threads)]
        command += ["--device", case.device, "--seed", str(seed)]
        launched = time.time()
        command += ["--launched-at", repr(launched)]
        try:
            done = subprocess.run(
                command,
                capture_output=True,
                text=True,
                timeout=options.timeout_seconds,
            )
        except subprocess.TimeoutExpired:
            return {"error": f"timed out after {options.timeout_seconds:.0f} s"}
        if done.returncode != 0 or not out.is_file():
            return {"error": (done.stderr or done.stdout).strip()[-ERROR_TAIL:]}
        return json.loads(out.read_text())


def summarize_case(
    case: BenchCase, runs: Sequence[dict[str, Any]], flops_per_second: float
) -> dict[str, Any]:
    """Accuracy over the seeds (mean, spread, share reaching the target), medians and ranges of
    the times over every seed's run, the floor, and whether the case meets its goal."""
    good = [r for r in runs if "error" not in r]
    reached = [r for r in good if r.get("target_reached")]
    median = {
        k: statistics.median(r[k] for r in good) for k in MEDIAN_FIELDS if good and k in good[0]
    }
    summary: dict[str, Any] = {
        "name": case.name,
        "model": case.model,
        "target_acc": case.target_acc,
        "goal_train_seconds": case.goal_train_seconds,
        "settings": case.describe(),
        "seeds": len(runs),
        "reached": len(reached),
        "errors": [r["error"] for r in runs if "error" in r],
        "median": median,
        "runs": list(runs),
    }
    if good:
        accuracies = [r["test_accuracy"] for r in good]
        summary["accuracy"] = spread(accuracies)
        summary["range"] = {
            k: [min(r[k] for r in good), max(r[k] for r in good)]
            for k in ("train_seconds", "wall_seconds")
        }
        floor = Floor(
            flops_per_example=_flops_per_example(case),
            examples_per_epoch=good[0]["train_examples"],
            epochs=median["epochs"],
            flops_per_second=flops_per_second,
        )
        summary["floor"] = floor.to_dict(median["train_seconds"])
        goal = case.goal_train_seconds
        mean_reaches = summary["accuracy"]["mean"] >= case.target_acc
        summary["meets_goal"] = mean_reaches and (goal is None or median["train_seconds"] <= goal)
    return summary


def spread(values: Sequence[float]) -> dict[str, float]:
    """Mean, sample standard deviation (0 for one value), min and max of `values`."""
    return {
        "mean": statistics.fmean(values),
        "sd": statistics.stdev(values) if len(values) > 1 else 0.0,
        "min": min(values),
        "max": max(values),
    }


def _flops_per_example(case: BenchCase) -> int:
    from dnnexplorer.bench.public import TwoConvNet
    from dnnexplorer.bench.reference import ClassicNet
    from dnnexplorer.models import create_model

    if case.config is None:
        pipeline_model = TwoConvNet() if case.name == PUBLIC else ClassicNet()
        return training_flops_per_example(pipeline_model)
    torch.manual_seed(0)
    config = case.config.resolved()  # the options the recipe brings (channels, convs) count too
    model = create_model(config.model, **config.model_options)
    return training_flops_per_example(model)


def add_speedups(cases: list[dict[str, Any]]) -> None:
    """Reference wall (and training) seconds over each case's, for cases at least as demanding.

    Only a case whose target is at least the reference's, and whose mean accuracy over the seeds
    reaches it, is compared.
    """
    reference = next((c for c in cases if c["name"] == REFERENCE), None)
    if reference is None or not reference["reached"]:
        return
    ref = reference["median"]
    for case in cases:
        mean = case.get("accuracy", {}).get("mean", 0.0)
        if case is reference or mean < case["target_acc"]:
            continue
        if not case["settings"].get("stop_at_target", True):
            continue  # trained to the end of its schedule: not a race
        if case["target_acc"] < reference["target_acc"]:
            continue
        mine = case["median"]
        case["speedup_vs_reference"] = {
            "wall": round(ref["wall_seconds"] / mine["wall_seconds"], 1),
            "train": round(ref["train_seconds"] / max(mine["train_seconds"], 1e-9), 1),
        }
