"""`dnnx export RUN --format onnx|torchscript`: the trained model as one file for other tools."""

from __future__ import annotations

from pathlib import Path

import click


@click.command()
@click.argument("run_dir", type=click.Path(path_type=Path))
@click.option(
    "--format",
    "fmt",
    type=click.Choice(["onnx", "torchscript"]),
    default="onnx",
    show_default=True,
    help="onnx: for onnxruntime and inference servers; torchscript: for libtorch (C++).",
)
@click.option(
    "--out",
    type=click.Path(path_type=Path, dir_okay=False),
    help="Where to write it [default: RUN/model.onnx or RUN/model.pt].",
)
def export(run_dir: Path, fmt: str, out: Path | None) -> None:
    """Export a trained run as ONNX or TorchScript, normalization and softmax built in.

    The file takes images (N, 1, 28, 28) with pixels in [0, 1] and returns the probabilities of
    each class; the class names are in its metadata.
    """
    from dnnexplorer.export import INPUT_NAME, OUTPUT_NAME, export_run

    click.echo(f"exporting {run_dir} as {fmt} ...", err=True)
    path = export_run(run_dir, fmt, out)
    size = path.stat().st_size / 1e6
    click.echo(
        f"wrote {path} ({size:.2f} MB): input '{INPUT_NAME}' float32 (N, 1, 28, 28) in [0, 1], "
        f"output '{OUTPUT_NAME}' (N, classes); class names in its metadata"
    )
