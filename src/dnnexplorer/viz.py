"""Figures with matplotlib: image grids, curves, weights, filters, confusion matrices.

Every function takes tensors/arrays and a path, draws on a `matplotlib.figure.Figure` made
without pyplot (no screen and no global backend needed, e.g. on a compute node, and a notebook's
inline plots stay as they were), and saves the PNG atomically.
"""

from __future__ import annotations

import os
from collections.abc import Sequence
from pathlib import Path

import numpy as np
from matplotlib.figure import Figure

from dnnexplorer.fileio import atomic_path


def save_figure(fig: Figure, path: str | os.PathLike[str], dpi: int = 120) -> Path:
    """Save `fig` as a PNG at `path` (atomically) and return the path."""
    target = Path(path)
    with atomic_path(target) as tmp:
        fig.savefig(tmp, format="png", dpi=dpi, bbox_inches="tight")
    return target


def image_grid(
    images: Sequence[np.ndarray] | np.ndarray,
    titles: Sequence[str] | None,
    path: str | os.PathLike[str],
    ncols: int = 5,
    cmap: str = "gray",
    symmetric: bool = False,
    suptitle: str | None = None,
) -> Path:
    """Draw 2-D images in a grid with an optional title under each; save as PNG.

    `symmetric=True` centres the colour map on zero (for weights and filters, where the sign
    matters: red = positive, blue = negative).
    """
    images = [np.asarray(im, dtype=np.float32) for im in images]
    n = len(images)
    ncols = max(1, min(ncols, n))
    nrows = max(1, -(-n // ncols))
    fig = Figure(figsize=(1.6 * ncols, 1.8 * nrows))
    axes = fig.subplots(nrows, ncols, squeeze=False)
    for i, ax in enumerate(axes.flat):
        ax.axis("off")
        if i >= n:
            continue
        im = images[i]
        if symmetric:
            lim = float(np.abs(im).max()) or 1.0
            ax.imshow(im, cmap="bwr", vmin=-lim, vmax=lim)
        else:
            ax.imshow(im, cmap=cmap)
        if titles is not None:
            ax.set_title(titles[i], fontsize=8)
    if suptitle:
        fig.suptitle(suptitle)
    return save_figure(fig, path)


def confusion_figure(
    confusion: np.ndarray, classes: Sequence[str], path: str | os.PathLike[str]
) -> Path:
    """The confusion matrix as a heat map with counts (rows: true class, columns: predicted)."""
    n = len(classes)
    fig = Figure(figsize=(0.6 * n + 2, 0.6 * n + 1.5))
    ax = fig.subplots()
    ax.imshow(np.log1p(confusion), cmap="Blues")
    for i in range(n):
        for j in range(n):
            color = "white" if i == j else "black"
            ax.text(
                j, i, str(int(confusion[i, j])), ha="center", va="center", fontsize=7, color=color
            )
    ax.set_xticks(range(n), [str(c) for c in classes], rotation=45, ha="right", fontsize=8)
    ax.set_yticks(range(n), [str(c) for c in classes], fontsize=8)
    ax.set_xlabel("predicted")
    ax.set_ylabel("true")
    return save_figure(fig, path)
