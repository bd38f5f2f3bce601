"""`dnnx bench`: time to target accuracy for each model, against a conventional pipeline.

Runs the harness of dnnexplorer.bench, prints one line per finished run, and writes the JSON
results and the markdown table. A `--quick` run only proves the harness works; it writes to
separate files unless --out/--markdown are given, so it never replaces published results.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import click

from dnnexplorer.bench.cases import CASE_NAMES
from dnnexplorer.bench.report import write_report
from dnnexplorer.bench.runner import BenchOptions, run_benchmark
from dnnexplorer.train.config import DEVICES

DEFAULT_JSON = Path("benchmarks/results.json")
DEFAULT_MARKDOWN = Path("BENCHMARKS.md")
QUICK_JSON = Path("benchmarks/results-quick.json")
QUICK_MARKDOWN = Path("benchmarks/BENCHMARKS-quick.md")


def default_path(path: Path, device: str) -> Path:
    """Where results go by default: CPU results in `path`, others beside it (results-cuda.json),
    so that timing a GPU never replaces the published CPU table."""
    return path if device == "cpu" else path.with_stem(f"{path.stem}-{device}")


def run_line(case: str, seed: int, run: dict[str, Any]) -> str:
    """One finished run, as a line of the terminal log."""
    if "error" in run:
        last = run["error"].splitlines()[-1] if run["error"] else "failed"
        return f"{case} seed {seed}: error: {last}"
    verdict = "reached" if run["target_reached"] else "NOT reached"
    return (
        f"{case} seed {seed}: {run['test_accuracy']:.2%} ({verdict}) after {run['epochs']} "
        f"epoch(s): {run['train_seconds']:.2f} s training, {run['wall_seconds']:.2f} s wall, "
        f"{run['examples_per_second']:,.0f} ex/s, {run['peak_memory_mib']:,.0f} MiB"
    )


@click.command(context_settings={"help_option_names": ["-h", "--help"]})
@click.option(
    "--cases",
    default=",".join(CASE_NAMES),
    show_default=True,
    help="Comma-separated cases to run, in order.",
)
@click.option(
    "--seeds",
    type=int,
    help="Seeds per case (0, 1, ...), one run each [default: 20; --quick 1].",
)
@click.option("--quick", is_flag=True, help="Tiny budget: proves the harness runs, in a minute.")
@click.option(
    "--out",
    type=click.Path(dir_okay=False, path_type=Path),
    help=f"JSON results [default: {DEFAULT_JSON}; with --quick {QUICK_JSON}; "
    "-DEVICE added to the name for a device other than cpu].",
)
@click.option(
    "--markdown",
    type=click.Path(dir_okay=False, path_type=Path),
    help=f"Markdown table [default: {DEFAULT_MARKDOWN}; with --quick {QUICK_MARKDOWN}].",
)
@click.option(
    "--threads",
    type=int,
    help="torch threads for every case [default: torch's, all cores]; 1 on a busy machine.",
)
@click.option(
    "--device",
    type=click.Choice(DEVICES),
    default="cpu",
    show_default=True,
    help="Where every case trains (the knobs are tuned for the CPU; cuda times a GPU).",
)
@click.option(
    "--data-dir", type=click.Path(file_okay=False, path_type=Path), help="Folder holding mnist/."
)
def bench(
    cases: str,
    seeds: int | None,
    quick: bool,
    out: Path | None,
    markdown: Path | None,
    threads: int | None,
    device: str,
    data_dir: Path | None,
) -> None:
    """Measure time to target test accuracy: softmax 92%, mlp 98%, cnn 99%, best 99.5%.

    Each case runs once per seed, each run a fresh process timed from its launch (imports and
    data loading included); a case's record counts only if its mean accuracy over the seeds
    reaches the target. A public fast recipe (public) and the conventional per-sample pipeline
    (reference) are trained to 99% in the same run.
    """
    names = tuple(name.strip() for name in cases.split(",") if name.strip())
    if seeds is None:
        seeds = 1 if quick else 20
    options = BenchOptions(
        cases=names,
        seeds=seeds,
        quick=quick,
        data_dir=data_dir,
        threads=threads,
        device=device,
    )
    out = out or default_path(QUICK_JSON if quick else DEFAULT_JSON, device)
    markdown = markdown or default_path(QUICK_MARKDOWN if quick else DEFAULT_MARKDOWN, device)
    report = run_benchmark(options, on_run=lambda *a: click.echo(run_line(*a)))
    write_report(report, out, markdown)
    click.echo(f"results -> {out}, table -> {markdown}")
    failed = [c["name"] for c in report["cases"] if c["errors"]]
    if failed:
        raise click.ClickException(f"case(s) failed: {', '.join(failed)} (see {markdown})")
