"""Exercises of chapter 12, `slash-world`: a score by hand, the dot product, counting filters.

Images are 2x2 grids of +1 (ink) and −1 (paper). The slides' filter [[−1, +1], [+1, −1]] (the
"/" itself) says "/" when the score is above 0, "\\" below 0, and "no idea" at 0.
"""

from __future__ import annotations

import contextlib
from typing import Any

import numpy as np

from dnnexplorer.course.checking import Exercise, function, number, whole_number
from dnnexplorer.lessons import slash_world

CHAPTER = "slash-world"

# A filter with real weights, as gradient descent learns them, on the incomplete "/".
REAL_FILTER = np.array([[-0.5, 2.0], [1.0, -1.5]])
SCORED_IMAGE = "incomplete / (no top-right)"  # [[-1, -1], [+1, -1]]


def _score_by_hand() -> float:
    return slash_world.score(REAL_FILTER, slash_world.IMAGES[SCORED_IMAGE][0])


def _test_pairs() -> list[tuple[np.ndarray, np.ndarray]]:
    """(filter, image) pairs to call the learner's function with, real-valued ones included."""
    patterns = slash_world.all_patterns()
    pairs = [(f, im) for f in patterns[::3] for im in patterns[::5]]
    return [*pairs, (np.array([[0.5, -2.0], [1.5, 0.25]]), np.array([[1.0, -1.0], [2.0, 3.0]]))]


def _matrix_product_score(filt, image) -> float:  # the usual mistake: @ instead of *
    return float((np.asarray(filt) @ np.asarray(image)).sum())


def _judge_dot(answer: Any, reference: Any) -> str | None:
    """The function judge, with the placeholder and the matrix product named."""
    reason = function(_test_pairs)(answer, reference)
    if reason is not None and callable(answer):
        filt, image = slash_world.WORKSHOP_FILTER, slash_world.IMAGES["/"][0]
        with contextlib.suppress(Exception):  # the learner's code may raise anything
            got = answer(filt, image)
            if got is Ellipsis:
                return "replace the `...` with your answer, then run the cell again"
            if float(got) == _matrix_product_score(filt, image):
                return "that is the matrix product (@); the dot product multiplies entry by entry"
    return reason


def _separating() -> int:
    return sum(r["separates_clean"] for r in slash_world.exhaustive_search())


def _no_idea_images() -> int:
    scores = [
        slash_world.score(slash_world.WORKSHOP_FILTER, im) for im in slash_world.all_patterns()
    ]
    return sum(s == 0 for s in scores)


EXERCISES = (
    Exercise(
        CHAPTER,
        "score",
        "Overlay the filter [[-0.5, +2.0], [+1.0, -1.5]] (real weights, as gradient descent "
        'learns them) on the incomplete "/" [[-1, -1], [+1, -1]], multiply pixel by pixel '
        "and add up. What is the score?",
        solution=_score_by_hand,
        judge=number(
            mistakes={
                -1.0: "that is the sum of the matrix product (@); overlay the two grids and "
                "multiply the entries that lie on top of each other",
                5.0: '5 is the score of the clean "/", where every pixel agrees; this one '
                "misses its top-right ink",
            }
        ),
        wrong=-1.0,
        why="The four products are (-0.5)(-1) = +0.5, (2)(-1) = -2, (1)(1) = +1 and "
        '(-1.5)(-1) = +1.5, which add up to +1. Above 0: the filter calls it a "/", rightly, '
        'though less surely than the clean "/" (which scores 5).',
        hint="Top-left weight times top-left pixel, top-right times top-right, and so on; then "
        "add the four products.",
    ),
    Exercise(
        CHAPTER,
        "dot",
        "Write a function score(filt, image) that returns the dot product of two 2x2 NumPy "
        "arrays: multiply entry by entry and add up.",
        solution=lambda: slash_world.score,
        judge=_judge_dot,
        wrong=_matrix_product_score,
        why='(filt * image).sum() is the "overlay and multiply" of the slides: * multiplies '
        "entry by entry, and .sum() adds the four products. It is exactly what a convolution "
        "computes at one position.",
        hint="In NumPy, a * b multiplies entry by entry while a @ b is the matrix product; "
        "then add up all the entries with .sum().",
    ),
    Exercise(
        CHAPTER,
        "separating",
        'Of the 16 filters with entries ±1, how many give the clean "/" a score above 0 and the '
        'clean "\\" a score below 0?',
        solution=_separating,
        judge=whole_number(
            mistakes={
                1: "the slides' filter is not the only one: change one of its entries and score "
                "the two clean slashes again",
                10: "that counts the filters that work with the signs swapped too; the question "
                'wants "/" above 0 and "\\" below 0',
            }
        ),
        wrong=1,
        why='A filter that agrees with "/" in k of its 4 entries scores k - (4 - k) = 2k - 4 on '
        'it, and the opposite on "\\". So "/" > 0 > "\\" needs k >= 3: the slides\' filter '
        "(k = 4) and the 4 filters one entry away (k = 3), 5 in all.",
        hint='Write the score of "/" in terms of k, the number of entries where the filter '
        'agrees with "/"; or loop over slash_world.all_patterns().',
    ),
    Exercise(
        CHAPTER,
        "no-idea",
        'The slides\' filter has "no idea" (score 0) about the bars. Of all 16 possible 2x2 '
        "images with pixels ±1, how many score exactly 0 with it?",
        solution=_no_idea_images,
        judge=whole_number(
            mistakes={
                2: "the slides show two of them, but there are more",
                4: "the four bars are not the only ones: try every ±1 image, not only the ones "
                "the lesson draws",
            }
        ),
        wrong=4,
        why="A score of 0 needs exactly 2 of the 4 pixels to agree with the filter: there are "
        "C(4, 2) = 6 ways to choose them. They are the four bars, the blank image and the "
        "all-ink one.",
        hint="The score is (agreements) - (disagreements); when is it 0? Then count the ways.",
    ),
)
