"""The slash-world lesson: one 2x2 filter tells "/" from "\\", found three ways."""

from __future__ import annotations

import numpy as np
import pytest
import torch
import torch.nn.functional as F

from dnnexplorer.lessons import slash_world

BEST = [[1, -1], [-1, 1]]


@pytest.fixture(scope="module")
def numbers(lesson_run):
    return lesson_run("slash-world")[0].numbers


def test_dot_product_is_a_2x2_convolution():
    # The "overlay and multiply" of the workshop is what F.conv2d computes.
    for image, _ in slash_world.IMAGES.values():
        for filt in slash_world.all_filters():
            conv = F.conv2d(
                torch.tensor(image).view(1, 1, 2, 2), torch.tensor(filt).view(1, 1, 2, 2)
            )
            assert conv.item() == slash_world.score(filt, image)


def test_workshop_filter_scores(numbers):
    scores = numbers["workshop_scores"]
    assert scores["\\"]["score"] == 4 and scores["/"]["score"] == -4
    for name, r in scores.items():
        if r["label"] == 0:  # the bars: the filter has no idea
            assert r["score"] == 0 and r["verdict"] == "no idea", name
        else:  # clean, poorly drawn and incomplete slashes: the sign tells
            assert np.sign(r["score"]) == r["label"], name


def test_table_has_all_16_filters(numbers):
    table = numbers["filter_table"]
    assert len(table) == 16
    assert len({str(r["filter"]) for r in table}) == 16
    assert all(v in (-1, 1) for r in table for row in r["filter"] for v in row)


def test_exactly_these_filters_separate_the_clean_slashes(numbers):
    # The workshop filter and the four that differ from it in one entry: those that agree
    # with it in at least 3 of 4 entries.
    expected = [BEST]
    for i in range(2):
        for j in range(2):
            f = [row[:] for row in BEST]
            f[i][j] *= -1
            expected.append(f)
    assert sorted(numbers["separating_filters"]) == sorted(expected)


def test_best_filter_is_the_workshops_and_gets_every_labelled_image(numbers):
    assert numbers["best_filter"] == BEST
    best_rows = [r for r in numbers["filter_table"] if r["filter"] == BEST]
    assert best_rows[0]["correct"] == 10
    others = [r["correct"] for r in numbers["filter_table"] if r["filter"] != BEST]
    assert max(others) < 10


def test_random_search_climbs_to_the_best_filter(numbers):
    path = numbers["random_search"]["path"]
    assert numbers["random_search"]["found"] == BEST
    agreements = [step["agreement"] for step in path]
    assert agreements == sorted(set(agreements))  # strictly better at every step


@pytest.mark.parametrize("seed", range(5))
def test_random_search_finds_it_from_any_start(seed):
    assert slash_world.random_search(np.random.default_rng(seed))[-1]["filter"] == BEST


def test_gradient_descent_learns_the_same_filter(numbers):
    gd = numbers["gradient_descent"]
    assert gd["sign_pattern"].tolist() == BEST
    assert gd["correct"] == 10
    strength = gd["scores"]["\\"]
    for name in ("vertical bar (left)", "horizontal bar (top)"):
        assert abs(gd["scores"][name]) < 0.05 * strength  # still "no idea" for the bars
