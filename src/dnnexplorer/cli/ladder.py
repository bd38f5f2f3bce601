"""`dnnx ladder`: the workshop's ladder of models trained one after the other, in one table.

`dnnx ladder --paper` trains the rungs that LeCun et al. (1998) also measured and sets our test
error beside theirs (their Figure 9, the MNIST comparison, without distortions or deskewing).
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import click
from rich.console import Console
from rich.table import Table

from dnnexplorer.cli.data import load_with_progress
from dnnexplorer.cli.progress import make_progress
from dnnexplorer.errors import ConfigError
from dnnexplorer.train import TrainConfig, run_training


@dataclass(frozen=True)
class Rung:
    """One model of a ladder: a registered model with its options."""

    model: str
    options: dict[str, Any]


# The workshop's story of gradually enhancing the accuracy: name in the table -> model.
LADDER: dict[str, Rung] = {
    "softmax": Rung("softmax", {}),
    "mlp": Rung("mlp", {}),
    "cnn": Rung("cnn", {}),
    "lenet5": Rung("lenet5", {"variant": "classic"}),
    "lenet5-modern": Rung("lenet5", {"variant": "modern"}),
    "best": Rung("best", {}),
}


@dataclass(frozen=True)
class PaperRow:
    """One line of LeCun et al.'s MNIST comparison, and our rung that matches it (if any)."""

    paper_name: str
    paper_error: float  # test error, as a fraction
    rung: str | None  # our rung's name; None where we have no such model
    rung_model: Rung | None = None


# Y. LeCun, L. Bottou, Y. Bengio and P. Haffner (1998), Figure 9: test error on MNIST of
# classifiers trained on the undistorted, undeskewed images (HU: hidden units).
PAPER: tuple[PaperRow, ...] = (
    PaperRow("linear classifier", 0.120, "softmax", Rung("softmax", {})),
    PaperRow("2-layer NN, 300 HU", 0.047, "mlp-300", Rung("mlp", {"hidden": [300]})),
    PaperRow(
        "3-layer NN, 300+100 HU",
        0.0305,
        "mlp-300-100",
        Rung("mlp", {"hidden": [300, 100]}),
    ),
    PaperRow("LeNet-1", 0.017, None),
    PaperRow("LeNet-4", 0.011, None),
    PaperRow("LeNet-5", 0.0095, "lenet5", Rung("lenet5", {"variant": "classic"})),
)
PAPER_RUNGS: dict[str, Rung] = {r.rung: r.rung_model for r in PAPER if r.rung and r.rung_model}


@click.command()
@click.option("--dataset", "-d", default="mnist", show_default=True)
@click.option(
    "--models",
    help=f"Comma-separated rungs to train, in order [default: all]; from: {', '.join(LADDER)} "
    f"(with --paper: {', '.join(PAPER_RUNGS)}).",
)
@click.option(
    "--paper",
    is_flag=True,
    help="The rungs LeCun et al. (1998) measured on MNIST, our test error beside theirs.",
)
@click.option(
    "--out",
    type=click.Path(path_type=Path),
    default=Path("runs/ladder"),
    show_default=True,
    help="Folder for the runs (one sub-folder per model).",
)
@click.option("--overwrite", is_flag=True, help="Replace earlier ladder runs in --out.")
@click.option("--seed", type=int, default=0, show_default=True)
@click.option("--device", default="auto", show_default=True)
@click.option("--data-dir", type=click.Path(path_type=Path))
@click.option("--json", "as_json", is_flag=True, help="Print the table as JSON (last line).")
def ladder(
    dataset: str,
    models: str | None,
    paper: bool,
    out: Path,
    overwrite: bool,
    seed: int,
    device: str,
    data_dir: Path | None,
    as_json: bool,
) -> None:
    """Train softmax -> mlp -> cnn -> lenet5 (1998 and modern) -> best; compare them in a table.

    The workshop's story of gradually enhancing the accuracy, in one command. Each model trains
    with its recipe (see `dnnx train --help` for changing one). With --paper, the models of
    LeCun et al.'s 1998 MNIST table, our test error beside the paper's.
    """
    if paper and dataset != "mnist":
        raise ConfigError("--paper compares with the paper's MNIST table: use --dataset mnist")
    choices = PAPER_RUNGS if paper else LADDER
    rungs = [m.strip() for m in models.split(",") if m.strip()] if models else list(choices)
    unknown = [r for r in rungs if r not in choices]
    if unknown:
        raise ConfigError(
            f"--models: unknown rung(s) {', '.join(unknown)}; choose from {', '.join(choices)}"
        )
    data = load_with_progress(dataset, data_dir)
    rows = []
    for name in rungs:
        rung = choices[name]
        config = TrainConfig(
            model=rung.model, model_options=rung.options, dataset=dataset, seed=seed, device=device
        ).resolved()
        click.echo(f"== {name} ==", err=as_json)
        with make_progress(int(config.epochs), err=as_json) as progress:
            result = run_training(
                config,
                out_dir=out / f"{name}-{dataset}",
                dataset=data,
                callbacks=[progress],
                overwrite=overwrite,
            )
        keys = ("params", "epochs", "test_accuracy", "train_seconds")
        rows.append({"model": name} | {k: result.summary[k] for k in keys})
    if paper:
        rows = paper_rows(rows)
    if as_json:
        click.echo(json.dumps(rows))
        return
    Console().print(paper_table(rows) if paper else ladder_table(rows, dataset))


def paper_rows(trained: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """Every line of the paper's table, with our measurement where we trained that rung."""
    ours = {row["model"]: row for row in trained}
    rows = []
    for line in PAPER:
        mine = ours.get(line.rung or "")
        rows.append(
            {
                "paper_model": line.paper_name,
                "paper_test_error": line.paper_error,
                "model": line.rung,
                "test_error": None if mine is None else round(1 - mine["test_accuracy"], 6),
            }
            | ({k: mine[k] for k in ("params", "epochs", "train_seconds")} if mine else {})
        )
    return rows


def ladder_table(rows: list[dict[str, Any]], dataset: str) -> Table:
    table = Table(title=f"The ladder on {dataset}")
    for column in ("model", "parameters", "epochs", "test accuracy", "training seconds"):
        table.add_column(column, justify="left" if column == "model" else "right")
    for r in rows:
        table.add_row(
            r["model"],
            f"{r['params']:,}",
            str(r["epochs"]),
            f"{r['test_accuracy']:.2%}",
            f"{r['train_seconds']:.1f}",
        )
    return table


def paper_table(rows: list[dict[str, Any]]) -> Table:
    table = Table(
        title="MNIST test error: LeCun et al. (1998) and this ladder",
        caption="The paper trained with SGD and squared-error or RBF outputs; ours with "
        "cross-entropy, Adam and one-cycle, a few epochs on a CPU. —: not trained here.",
    )
    columns = ("paper's model", "its error", "ours", "our error", "parameters", "epochs", "s")
    for column in columns:
        left = column in ("paper's model", "ours")
        table.add_column(column, justify="left" if left else "right", no_wrap=column == "ours")
    for r in rows:
        trained = r["test_error"] is not None
        table.add_row(
            r["paper_model"],
            f"{r['paper_test_error']:.2%}",
            r["model"] or "—",
            f"{r['test_error']:.2%}" if trained else "—",
            f"{r['params']:,}" if trained else "",
            str(r["epochs"]) if trained else "",
            f"{r['train_seconds']:.1f}" if trained else "",
        )
    return table
