"""`dnnx lesson ...`: list the workshop's lessons and run one (`dnnx lesson NAME` for short).

A lesson writes its figures and `result.json` to `--out` (default `lessons/NAME/`); this module
only parses the flags, fetches MNIST with a progress bar when a lesson needs it, and prints the
lesson's story (what it shows, the numbers it found, what they mean) or, with `--quiet`, its
short summary. The computing is in `dnnexplorer.lessons`.
"""

from __future__ import annotations

import shutil
from pathlib import Path

import click
from rich.console import Console

from dnnexplorer.cli.data import load_with_progress
from dnnexplorer.errors import DataError
from dnnexplorer.lessons import (
    RESULT_FILE,
    LessonConfig,
    get_lesson,
    lesson_names,
    run_lesson,
    story_text,
)


class LessonGroup(click.Group):
    """A group where `dnnx lesson NAME ...` means `dnnx lesson run NAME ...`."""

    def resolve_command(
        self, ctx: click.Context, args: list[str]
    ) -> tuple[str | None, click.Command | None, list[str]]:
        if args and args[0] not in self.commands and not args[0].startswith("-"):
            return "run", self.commands["run"], args  # NAME stays first: it is run's argument
        return super().resolve_command(ctx, args)


@click.group(cls=LessonGroup)
def lesson() -> None:
    """The workshop's fundamentals as small, runnable lessons.

    `dnnx lesson NAME` is short for `dnnx lesson run NAME`.
    """


@lesson.command("list")
def list_() -> None:
    """List the lessons with a one-line description each."""
    width = max(len(name) for name in lesson_names())
    for name in lesson_names():
        click.echo(f"{name:<{width}}  {get_lesson(name).description}")


@lesson.command(
    "run",
    short_help="Run one lesson: its story, figures and result.json.",
    epilog="NAME is one of: " + ", ".join(lesson_names()) + ".",
)
@click.argument("name", type=click.Choice(lesson_names()), metavar="NAME")
@click.option(
    "--out",
    type=click.Path(file_okay=False, path_type=Path),
    default=None,
    help="Folder for the figures and result.json  [default: lessons/NAME/]",
)
@click.option("--seed", type=click.IntRange(min=0), default=0, show_default=True, help="Seed.")
@click.option(
    "--offline",
    is_flag=True,
    help="Use a synthetic stand-in instead of MNIST (no download needed).",
)
@click.option(
    "--data-dir",
    type=click.Path(file_okay=False, path_type=Path),
    default=None,
    help="Folder holding mnist/ (else DNNX_DATA, the user cache, or a download).",
)
@click.option(
    "--quiet",
    "-q",
    is_flag=True,
    help="Print only the short summary of numbers, not the story around them.",
)
def run(
    name: str, out: Path | None, seed: int, offline: bool, data_dir: Path | None, quiet: bool
) -> None:
    """Run lesson NAME: explain what it shows and what it found; save figures and result.json."""
    config = LessonConfig(
        out_dir=out if out is not None else Path("lessons") / name,
        seed=seed,
        offline=offline,
        data_dir=data_dir,
    )
    if get_lesson(name).uses_mnist and not offline:
        try:
            load_with_progress("mnist", data_dir)  # fetch once, with a bar, before the lesson
        except DataError as e:
            raise DataError(f"{e} (or add --offline to use synthetic digits)") from e
    with Console(stderr=True).status(f"Running lesson {name}..."):  # some take half a minute
        result = run_lesson(name, config)
    click.secho(f"Lesson {name}: {get_lesson(name).description}", bold=True)
    if quiet:
        for line in result.summary:
            click.echo(line)
    else:
        width = min(shutil.get_terminal_size().columns, 100) - 1
        click.echo()
        click.echo(story_text(result, width=width))
        click.echo()
    click.echo("Figures:")
    for path in result.figures:
        click.echo(f"  {path}")
    click.echo(f"Numbers: {config.out_dir / RESULT_FILE}")
