"""`dnnx course`: the course map, the workshop's chapters in the order of its slides.

The map itself is `dnnexplorer.course.syllabus`; this module only prints it, as a table of
chapters, as the slides' topics, or as the Markdown of docs/course.md.
"""

from __future__ import annotations

import click
from rich.console import Console
from rich.table import Table

from dnnexplorer.course.syllabus import CHAPTERS, TOPICS, chapter, course_markdown


@click.command("course")
@click.option("--topics", is_flag=True, help="List the slides' topics and the chapter of each.")
@click.option("--markdown", is_flag=True, help="Print the whole map as Markdown (docs/course.md).")
def course(topics: bool, markdown: bool) -> None:
    """The course: each chapter with its notebook and command, in the slides' order."""
    if markdown:
        click.echo(course_markdown())
        return
    if topics:
        table = Table(title="The slides' topics, in their order")
        for column in ("slides", "what the course shows", "chapter"):
            table.add_column(column)
        for t in TOPICS:
            where = ", ".join(f"{chapter(n).number} {n}" for n in t.chapters)
            table.add_row(t.slides, t.idea, where)
    else:
        table = Table(title="The course, chapter by chapter")
        for column in ("#", "chapter", "command", "notebook"):
            table.add_column(column, justify="right" if column == "#" else "left")
        for c in CHAPTERS:
            table.add_row(str(c.number), c.title, c.command, c.notebook)
    Console().print(table)
    if not topics:
        click.echo("Topics of the slides: dnnx course --topics. Exercises: in each notebook.")
