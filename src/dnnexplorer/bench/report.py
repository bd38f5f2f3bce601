"""The benchmark report: the machine it ran on, a JSON file, and a markdown table (BENCHMARKS.md).

Times on a CPU mean little without the CPU, its core count, the torch version, the date and how
busy the machine was, so every report starts with them.
"""

from __future__ import annotations

import os
import platform
import time
from pathlib import Path
from typing import Any

import torch

from dnnexplorer.fileio import write_bytes_atomic, write_json_atomic
from dnnexplorer.train.threads import cpu_name


def machine_info(device: torch.device | None = None) -> dict[str, Any]:
    """CPU (and GPU), cores, torch/Python versions, date and the load average at the start."""
    load = os.getloadavg()[0] if hasattr(os, "getloadavg") else None
    gpu = None
    if device is not None and device.type == "cuda":
        gpu = f"{torch.cuda.get_device_name(device)} (CUDA {torch.version.cuda})"
    return {
        "cpu": cpu_name(),
        "gpu": gpu,
        "cores": os.cpu_count(),
        "torch_threads": torch.get_num_threads(),
        "torch": torch.__version__,
        "python": platform.python_version(),
        "system": f"{platform.system()} {platform.machine()}",
        "date": time.strftime("%Y-%m-%d %H:%M:%S %z"),
        "load_average": round(load, 2) if load is not None else None,
    }


def write_report(
    report: dict[str, Any], json_path: Path | None, markdown_path: Path | None
) -> None:
    """Write the JSON and/or markdown forms of `report` (each atomically)."""
    if json_path is not None:
        write_json_atomic(json_path, report)
    if markdown_path is not None:
        write_bytes_atomic(markdown_path, render_markdown(report).encode())


def render_markdown(report: dict[str, Any]) -> str:
    """BENCHMARKS.md: the machine, the time-to-accuracy table, where wall time goes, the floor."""
    lines = [*_header(report), "", "## Time to target test accuracy", "", *_main_table(report)]
    lines += ["", *_speedup_lines(report)]
    lines += ["", "## Where the wall time goes (medians, seconds)", "", *_parts_table(report)]
    return "\n".join(lines) + "\n"


def _header(report: dict[str, Any]) -> list[str]:
    m, s = report["machine"], report["settings"]
    lines = [
        "# Benchmarks: time to target accuracy on MNIST and Fashion-MNIST",
        "",
        "Measured by `dnnx bench` (see benchmarks/README.md for what is measured and how).",
    ]
    if s["quick"]:
        lines += ["", "**Quick run (`--quick`): tiny budget, slices of the data. Not a result.**"]
    return [
        *lines,
        "",
        f"- CPU: {m['cpu']}, {m['cores']} logical cores (torch threads: {m['torch_threads']})",
        *([f"- GPU: {m['gpu']}; every case trains on it"] if m.get("gpu") else []),
        f"- torch {m['torch']}, Python {m['python']}, {m['system']}",
        f"- date: {m['date']}; load average when the run started: {m['load_average']}",
        *_throughput_lines(report),
        f"- seeds 0-{s['seeds'] - 1} for every case (fewer where the case says so), one fresh "
        "process per seed; accuracy: mean ± sample standard deviation over the seeds, and the "
        "lowest and highest; times: median over the seeds, and the range",
    ]


def _throughput_lines(report: dict[str, Any]) -> list[str]:
    matmul = report.get("matmul", {"dtype": "float32", "size": 1024})  # older reports: the CPU's
    size, dtype = matmul["size"], matmul["dtype"]
    measured = f"- {dtype} matmul throughput ({size}x{size} `torch.mm`, median): "
    if report["matmul_gflops_one_thread"] is None:
        return [measured + f"{report['matmul_gflops']} GFLOP/s; the floor uses it"]
    return [
        measured + f"{report['matmul_gflops']} GFLOP/s with all threads, "
        f"{report['matmul_gflops_one_thread']} with one; the floor uses the larger, "
        f"{report['floor_gflops']} GFLOP/s"
    ]


