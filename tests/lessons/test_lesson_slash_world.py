"""The slash-world lesson: one 2x2 filter tells "/" from "\\", found three ways.

The slides' facts are the oracle: their filter [[-1, +1], [+1, -1]] (> 0: "/"), their worked
exercise (two bars that score 0), their table of the 16 filters; the dot product is checked
against F.conv2d.
"""

from __future__ import annotations

import itertools

import numpy as np
import pytest
import torch
import torch.nn.functional as F

from dnnexplorer.lessons import slash_world

BEST = [[-1, 1], [1, -1]]  # the slides' filter: the "/" itself, +1 ink
SLASH_IMAGE, BACKSLASH_IMAGE = [[-1, 1], [1, -1]], [[1, -1], [-1, 1]]
# The slides' exercise: these two images, overlaid with their filter, give 0: "no idea".
SLIDES_EXERCISE = ([[-1, 1], [-1, 1]], [[-1, -1], [1, 1]])
# The slides' table of the 16 filters: 4 x 4 filters of 2x2, as 8 rows of 8 numbers.
SLIDES_TABLE = """
+1 +1 +1 -1 -1 +1 -1 -1
+1 +1 +1 +1 +1 +1 +1 +1
+1 +1 +1 -1 -1 +1 -1 -1
-1 +1 -1 +1 -1 +1 -1 +1
+1 +1 +1 -1 -1 +1 -1 -1
+1 -1 +1 -1 +1 -1 +1 -1
+1 +1 +1 -1 -1 +1 -1 -1
-1 -1 -1 -1 -1 -1 -1 -1
"""


@pytest.fixture(scope="module")
def numbers(lesson_run):
    return lesson_run("slash-world")[0].numbers


def test_the_filter_and_images_are_the_slides():
    assert slash_world.WORKSHOP_FILTER.tolist() == BEST == SLASH_IMAGE
    assert slash_world.IMAGES["/"][0].tolist() == SLASH_IMAGE
    assert slash_world.IMAGES["\\"][0].tolist() == BACKSLASH_IMAGE
    assert slash_world.SWAPPED_FILTER.tolist() == (-np.array(BEST)).tolist()


def test_dot_product_is_a_2x2_convolution():
    # The "overlay and multiply" of the workshop is what F.conv2d computes.
    for image in slash_world.all_patterns():
        for filt in slash_world.all_patterns():
            conv = F.conv2d(
                torch.tensor(image).view(1, 1, 2, 2), torch.tensor(filt).view(1, 1, 2, 2)
            )
            assert conv.item() == slash_world.score(filt, image)
            assert slash_world.overlay(filt, image).sum() == conv.item()


def test_workshop_filter_scores(numbers):
    scores = numbers["workshop_scores"]
    assert scores["/"]["score"] == 4 and scores["\\"]["score"] == -4
    assert scores["/"]["verdict"] == "/" and scores["\\"]["verdict"] == "\\"
    for name, r in scores.items():
        if r["label"] == 0:  # the bars: the filter has no idea
            assert r["score"] == 0 and r["verdict"] == "no idea", name
        else:  # clean, poorly drawn (> 0: "/") and incomplete (< 0: "\") slashes
            assert np.sign(r["score"]) == r["label"], name
            assert abs(r["score"]) == (4 if name in ("/", "\\") else 2), name


def test_the_slides_worked_exercise_gives_no_idea(numbers):
    worked = numbers["worked_exercise"]
    for name, image in zip(slash_world.WORKED_EXERCISE, SLIDES_EXERCISE, strict=True):
        assert slash_world.IMAGES[name][0].tolist() == image
        products = np.array(image) * np.array(BEST)
        assert worked[name]["products"].tolist() == products.tolist()
        assert worked[name]["score"] == 0 == products.sum()


def test_the_negated_filter_swaps_every_sign(numbers):
    for name, r in numbers["workshop_scores"].items():
        assert numbers["swapped_filter_scores"][name] == -r["score"]


