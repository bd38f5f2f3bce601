"""The course: the workshop's chapters in order, their exercises, and the check a learner runs.

Every lesson of `dnnexplorer.lessons` is a chapter (a notebook in `notebooks/`), plus one chapter
that has no lesson of its own (the MNIST ladder). Each chapter's exercises live in a module of
this package named after it (`course/slash_world.py` for the chapter `slash-world`), as a tuple
`EXERCISES` of `Exercise`s. In a notebook, a learner types an answer and runs

    from dnnexplorer.course import check
    check("slash-world/score", answer)

which shows "Correct!" with what the answer means, or "Not yet: ..." with the reason and a hint:
never a traceback. `answer(id)` reveals the reference answer, as the back of a textbook does.
"""

from __future__ import annotations

import importlib
from functools import cache
from typing import Any

from dnnexplorer.course.checking import Exercise, Verdict, verdict
from dnnexplorer.errors import ConfigError
from dnnexplorer.lessons import lesson_names

EXTRA_CHAPTERS = ("mnist-ladder",)  # chapters with a notebook but no lesson of their own


def chapter_names() -> list[str]:
    """Every chapter, in teaching order: the lessons, then the chapters without a lesson."""
    return [*lesson_names(), *EXTRA_CHAPTERS]


@cache
def exercises(chapter: str) -> tuple[Exercise, ...]:
    """The exercises of `chapter`, in the order its notebook asks them."""
    if chapter not in chapter_names():
        known = ", ".join(chapter_names())
        raise ConfigError(f"unknown chapter '{chapter}'; choose one of: {known}")
    module = importlib.import_module(f"dnnexplorer.course.{chapter.replace('-', '_')}")
    found: tuple[Exercise, ...] = tuple(module.EXERCISES)
    for ex in found:
        if ex.chapter != chapter:
            raise ConfigError(f"exercise {ex.id} is listed in chapter '{chapter}'")
    return found


def all_exercises() -> list[Exercise]:
    """Every exercise of the course, chapter by chapter."""
    return [ex for chapter in chapter_names() for ex in exercises(chapter)]


def get_exercise(exercise_id: str) -> Exercise:
    """The exercise called "chapter/key"; ConfigError naming the chapter's exercises if none."""
    chapter, _, key = exercise_id.partition("/")
    for ex in exercises(chapter):
        if ex.key == key:
            return ex
    known = ", ".join(ex.id for ex in exercises(chapter))
    raise ConfigError(f"unknown exercise '{exercise_id}'; chapter '{chapter}' has: {known}")


def check(exercise_id: str, answer: Any) -> Verdict:
    """Check a learner's `answer` to the exercise "chapter/key": "Correct!" or "Not yet: why".

    The verdict shows itself in a notebook and is truthy when the answer is right.
    """
    return verdict(get_exercise(exercise_id), answer)


def answer(exercise_id: str) -> Any:
    """The reference answer of an exercise, computed by the project's code."""
    return get_exercise(exercise_id).solution()


__all__ = [
    "Exercise",
    "Verdict",
    "all_exercises",
    "answer",
    "chapter_names",
    "check",
    "exercises",
    "get_exercise",
]
