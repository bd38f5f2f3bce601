"""Exercises of chapter 1, `why-deep`: k-nearest neighbours by hand, its vote, and the two costs.

The first runs kNN by hand on five tiny two-pixel "images", the second writes its majority vote
as a function, the third compares how hard cross-entropy and squared error push a model that
is wrong.
"""

from __future__ import annotations

import contextlib
from typing import Any

import torch

from dnnexplorer.course.checking import Exercise, function, number, whole_number
from dnnexplorer.lessons.costs import logit_gradient
from dnnexplorer.lessons.knn import knn_predict, vote

CHAPTER = "why-deep"

# Five stored "images" of two pixels each, their labels, and a new image to label.
POINTS = ((2.0, 3.0), (3.0, 3.0), (0.0, 2.0), (4.0, 4.0), (5.0, 1.0))
LABELS = (7, 1, 1, 7, 7)
QUERY = (2.0, 2.0)

VOTE_INPUTS = [  # nearest first: majorities, ties of three, unanimity, k = 1 and k = 5
    ([3, 5, 5],),
    ([5, 3, 3],),
    ([1, 2, 3],),
    ([3, 2, 1],),
    ([4, 4, 4],),
    ([7, 7, 2],),
    ([6],),
    ([9, 0, 0, 9, 1],),
    ([2, 8, 8, 8, 2],),
]
P_RIGHT = 0.1  # the probability the model gives the right digit in exercise 3


def _knn_by_hand(k: int) -> int:
    points = torch.tensor(POINTS)  # (5, 2)
    query = torch.tensor([QUERY])  # (1, 2)
    return int(knn_predict(points, torch.tensor(LABELS), query, k=k)[len(POINTS)][0])


def _reference_vote(labels: list[int]) -> int:
    return int(vote(torch.tensor([labels]), 10)[0])


def _judge_vote(answer: Any, reference: Any) -> str | None:
    reason = function(lambda: VOTE_INPUTS)(answer, reference)
    if reason is None or not callable(answer):
        return reason
    for (labels,) in VOTE_INPUTS:  # name the first list it gets wrong, with the right answer
        with contextlib.suppress(Exception):
            said, truth = answer(list(labels)), reference(labels)
            if said != truth:
                return f"it returns {said!r} for {labels}; the vote gives {truth}"
    return reason


def _push_ratio() -> float:
    p = torch.tensor([P_RIGHT])
    return float(logit_gradient("cross-entropy", p) / logit_gradient("squared error", p))


EXERCISES = (
    Exercise(
        CHAPTER,
        "knn-by-hand",
        f"Five stored two-pixel images {POINTS} carry the labels {LABELS}. Which label does "
        f"kNN with k = 3 give the new image {QUERY}?",
        solution=lambda: _knn_by_hand(3),
        judge=whole_number(
            mistakes={
                _knn_by_hand(1): "that is the label of the single nearest image (k = 1), and "
                "the vote of all five; with k = 3 only the three nearest vote",
            }
        ),
        wrong=_knn_by_hand(1),
        why="The squared distances from (2, 2) are 1, 2, 4, 8 and 10: the three nearest images "
        "carry 7, 1 and 1, so the vote gives 1. The single nearest says 7 and all five say 7: "
        "the answer depends on k, which is why k is a setting to choose, not something learned.",
        hint="Work out (x1 − 2)² + (x2 − 2)² for each stored image, keep the three smallest, and "
        "count their labels.",
    ),
    Exercise(
        CHAPTER,
        "majority-vote",
        "Write majority_vote(labels): labels is a list of the k nearest images' labels, the "
        "nearest first; return the label that occurs most often, and when several tie, the one "
        "of them that comes first in the list.",
        solution=lambda: _reference_vote,
        judge=_judge_vote,
        wrong=lambda labels: labels[0],
        why="A vote makes kNN robust to one odd neighbour: one badly written 5 among the "
        "nearest 3s is outvoted. The tie rule matters too: without it, three different labels "
        "would give an arbitrary answer; the nearest neighbour is the most trustworthy voter.",
        hint="Count each label (labels.count(x) works on a list), find the highest count, then "
        "walk through the list from the nearest and return the first label with that count.",
    ),
    Exercise(
        CHAPTER,
        "push-ratio",
        f"A model gives the right digit the probability p = {P_RIGHT} and the rest to one wrong "
        "digit. How many times harder does cross-entropy push the right digit's score than "
        "squared error does? (Cross-entropy's push is 1 − p, squared error's 2p(1 − p)².)",
        solution=_push_ratio,
        judge=number(
            rel=1e-3,
            mistakes={
                1 / _push_ratio(): "that is squared error's push divided by cross-entropy's; "
                "the question asks how many times harder cross-entropy pushes",
                (1 - P_RIGHT) / (2 * P_RIGHT * (1 - P_RIGHT)): "the (1 − p) in squared error's "
                "push is squared",
            },
        ),
        wrong=1 / _push_ratio(),
        why="(1 − p) / (2p(1 − p)²) = 1 / (2p(1 − p)) = 1 / 0.18 ≈ 5.6. The more wrong the "
        "model (p near 0), the larger the ratio: at p = 0.01 it is about 50. Squared error "
        "learns slowest exactly where the model most needs to learn.",
        hint="Compute both pushes at p = 0.1 and divide the first by the second.",
    ),
)