def test_all_16_filters_in_the_order_of_the_slides_table(numbers):
    grid = np.array(SLIDES_TABLE.split(), dtype=int).reshape(8, 8)
    slides = [grid[r : r + 2, c : c + 2].tolist() for r in (0, 2, 4, 6) for c in (0, 2, 4, 6)]
    assert [p.tolist() for p in slash_world.all_patterns()] == slides
    assert [r["filter"] for r in numbers["filter_table"]] == slides
    assert len({str(f) for f in slides}) == 16


def _one_entry_away(filt):
    for i in range(2):
        for j in range(2):
            f = [row[:] for row in filt]
            f[i][j] *= -1
            yield f


def test_exactly_these_filters_separate_the_clean_slashes(numbers):
    # The slides' filter and the four that differ from it in one entry (those that agree with
    # it in at least 3 of 4 entries); with the signs swapped, their negations.
    expected = [BEST, *_one_entry_away(BEST)]
    assert sorted(numbers["separating_filters"]) == sorted(expected)
    negated = [(-np.array(f)).tolist() for f in expected]
    assert sorted(numbers["separating_swapped"]) == sorted(negated)


def test_best_filter_is_the_slides_and_gets_every_labelled_image(numbers):
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
    for before, after in itertools.pairwise(path):  # one entry changed per step
        assert (np.array(before["filter"]) != np.array(after["filter"])).sum() == 1


@pytest.mark.parametrize("seed", range(5))
def test_random_search_finds_it_from_any_start(seed):
    assert slash_world.random_search(np.random.default_rng(seed))[-1]["filter"] == BEST


def test_gradient_descent_learns_the_same_filter(numbers):
    gd = numbers["gradient_descent"]
    assert gd["sign_pattern"].tolist() == BEST
    assert gd["correct"] == 10
    strength = gd["scores"]["/"]
    assert strength > 0 > gd["scores"]["\\"]
    for name in ("vertical bar (left)", "horizontal bar (top)"):
        assert abs(gd["scores"][name]) < 0.05 * strength  # still "no idea" for the bars


def test_the_story_shows_the_worked_exercise_and_names_the_figures(lesson_run):
    result, out = lesson_run("slash-world")
    story = "\n\n".join(result.story)
    worked = next(p for p in result.story if "\n" in p)
    assert worked.count("= 0") == 2 and max(len(line) for line in worked.splitlines()) <= 99
    for figure in result.figures:
        assert figure.name in story and (out / figure.name).is_file()
    assert "+4" in result.story[1] and "−4" in result.story[1]


def test_descend_from_the_seeded_start_is_the_lessons_gradient_descent():
    gd = slash_world.gradient_descent(0)
    path = slash_world.descend(gd["initial_filter"])
    assert path["filters"].shape == (slash_world.GD_STEPS + 1, 2, 2)
    assert path["losses"].shape == (slash_world.GD_STEPS,)
    assert np.array_equal(path["filters"][0], gd["initial_filter"])
    assert np.array_equal(path["filters"][-1], gd["filter"])
    assert path["losses"][-1] == gd["final_loss"]


@pytest.mark.parametrize("start", [[[0.0, 0.0], [0.0, 0.0]], [[5.0, -5.0], [-5.0, 5.0]]])
def test_each_step_of_descend_follows_the_gradient_written_out(start):
    # Oracle: L = mean log(1 + e^(-y s)), dL/dF = mean -y sigmoid(-y s) x, by hand in NumPy.
    images, labels = slash_world.labelled()
    path = slash_world.descend(np.array(start), steps=20)
    for t, filt in enumerate(path["filters"][:-1]):
        margins = -labels * (images * filt).sum(axis=(1, 2))  # (k,)
        assert path["losses"][t] == pytest.approx(np.logaddexp(0, margins).mean(), abs=1e-12)
        weights = -labels / (1 + np.exp(-margins)) / len(labels)  # (k,): dL/ds_k
        gradient = (weights[:, None, None] * images).sum(axis=0)
        step = filt - slash_world.GD_LR * gradient
        assert np.allclose(path["filters"][t + 1], step, rtol=0, atol=1e-12)
    assert np.all(np.diff(path["losses"]) < 0)  # downhill all the way
