"""Block order in `best`: conv -> pool -> batch norm -> ReLU against the textbook conv -> batch
norm -> ReLU -> pool, one epoch each of the command a user types, side by side.

Runs `dnnx train --model best --epochs 1` (and the same with `--option pool_first=false`) in
fresh processes, interleaved so that a change in the machine's load hits both alike, on all
cores (the thread count is fixed, so only the block order differs). Prints the median training
seconds with their spread, the ratio of the medians and each run's test accuracy.

    DNNX_DATA=/path/to/data python benchmarks/block_order.py [--repeats 3]

Measure on an idle machine (`uptime`); the load average is printed with the table.
"""

from __future__ import annotations

import argparse
import os
import statistics

from threads import one_epoch  # benchmarks/threads.py: one epoch in a fresh process

from dnnexplorer.train.threads import available_cores

ORDERS = {
    "conv-pool-BN-ReLU (best)": ["--model", "best"],
    "conv-BN-ReLU-pool (textbook)": ["--model", "best", "--option", "pool_first=false"],
}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeats", type=int, default=3)
    args = parser.parse_args()
    cores = available_cores()
    seconds: dict[str, list[float]] = {name: [] for name in ORDERS}
    accuracy: dict[str, list[float]] = {name: [] for name in ORDERS}
    for _ in range(args.repeats):
        for name, model_args in ORDERS.items():
            summary = one_epoch(model_args, cores)
            seconds[name].append(summary["train_seconds"])
            accuracy[name].append(summary["test_accuracy"])
    print(f"{cores} threads, load average {os.getloadavg()[0]:.2f}; medians of {args.repeats} runs")
    print("| block order | training s, one epoch | examples/s | test accuracy after it |")
    print("| --- | ---: | ---: | --- |")
    for name in ORDERS:
        runs = seconds[name]
        median = statistics.median(runs)
        accs = ", ".join(f"{a:.2%}" for a in accuracy[name])
        print(
            f"| {name} | {median:.2f} ({min(runs):.2f}-{max(runs):.2f}) | {60000 / median:,.0f} "
            f"| {accs} |"
        )
    slow, fast = (statistics.median(seconds[name]) for name in reversed(ORDERS))
    print(f"pooling first: {slow / fast:.2f}x faster (python benchmarks/block_order.py)")


if __name__ == "__main__":
    main()
