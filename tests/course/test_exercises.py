"""Every exercise of the course: its reference answer passes its check, the usual mistake fails.

The reference answers are computed by the project's code, so these tests also catch a chapter
whose exercise no longer matches what its lesson computes.
"""

from __future__ import annotations

import pytest

from dnnexplorer.course import (
    all_exercises,
    answer,
    chapter_names,
    check,
    exercises,
    get_exercise,
)
from dnnexplorer.errors import ConfigError
from dnnexplorer.lessons import lesson_names

EXERCISES = all_exercises()


def test_every_chapter_has_two_to_four_exercises_with_unique_ids():
    assert chapter_names()[: len(lesson_names())] == lesson_names()
    for chapter in chapter_names():
        assert 2 <= len(exercises(chapter)) <= 4, chapter
    ids = [ex.id for ex in EXERCISES]
    assert len(ids) == len(set(ids))


@pytest.mark.parametrize("ex", EXERCISES, ids=lambda ex: ex.id)
def test_reference_answer_passes_and_the_usual_mistake_fails(ex):
    assert ex.question.strip() and ex.why.strip()
    right = check(ex.id, answer(ex.id))
    assert right.correct, right.message
    wrong = check(ex.id, ex.wrong)
    assert not wrong.correct and wrong.message.startswith("Not yet: ")
    for nonsense in (..., None, "banana", [[1, 2], [3]], object()):
        assert not check(ex.id, nonsense).correct  # a reason, never an exception


def test_unknown_ids_name_what_exists():
    with pytest.raises(ConfigError, match="unknown chapter 'nope'"):
        get_exercise("nope/x")
    first = chapter_names()[0]
    with pytest.raises(ConfigError, match=f"chapter '{first}' has: {first}/"):
        get_exercise(f"{first}/nope")