MAIN_COLUMNS = (
    "case",
    "model",
    "target",
    "seeds reaching it",
    "test acc, mean ± sd",
    "lowest - highest",
    "epochs",
    "training s",
    "goal",
    "wall s",
    "examples/s",
    "peak MiB",
    "floor s",
    "actual / floor",
)


def _main_table(report: dict[str, Any]) -> list[str]:
    rows = [_row(MAIN_COLUMNS), _row(["---"] * len(MAIN_COLUMNS))]
    for c in report["cases"]:
        m, floor, acc = c["median"], c.get("floor", {}), c.get("accuracy")
        times = c.get("range", {})
        goal = c["goal_train_seconds"]
        mark = " ✓" if c.get("meets_goal") else " ✗"
        rows.append(
            _row(
                [
                    c["name"],
                    c["model"],
                    percent(c["target_acc"]),
                    f"{c['reached']}/{c['seeds']}",
                    f"{acc['mean']:.3%} ± {acc['sd']:.3%}" if acc else "",
                    f"{acc['min']:.2%} - {acc['max']:.2%}" if acc else "",
                    _num(m.get("epochs"), "{:g}"),
                    _with_range(m.get("train_seconds"), times.get("train_seconds")),
                    "" if goal is None else f"≤ {goal:g} s" + mark,
                    _with_range(m.get("wall_seconds"), times.get("wall_seconds")),
                    _num(m.get("examples_per_second"), "{:,.0f}"),
                    _num(m.get("peak_memory_mib"), "{:,.0f}"),
                    _num(floor.get("floor_seconds"), "{:.3f}"),
                    _num(floor.get("actual_over_floor"), "{:g}x"),
                ]
            )
        )
    return rows


def _speedup_lines(report: dict[str, Any]) -> list[str]:
    lines = [
        "wall s: from the launch of the case's process to the end of the epoch that reached the "
        "target (interpreter start, imports, data loading and evaluations included); training s: "
        "the training epochs alone. floor s: training FLOPs (3 x 2 x multiply-adds of the Linear "
        "and Conv2d layers, per example) x examples x epochs / matmul throughput. goal: ✓ when "
        "the mean accuracy over the seeds reaches the target and the median training time is "
        "within the goal."
    ]
    for c in report["cases"]:
        speedup = c.get("speedup_vs_reference")
        if speedup:
            lines += [
                "",
                f"**{c['name']}** reaches {percent(c['target_acc'])} {speedup['wall']}x faster "
                f"end to end than the reference pipeline ({speedup['train']}x in training time).",
            ]
    for c in report["cases"]:
        note = c["settings"].get("note")
        if note:
            lines += ["", f"**{c['name']}**: {note}"]
    for c in report["cases"]:
        for error in c["errors"]:
            lines += ["", f"**{c['name']} failed:** `{error.splitlines()[-1] if error else ''}`"]
    return lines


# other: evaluations after each epoch, building the model and optimizer, the run summary
PART_COLUMNS = ("case", "start-up", "imports", "data", "training", "other", "wall")


def _parts_table(report: dict[str, Any]) -> list[str]:
    rows = [_row(PART_COLUMNS), _row(["---"] * len(PART_COLUMNS))]
    for c in report["cases"]:
        m = c["median"]
        if "wall_seconds" not in m:
            continue
        keys = ("startup", "import", "data", "train", "other", "wall")
        rows.append(_row([c["name"], *(f"{m[k + '_seconds']:.2f}" for k in keys)]))
    return rows


def percent(fraction: float) -> str:
    """0.92 -> "92%", 0.9905 -> "99.05%": as many digits as the target has."""
    return f"{round(fraction * 100, 4):g}%"


def _with_range(median: float | None, low_high: list[float] | None) -> str:
    """ "2.31 (2.20-2.52)": the median and the range over the seeds."""
    if median is None:
        return ""
    if not low_high:
        return f"{median:.2f}"
    return f"{median:.2f} ({low_high[0]:.2f}-{low_high[1]:.2f})"


def _row(cells: Any) -> str:
    return "| " + " | ".join(str(c) for c in cells) + " |"


def _num(value: float | None, fmt: str) -> str:
    return "" if value is None else fmt.format(value)
