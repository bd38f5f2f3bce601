"""Exercises of chapter 2, `triangle`: the rule written by hand, the data, and where learning errs.

The first writes the triangle inequality as a function (the programmer's way), the second
measures the score a model gets without learning anything (the mark a learned model must beat),
the third asks where a model learned from examples is most likely to be wrong.
"""

from __future__ import annotations

import contextlib
from typing import Any

import torch

from dnnexplorer.course.checking import Exercise, choice, function, number
from dnnexplorer.lessons import triangle

CHAPTER = "triangle"

RULE_INPUTS = [  # every order of a side, flat triangles, a long third side, fractions
    (3, 4, 5),
    (5, 3, 4),
    (1, 1, 1),
    (1, 2, 3),
    (3, 1, 2),
    (1, 1, 3),
    (3, 1, 1),
    (1, 5, 2),
    (2.5, 2, 4),
    (0.2, 0.3, 0.45),
]
TRIPLES = ((3, 4, 5), (1, 1, 1.9), (2, 2, 9), (5, 5, 5))
OPTIONS = tuple(str(t) for t in TRIPLES)  # "(3, 4, 5)", ...: the learner answers with one


def _judge_rule(answer: Any, reference: Any) -> str | None:
    reason = function(lambda: RULE_INPUTS)(answer, reference)
    if reason is None or not callable(answer):
        return reason
    for sides in RULE_INPUTS:  # name the first triple it gets wrong, in words
        with contextlib.suppress(Exception):
            said, truth = bool(answer(*sides)), reference(*sides)
            if said != truth:
                return f"it says {said} for {sides}, which is {'' if truth else 'not '}a triangle"
    return reason


def _always_no_accuracy() -> float:
    _, (_, test_labels) = triangle.split(seed=0)
    return float((test_labels == 0).double().mean())


def _judge_always_no(answer: Any, reference: Any) -> str | None:
    share_of_triangles = 1.0 - float(reference)
    mistakes = {
        share_of_triangles: "that is the share of triangles; the lazy model is right on the others",
        0.5: "that is a guess; count the non-triangles of this test set",
    }
    return number(abs_tol=0.006, mistakes=mistakes)(answer, reference)


def _nearest_to_flat() -> str:
    """The triple whose two shorter sides come closest to the longest one: the hardest."""
    sides = torch.tensor(TRIPLES, dtype=torch.float64)  # (4, 3)
    return OPTIONS[int(triangle.slack(sides).abs().argmin())]


EXERCISES = (
    Exercise(
        CHAPTER,
        "rule",
        "Write is_triangle(a, b, c): True when the three lengths form a triangle (a flat one "
        "does not count), else False.",
        solution=lambda: triangle.is_triangle,
        judge=_judge_rule,
        wrong=lambda a, b, c: a + b > c,
        why="The triangle inequality has three parts, one per side: a + b > c, a + c > b and "
        "b + c > a. A programmer who knows the rule can write it exactly, in three lines.",
        hint="Each side must be shorter than the other two together; check all three sides, "
        "and use > (not >=) so that a flat triangle such as (1, 2, 3) fails.",
    ),
    Exercise(
        CHAPTER,
        "always-no",
        'A lazy model answers "not a triangle" for every triple. What share of the lesson\'s '
        "test triples (seed 0) does it get right?",
        solution=_always_no_accuracy,
        judge=_judge_always_no,
        wrong=0.5,
        why="About half of random triples are triangles, so a model that learned nothing at all "
        "is already right about half the time. A learned model's accuracy means something only "
        "above this mark.",
        hint="The lazy model is right exactly on the test triples labelled 0 (not a "
        "triangle): what share of test_labels is 0?",
    ),
    Exercise(
        CHAPTER,
        "hardest",
        f"Which of {', '.join(OPTIONS)} is a model learned from examples most likely to get wrong?",
        solution=_nearest_to_flat,
        judge=choice(
            OPTIONS,
            mistakes={
                "(2, 2, 9)": "(2, 2, 9) is far from any triangle (2 + 2 is much less than 9): "
                "easy to classify",
                "(5, 5, 5)": "(5, 5, 5) is as far from flat as a triangle can be: easy to classify",
                "(3, 4, 5)": "(3, 4, 5) is a clear triangle: 3 + 4 exceeds 5 by 2",
            },
        ),
        wrong="(2, 2, 9)",
        why="1 + 1 = 2 is barely more than 1.9: the triple is almost flat. Near the border "
        "between triangle and not-triangle a small change of one side flips the answer, and "
        "that is where the lesson's network makes most of its mistakes.",
        hint="Sort each triple and compare the two shorter sides together with the longest: "
        "which one is closest to a tie?",
    ),
)
