"""The course map: every chapter in order, every slide topic in the slides' order, one source."""

from __future__ import annotations

import os
from pathlib import Path

import nbformat
import pytest

from dnnexplorer.cli import main
from dnnexplorer.course import chapter_names
from dnnexplorer.course.syllabus import CHAPTERS, TOPICS, course_markdown

ROOT = Path(__file__).resolve().parents[2]
SEED = ROOT.parent / "shared" / "seed" / "000_8060d2a2e1a8e4f9.txt"


def test_chapters_are_the_lessons_in_order_and_each_has_its_notebook():
    assert [c.name for c in CHAPTERS] == chapter_names()
    for c in CHAPTERS:
        notebook = nbformat.read(ROOT / c.notebook, as_version=4)
        heading = notebook.cells[0].source.splitlines()[0].replace("\\\\", "\\")  # Markdown
        assert heading == f"# Chapter {c.number}: {c.title}"


def test_every_topic_points_at_chapters_and_every_chapter_teaches_a_topic():
    taught = {name for t in TOPICS for name in t.chapters}
    assert taught == set(chapter_names())
    assert all(t.slides and t.idea for t in TOPICS)


def test_topics_follow_the_slides_order():
    if not SEED.is_file():
        if os.environ.get("CI") == "true":
            pytest.fail(f"the slides' text is missing: {SEED}")
        pytest.skip(f"the slides' text is not here ({SEED})")
    text = SEED.read_text(encoding="utf-8")
    where = [text.find(t.slides) for t in TOPICS]
    assert -1 not in where, [t.slides for t, w in zip(TOPICS, where, strict=True) if w < 0]
    assert where == sorted(where)


def test_docs_course_md_is_written_from_the_syllabus():
    """docs/course.md is `dnnx course --markdown`: regenerate it after changing the syllabus."""
    assert (ROOT / "docs" / "course.md").read_text(encoding="utf-8") == course_markdown() + "\n"


def test_dnnx_course_prints_the_chapters_and_the_topics(capsys):
    for args, expected in ((["course"], "dnnx lesson why-deep"), (["course", "--topics"], "LeNet")):
        with pytest.raises(SystemExit) as done:
            main(args)
        assert done.value.code == 0
        assert expected in capsys.readouterr().out
