"""Threads per model: one epoch of `dnnx train` with 1 thread, all threads, and the measured choice.

For each model of the ladder (its recipe's batch size), runs the command a user types,
`dnnx train --model M --epochs 1 --json`, in a fresh process, with `--threads 1`, with
`--threads ALL` (every core this process may use) and without `--threads` (the choice measured
by dnnexplorer.train.threads, each time from an empty cache, so the measurement is part of the
time). The runs are interleaved, repeated, and the table shows the median training seconds,
the spread (min-max) and, for the measured choice, which count it picked.

    DNNX_DATA=/path/to/data python benchmarks/threads.py [--repeats 3] [--models softmax,mlp]

Measure on an idle machine (`uptime`); the load average is printed with the table.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile
from collections import Counter

from dnnexplorer.train.threads import available_cores

MODELS = {
    "softmax": ["--model", "softmax"],
    "mlp": ["--model", "mlp"],
    "cnn": ["--model", "cnn"],
    "lenet5 (classic)": ["--model", "lenet5"],
    "lenet5 (modern)": ["--model", "lenet5", "--variant", "modern"],
    "best": ["--model", "best"],
}


def one_epoch(model_args: list[str], threads: int | None) -> dict:
    """One epoch in a fresh process, with an empty thread cache; its summary."""
    with tempfile.TemporaryDirectory() as cache, tempfile.TemporaryDirectory() as out:
        env = {**os.environ, "XDG_CACHE_HOME": cache}
        env.pop("OMP_NUM_THREADS", None)
        args = [sys.executable, "-m", "dnnexplorer", "train", *model_args, "--epochs", "1"]
        args += ["--json", "--out", f"{out}/run"]
        if threads is not None:
            args += ["--threads", str(threads)]
        done = subprocess.run(args, capture_output=True, text=True, env=env, check=True)
        return json.loads(done.stdout.strip().splitlines()[-1])


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--models", default=",".join(MODELS))
    args = parser.parse_args()
    cores = available_cores()
    names = args.models.split(",")
    settings = {"1 thread": 1, f"{cores} threads": cores, "measured": None}
    seconds = {(m, s): [] for m in names for s in settings}
    picks: dict[str, Counter] = {m: Counter() for m in names}
    for _ in range(args.repeats):
        for name in names:
            for setting, threads in settings.items():
                summary = one_epoch(MODELS[name], threads)
                seconds[name, setting].append(summary["train_seconds"])
                if threads is None:
                    picks[name][summary["threads"]] += 1
    print(f"{cores} cores, load average {os.getloadavg()[0]:.2f}; medians of {args.repeats} runs")
    print("| model | " + " | ".join(settings) + " | measured picked |")
    print("| --- |" + " ---: |" * len(settings) + " --- |")
    for name in names:
        cells = []
        for setting in settings:
            runs = seconds[name, setting]
            cells.append(f"{statistics.median(runs):.2f} s ({min(runs):.2f}-{max(runs):.2f})")
        picked = ", ".join(f"{t} thread(s) x{n}" for t, n in sorted(picks[name].items()))
        print(f"| {name} | " + " | ".join(cells) + f" | {picked} |")
    print("(training seconds of one epoch; python benchmarks/threads.py)")


if __name__ == "__main__":
    main()
