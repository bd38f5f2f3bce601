"""`dnnx eval` and `dnnx predict`: look at a trained model, and use it on your own images."""

from __future__ import annotations

import json
from pathlib import Path

import click
import torch
from rich.console import Console
from rich.table import Table

from dnnexplorer.cli.data import load_with_progress
from dnnexplorer.errors import DnnxError
from dnnexplorer.run import Run
from dnnexplorer.train.runs import CONFUSION, ERRORS
from dnnexplorer.viz import confusion_figure, image_grid


@click.command("eval")
@click.argument("run_dir", type=click.Path(path_type=Path))
@click.option(
    "--out",
    type=click.Path(path_type=Path),
    help="Folder for confusion.png and errors.png (default: the run folder).",
)
@click.option(
    "--errors",
    "n_errors",
    type=click.IntRange(min=0),
    default=25,
    show_default=True,
    help="How many confidently wrong test images to show.",
)
@click.option("--data-dir", type=click.Path(path_type=Path))
@click.option("--json", "as_json", is_flag=True, help="Print the results as JSON.")
def eval_command(
    run_dir: Path, out: Path | None, n_errors: int, data_dir: Path | None, as_json: bool
) -> None:
    """Test accuracy, per-class accuracy, confusion matrix and worst errors of a run."""
    run = Run.load(run_dir)
    config, classes = run.config, run.classes
    dataset = load_with_progress(config.dataset, data_dir)
    result = run.evaluate(dataset, errors=n_errors)
    confusion, per_class, worst = result.confusion, result.per_class_accuracy, result.errors

    out = out or run.path
    confusion_png = confusion_figure(confusion.numpy(), classes, out / CONFUSION)
    titles = [
        f"true {classes[int(dataset.test_labels[i])]}\npred "
        f"{classes[int(result.predictions[i])]} {result.probabilities[i].max():.0%}"
        for i in worst
    ]
    errors_png = image_grid(dataset.test_images[worst].numpy(), titles, out / ERRORS)

    if as_json:
        click.echo(
            json.dumps(
                {
                    "test_accuracy": result.accuracy,
                    "test_loss": result.loss,
                    "per_class_accuracy": dict(zip(classes, per_class.tolist(), strict=True)),
                    "confusion_matrix": confusion.tolist(),
                    "confusion_png": str(confusion_png),
                    "errors_png": str(errors_png),
                }
            )
        )
        return
    console = Console()
    console.print(
        f"{run.path}: {config.model} on {config.dataset}, test accuracy "
        f"{result.accuracy:.2%} (loss {result.loss:.4f})",
        highlight=False,
    )
    table = Table(title="confusion matrix (rows: true class, columns: predicted)")
    table.add_column("true")
    for i in range(len(classes)):
        table.add_column(str(i), justify="right")
    table.add_column("accuracy", justify="right")
    for i, name in enumerate(classes):
        table.add_row(f"{i} {name}", *[str(int(v)) for v in confusion[i]], f"{per_class[i]:.2%}")
    console.print(table)
    console.print(f"wrote {confusion_png} and {errors_png}", highlight=False)


@click.command()
@click.argument("run_dir", type=click.Path(path_type=Path))
@click.argument("images", nargs=-1, required=True, type=click.Path(path_type=Path))
@click.option("--json", "as_json", is_flag=True, help="Print a JSON list of results.")
def predict(run_dir: Path, images: tuple[Path, ...], as_json: bool) -> None:
    """Predict the digit (or class) in each IMAGE: photos, scans, canvas exports.

    Each image is preprocessed as MNIST was made (polarity, crop, 20x20 box, centre of mass).
    A file that cannot be read gets its own error line; the others are still predicted.
    """
    run = Run.load(run_dir)
    results, failed = [], 0
    for path in images:
        try:
            probs = run.predict_file(path)  # (classes,)
        except DnnxError as e:
            failed += 1
            click.echo(f"dnnx: error: {e}", err=True)
            results.append({"file": str(path), "error": str(e)})
            continue
        digit = int(torch.argmax(probs))
        results.append(
            {
                "file": str(path),
                "digit": digit,
                "label": run.classes[digit],
                "probabilities": [round(float(p), 6) for p in probs],
            }
        )
        if not as_json:
            click.echo(f"{path}: {run.classes[digit]} ({probs[digit]:.1%})")
    if as_json:
        click.echo(json.dumps(results))
    if failed:
        raise SystemExit(1)
