"""`dnnx data ...`: fetch, inspect and show the datasets.

Every command takes `--data-dir DIR` (a folder holding the four files or <name>/), searched
before DNNX_DATA, the user cache and /usr/share/datasets. Downloads draw a rich progress bar.
DNNX_MIRROR (comma-separated base URLs) replaces the download mirrors: a hook for tests and
for sites with their own mirror, read only here at the edge.
"""

from __future__ import annotations

import contextlib
import math
import os
from collections.abc import Iterator
from pathlib import Path

import click
import torch
from rich.console import Console
from rich.progress import BarColumn, DownloadColumn, Progress, TextColumn, TransferSpeedColumn
from rich.table import Table

from dnnexplorer.data import Dataset, dataset_names, get_dataset, load_dataset
from dnnexplorer.data.locate import Progress as ProgressCallback
from dnnexplorer.data.locate import fetch as fetch_files
from dnnexplorer.data.locate import locate
from dnnexplorer.errors import ConfigError

data_dir_option = click.option(
    "--data-dir",
    type=click.Path(file_okay=False, path_type=Path),
    help="Folder holding the dataset's files or a <name>/ folder (searched first).",
)


def mirrors_from_env() -> list[str] | None:
    """Download mirrors from DNNX_MIRROR, or None for the registry's own."""
    value = os.environ.get("DNNX_MIRROR", "").strip()
    return [m.strip() for m in value.split(",") if m.strip()] or None


@contextlib.contextmanager
def download_bar() -> Iterator[ProgressCallback]:
    """A progress callback drawing one rich bar per downloaded file (on stderr)."""
    bar = Progress(
        TextColumn("{task.description}"),
        BarColumn(),
        DownloadColumn(),
        TransferSpeedColumn(),
        console=Console(stderr=True),
        transient=False,
    )
    tasks: dict[str, int] = {}

    def progress(name: str, done: int, total: int | None) -> None:
        if name not in tasks:
            bar.start()
            tasks[name] = bar.add_task(name, total=total)
        bar.update(tasks[name], completed=done)

    try:
        yield progress
    finally:
        if tasks:  # stopping a bar that never started would still print a blank line
            bar.stop()


def say_waiting(folder: Path, pid: int | None) -> None:
    """Why nothing happens: another dnnx process is writing the dataset folder (see locate)."""
    by = f" (pid {pid})" if pid else ""
    click.echo(f"waiting for another dnnx process fetching into {folder}{by}...", err=True)


def load_with_progress(name: str, data_dir: Path | None) -> Dataset:
    """Load a dataset for a command, drawing a bar if its files must be downloaded."""
    with download_bar() as progress:
        return load_dataset(
            name, data_dir, progress=progress, mirrors=mirrors_from_env(), on_wait=say_waiting
        )


@click.group()
def data() -> None:
    """Fetch, inspect and show the datasets (MNIST, Fashion-MNIST)."""


@data.command("list")
@data_dir_option
def list_(data_dir: Path | None) -> None:
    """List the known datasets and where each one's files are found."""
    width = max(len(name) for name in dataset_names())
    for name in dataset_names():
        spec = get_dataset(name)
        found = locate(spec, data_dir)
        where = f"found in {found.folder} ({found.origin})" if found else "not found"
        click.echo(f"{name:<{width}}  {spec.title}: {where}")


@data.command()
@click.argument("name")
@click.option(
    "--from",
    "--data-dir",
    "source",
    type=click.Path(exists=True, file_okay=False, path_type=Path),
    help="Import (copy and verify) the files from this folder instead of downloading them.",
)
@click.option(
    "--to",
    "dest",
    type=click.Path(file_okay=False, path_type=Path),
    help="Put the files in DIR/NAME/ instead of the user cache (e.g. the folder DNNX_DATA names).",
)
def fetch(name: str, source: Path | None, dest: Path | None) -> None:
    """Put verified copies of dataset NAME in the user cache, ready for offline use.

    Downloads them (trying each mirror in turn), or copies them from --from DIR; files already in
    the cache are checked, and a damaged one is replaced. If another dnnx process is fetching
    into the same folder, waits for it to finish first.
    """
    spec = get_dataset(name)
    with download_bar() as progress:
        folder = fetch_files(
            spec,
            source,
            mirrors=mirrors_from_env(),
            progress=progress,
            dest_root=dest,
            on_wait=say_waiting,
        )
    click.echo(f"{name}: {len(spec.files)} files verified in {folder}")


@data.command()
@click.argument("name")
@data_dir_option
def info(name: str, data_dir: Path | None) -> None:
    """Sizes, images per class, pixel statistics, and where the files were found."""
    d = load_with_progress(name, data_dir)
    spec = get_dataset(name)
    pixels = d.train_images.to(torch.float32) / 255  # (60000, 28, 28) in [0, 1]
    rows, cols = d.train_images.shape[1:]
    click.echo(f"{spec.title} [{name}]")
    click.echo(f"files: {d.source}")
    click.echo(f"parsed arrays: {'from the cache' if d.from_cache else 'parsed now (cached)'}")
    click.echo(
        f"train: {len(d.train_labels)} images, test: {len(d.test_labels)} images, "
        f"{rows}x{cols} pixels"
    )
    click.echo(
        f"train pixel mean {pixels.mean():.4f}, std {pixels.std():.4f} (on the [0, 1] scale)"
    )
    table = Table("label", "class", "train", "test", title="images per class")
    train_counts = d.train_labels.bincount(minlength=len(d.classes)).tolist()
    test_counts = d.test_labels.bincount(minlength=len(d.classes)).tolist()
    for label, (cls, n_train, n_test) in enumerate(
        zip(d.classes, train_counts, test_counts, strict=True)
    ):
        table.add_row(str(label), cls, str(n_train), str(n_test))
    Console(width=100).print(table)


@data.command()
@click.argument("name")
@data_dir_option
@click.option(
    "--n",
    "count",
    type=click.IntRange(1, 400),
    default=25,
    show_default=True,
    help="How many images.",
)
@click.option(
    "--out",
    type=click.Path(dir_okay=False, path_type=Path),
    default="grid.png",
    show_default=True,
    help="PNG file to write.",
)
@click.option("--split", type=click.Choice(["train", "test"]), default="train", show_default=True)
@click.option("--seed", type=int, default=0, show_default=True, help="Which random sample.")
def show(name: str, data_dir: Path | None, count: int, out: Path, split: str, seed: int) -> None:
    """Save a grid of random images from dataset NAME, each titled with its class."""
    from dnnexplorer.viz import image_grid  # matplotlib: loaded only when drawing

    d = load_with_progress(name, data_dir)
    images = d.train_images if split == "train" else d.test_images
    labels = d.train_labels if split == "train" else d.test_labels
    if count > len(images):
        raise ConfigError(f"--n {count}: the {split} split holds only {len(images)} images")
    generator = torch.Generator().manual_seed(seed)
    picks = torch.randperm(len(images), generator=generator)[:count]
    titles = [f"{d.classes[int(labels[i])]} (#{int(i)})" for i in picks]
    image_grid(
        images[picks].numpy(),
        titles,
        out,
        ncols=math.ceil(math.sqrt(count)),
        suptitle=f"{name} {split}: {count} random images (seed {seed})",
    )
    click.echo(f"wrote {out}")
