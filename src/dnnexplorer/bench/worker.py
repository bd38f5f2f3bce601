"""One benchmark run in a fresh process: `python -m dnnexplorer.bench.worker CASE OUT.json`.

A user waits from the moment they start a command: the interpreter starting, `import torch`,
reading the dataset, then training. So each case runs in a process of its own, and its wall time
is counted from the moment the parent launched it (`--launched-at`, a time.time() stamp) to the
end of the epoch that reached the target. The result, with its parts (start-up, imports, data,
training) and the process's peak memory, is written as JSON to OUT.json.

Model cases train with the project's one loop (`run_training`); the reference and public cases
have their own loops (reference.py, public.py).
"""

from __future__ import annotations

import time

READY = time.time()  # the interpreter is up; nothing heavy imported yet

import dataclasses  # noqa: E402  (imported after the stamp above, on purpose)
import resource  # noqa: E402
import sys  # noqa: E402
from pathlib import Path  # noqa: E402
from typing import Any  # noqa: E402

import click  # noqa: E402


def peak_memory_mib() -> float:
    """The process's peak resident memory (ru_maxrss: KiB on Linux, bytes on macOS)."""
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    return peak / (1024 * 1024) if sys.platform == "darwin" else peak / 1024


def run_case(
    name: str,
    quick: bool,
    data_dir: Path | None,
    launched_at: float,
    threads: int | None = None,
    device: str = "cpu",
    seed: int = 0,
) -> dict[str, Any]:
    """Run case `name` from `seed` on `device` in this process and return its measurements.

    `threads` sets torch's thread count (None: model cases choose as `dnnx train` does, the
    pipelines keep torch's default, all cores).
    """
    # Heavy imports are timed: they are part of what a user waits for.
    import torch

    from dnnexplorer.bench.cases import PUBLIC, get_case, limit_dataset, on_device
    from dnnexplorer.bench.public import run_public
    from dnnexplorer.bench.reference import run_reference
    from dnnexplorer.data import load_dataset
    from dnnexplorer.train import run_training

    imported = time.time()
    case = on_device(get_case(name, quick), device).with_seed(seed)
    if threads is not None:
        torch.set_num_threads(threads)
    dataset = limit_dataset(load_dataset(case.dataset, data_dir, download=False), case)
    loaded = time.time()
    if case.config is None:
        pipeline = run_public if name == PUBLIC else run_reference
        result = pipeline(
            dataset,
            case.target_acc,
            case.max_epochs,
            case.budget_seconds,
            seed=seed,
            device=case.device,
        )
    else:
        config = dataclasses.replace(case.config, threads=threads or case.config.threads)
        trained = run_training(config, dataset=dataset)
        result = _model_result(trained.summary, trained.history)
        # a case judged at the end of its schedule (a published table) has no target to stop at
        result["target_reached"] = result["test_accuracy"] >= case.target_acc
    finished = time.time()
    return result | {
        "case": name,
        "seed": seed,
        "wall_seconds": finished - launched_at,
        "startup_seconds": READY - launched_at,
        "import_seconds": imported - READY,
        "data_seconds": loaded - imported,
        # evaluations, building the model and optimizer: the wall time not spent training
        "other_seconds": finished - loaded - result["train_seconds"],
        "train_examples": len(dataset.train_labels),
        "threads": torch.get_num_threads(),
        "peak_memory_mib": peak_memory_mib(),
    }


def _model_result(s: dict[str, Any], history: list[dict[str, Any]]) -> dict[str, Any]:
    """The fields of a model run's summary (and its per-epoch history) that the report uses."""
    return {
        "epochs": s["epochs"],
        "test_accuracy": s["test_accuracy"],
        "target_reached": s["target_reached"],
        "train_seconds": s["train_seconds"],
        "examples_per_second": s["examples_per_second"],
        "device": s["device"],
        "history": [
            {k: m[k] for k in ("epoch", "test_accuracy", "seconds", "lr")} for m in history
        ],
    }


@click.command()
@click.argument("name")
@click.argument("out", type=click.Path(path_type=Path))
@click.option("--quick", is_flag=True, help="The tiny version of the case.")
@click.option("--data-dir", type=click.Path(path_type=Path), help="Folder holding mnist/.")
@click.option("--launched-at", type=float, help="time.time() when the parent launched us.")
@click.option("--threads", type=int, help="torch threads [default: torch's, all cores].")
@click.option("--device", default="cpu", show_default=True, help="cpu, cuda, mps or auto.")
@click.option("--seed", type=int, default=0, show_default=True, help="The run's seed.")
def main(
    name: str,
    out: Path,
    quick: bool,
    data_dir: Path | None,
    launched_at: float | None,
    threads: int | None,
    device: str,
    seed: int,
) -> None:
    """Run one benchmark case and write its measurements to OUT (JSON)."""
    from dnnexplorer.fileio import write_json_atomic

    started = launched_at if launched_at is not None else READY
    result = run_case(name, quick, data_dir, started, threads, device, seed)
    write_json_atomic(out, result)


if __name__ == "__main__":
    main()
