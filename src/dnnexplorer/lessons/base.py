"""What every lesson shares: its settings, its result, and how the result is written to disk.

A lesson is a function `run(config) -> LessonResult`. It computes, saves its figures as PNG files
in `config.out_dir`, and returns the numbers it found in two texts: a *story* (paragraphs that say
what the lesson shows, the numbers it found and what they mean, for a beginner) and a *summary*
(a few short lines of numbers, for someone who already knows the story). It never prints: the CLI
prints the story (`--quiet`: the summary), a notebook shows it, a test asserts on the numbers.
`write_result` saves the numbers, both texts and the figure names as `result.json`.
"""

from __future__ import annotations

import contextlib
import math
import textwrap
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import torch
from matplotlib.figure import Figure

from dnnexplorer.data import Dataset, load_dataset
from dnnexplorer.errors import ConfigError
from dnnexplorer.fileio import write_json_atomic
from dnnexplorer.lessons.synthetic import seven_segment_digits
from dnnexplorer.viz import save_figure

RESULT_FILE = "result.json"


@dataclass(frozen=True)
class LessonConfig:
    """Where a lesson writes, which seed it uses, and where real data comes from.

    `offline=True` asks lessons that would use MNIST to use a small synthetic set instead, so
    they run without any download. `data_dir` is the folder holding `mnist/` (None: the usual
    places, see `dnnexplorer.data`).
    """

    out_dir: Path
    seed: int = 0
    offline: bool = False
    data_dir: Path | None = None

    def __post_init__(self) -> None:
        if isinstance(self.seed, bool) or not isinstance(self.seed, int) or self.seed < 0:
            raise ConfigError(f"seed must be a whole number >= 0, got {self.seed!r}")
        object.__setattr__(self, "out_dir", Path(self.out_dir))
        if self.data_dir is not None:
            object.__setattr__(self, "data_dir", Path(self.data_dir))

    def figure_path(self, name: str) -> Path:
        """The path of the figure `name` (without extension) in the output folder."""
        return self.out_dir / f"{name}.png"


@dataclass
class LessonResult:
    """The outcome of one lesson: key numbers (JSON-ready), figure files, and two texts.

    `summary`: a few short lines with the numbers found (what `dnnx lesson NAME --quiet` prints).
    `story`: paragraphs in plain words: what the lesson shows and why, the numbers it found, and
    what they mean. A paragraph holding a line break is preformatted (a small table, a matrix)
    and is printed as it is; the others are re-wrapped to the reader's screen.
    """

    lesson: str
    seed: int
    numbers: dict[str, Any]
    summary: list[str] = field(default_factory=list)
    figures: list[Path] = field(default_factory=list)
    story: list[str] = field(default_factory=list)

    def to_json(self) -> dict[str, Any]:
        """The content of `result.json`: numbers first, figure file names relative to the folder."""
        return {
            "lesson": self.lesson,
            "seed": self.seed,
            "numbers": to_jsonable(self.numbers),
            "figures": [p.name for p in self.figures],
            "summary": list(self.summary),
            "story": list(self.story),
        }


def story_text(result: LessonResult, width: int = 88) -> str:
    """The story as plain text: paragraphs wrapped to `width`, one blank line between them.

    Preformatted paragraphs (those holding a line break: tables, matrices) are kept as they are.
    """
    blocks = [
        paragraph if "\n" in paragraph else textwrap.fill(paragraph, width, break_on_hyphens=False)
        for paragraph in result.story
    ]
    return "\n\n".join(blocks)


def write_result(result: LessonResult, out_dir: Path) -> Path:
    """Write `result.json` into `out_dir` (atomically) and return its path."""
    path = Path(out_dir) / RESULT_FILE
    write_json_atomic(path, result.to_json())
    return path


def to_jsonable(value: Any) -> Any:
    """Turn numpy/torch numbers and arrays (nested in dicts and lists) into plain JSON values.

    NaN and infinities become None, since JSON has no spelling for them.
    """
    if isinstance(value, Mapping):
        return {str(k): to_jsonable(v) for k, v in value.items()}
    if isinstance(value, torch.Tensor):
        return to_jsonable(value.detach().cpu().tolist())
    if isinstance(value, np.ndarray):
        return to_jsonable(value.tolist())
    if isinstance(value, (np.integer, np.bool_)):
        return value.item()
    if isinstance(value, (float, np.floating)):
        x = float(value)
        return x if math.isfinite(x) else None
    if isinstance(value, Path):
        return str(value)
    if isinstance(value, Sequence) and not isinstance(value, str):
        return [to_jsonable(v) for v in value]
    return value


@contextlib.contextmanager
def seeded_torch(seed: int) -> Iterator[None]:
    """Seed torch's global generator inside the block and restore it afterwards.

    Layers such as `nn.Linear` draw their initial weights from the global generator; seeding it
    here makes a lesson deterministic without changing the caller's random state.
    """
    with torch.random.fork_rng(devices=[]):
        torch.manual_seed(seed)
        yield


def digits_dataset(config: LessonConfig) -> Dataset:
    """MNIST (from `config.data_dir` or the usual places), or seven-segment digits offline."""
    if config.offline:
        return seven_segment_digits(config.seed)
    return load_dataset("mnist", config.data_dir)


def new_figure(width: float = 6.0, height: float = 4.0) -> Figure:
    """A matplotlib figure that is not registered with pyplot (no global state, no screen)."""
    return Figure(figsize=(width, height))


def save(fig: Figure, config: LessonConfig, name: str, figures: list[Path]) -> Path:
    """Save `fig` as `name`.png in the lesson's folder and remember it in `figures`."""
    path = save_figure(fig, config.figure_path(name))
    figures.append(path)
    return path


def pixel_grid(
    config: LessonConfig,
    name: str,
    images: Sequence[np.ndarray],
    titles: Sequence[str],
    figures: list[Path],
    *,
    ncols: int = 6,
    limit: float | Sequence[float] = 1.0,
    annotate: bool = False,
    suptitle: str | None = None,
) -> Path:
    """Draw tiny images (2x2, 3x3 pixels, filters, feature maps) with a frame around each.

    Values are drawn on a fixed scale [−limit, +limit] (−1 paper white, +1 ink black), so the
    same value always has the same shade; `limit` may also give one scale per image.
    `annotate=True` writes each value in its cell.
    """
    n = len(images)
    limits = [float(limit)] * n if np.isscalar(limit) else [float(v) for v in limit]
    ncols = max(1, min(ncols, n))
    nrows = -(-n // ncols)
    fig = new_figure(1.7 * ncols, 2.4 * nrows + (0.5 if suptitle else 0.0))
    for i, (image, title, lim) in enumerate(zip(images, titles, limits, strict=True)):
        ax = fig.add_subplot(nrows, ncols, i + 1)
        image = np.asarray(image, dtype=float)
        ax.imshow(image, cmap="gray_r", vmin=-lim, vmax=lim)
        ax.set_xticks([])
        ax.set_yticks([])
        ax.set_title(title, fontsize=8)
        if annotate:
            for (r, c), v in np.ndenumerate(image):
                color = "white" if v > 0.3 * lim else "black"
                ax.text(c, r, f"{v:+.3g}", ha="center", va="center", color=color, fontsize=8)
    if suptitle:
        fig.suptitle(suptitle)
    fig.tight_layout()
    return save(fig, config, name, figures)
