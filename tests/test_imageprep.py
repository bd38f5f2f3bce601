"""Tests for the pure steps that turn a grey picture into an MNIST-style digit.

Each step is checked against a plain, slow oracle (brute-force windows, a flood fill) or against
the property MNIST's preparation promises (20 px box, centre of mass at (14, 14)).
"""

from __future__ import annotations

from collections import deque

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from hypothesis.extra.numpy import arrays

from dnnexplorer import imageprep


def _brute_window(a: np.ndarray, k: int, reduce) -> np.ndarray:
    pad = k // 2
    p = np.pad(a, ((pad, k - 1 - pad), (pad, k - 1 - pad)), mode="edge")
    h, w = a.shape
    return np.array([[reduce(p[i : i + k, j : j + k]) for j in range(w)] for i in range(h)])


def _flood_fill_groups(mask: np.ndarray) -> set[frozenset[tuple[int, int]]]:
    """The 8-connected blobs of a mask, found the slow obvious way."""
    seen = np.zeros_like(mask)
    groups = set()
    for start in zip(*np.nonzero(mask), strict=True):
        if seen[start]:
            continue
        blob, queue = [], deque([start])
        seen[start] = True
        while queue:
            y, x = queue.popleft()
            blob.append((int(y), int(x)))
            for dy in (-1, 0, 1):
                for dx in (-1, 0, 1):
                    ny, nx = y + dy, x + dx
                    inside = 0 <= ny < mask.shape[0] and 0 <= nx < mask.shape[1]
                    if inside and mask[ny, nx] and not seen[ny, nx]:
                        seen[ny, nx] = True
                        queue.append((ny, nx))
        groups.add(frozenset(blob))
    return groups


@pytest.mark.parametrize("k", [1, 2, 3, 4, 7, 12])
@pytest.mark.parametrize("shape", [(1, 1), (5, 9), (17, 3), (23, 24)])
def test_sliding_extreme_matches_brute_force_windows(k: int, shape: tuple[int, int]) -> None:
    a = np.random.default_rng(k).random(shape).astype(np.float32)
    assert np.array_equal(imageprep.sliding_extreme(a, k, np.minimum), _brute_window(a, k, np.min))
    mask = a > 0.7
    dilated = imageprep.sliding_extreme(mask, k, np.maximum)
    assert np.array_equal(dilated, _brute_window(mask, k, np.max))


@pytest.mark.parametrize("k", [1, 3, 4, 9])
def test_box_blur_is_the_window_mean(k: int) -> None:
    a = np.random.default_rng(0).random((13, 20)).astype(np.float32)
    assert np.allclose(imageprep.box_blur(a, k), _brute_window(a, k, np.mean), atol=1e-5)


@settings(max_examples=60, deadline=None)
@given(arrays(bool, st.tuples(st.integers(1, 14), st.integers(1, 14))))
def test_label_components_finds_the_same_blobs_as_a_flood_fill(mask: np.ndarray) -> None:
    labels = imageprep.label_components(mask)
    assert ((labels >= 0) == mask).all()
    groups = {
        frozenset((int(y), int(x)) for y, x in zip(*np.nonzero(labels == v), strict=True))
        for v in np.unique(labels[mask])
    }
    assert groups == _flood_fill_groups(mask)


def test_otsu_threshold_matches_the_best_split_found_by_brute_force() -> None:
    rng = np.random.default_rng(0)
    values = np.sort(np.concatenate([rng.normal(0.2, 0.03, 2000), rng.normal(0.7, 0.05, 200)]))
    n, sums = len(values), np.cumsum(values)

    def between_class_variance(i: int) -> float:  # classes values[:i] and values[i:]
        return i * (n - i) * (sums[i - 1] / i - (sums[-1] - sums[i - 1]) / (n - i)) ** 2

    best = max(range(1, n), key=between_class_variance)
    assert values[best - 1] <= imageprep.otsu_threshold(values) < values[best]


def test_ink_bright_inverts_dark_ink_only() -> None:
    paper = np.full((40, 40), 0.8, np.float32)
    paper[10:30, 18:22] = 0.1
    assert imageprep.ink_bright(paper)[20, 20] == pytest.approx(0.9)
    board = 1.0 - paper  # bright chalk on a dark board is already MNIST's way round
    assert imageprep.ink_bright(board)[20, 20] == pytest.approx(0.9)


def _stroke_on(light: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Add one bright stroke (contrast 0.6) to a lighting pattern; return it and the paper mask."""
    ink = light.astype(np.float32)
    ink[100:200, 200:208] += 0.6
    paper = np.ones(ink.shape, bool)
    paper[100:200, 200:208] = False
    return ink, paper


def test_fit_light_recovers_a_quadratic_light_under_ink() -> None:
    y, x = np.mgrid[-1:1:200j, -1:1:300j]
    light = 0.5 + 0.1 * x - 0.05 * y - 0.2 * x * x + 0.05 * x * y - 0.1 * y * y
    ink, _ = _stroke_on(light)
    ink[40:50, :] += 0.5  # a long stroke across the whole page
    assert np.abs(imageprep.fit_light(ink) - light).max() < 0.01


@pytest.mark.parametrize("scene", ["slope-and-shadow-edge", "vignetting-and-table"])
def test_remove_background_erases_uneven_light_and_keeps_strokes(scene: str) -> None:
    y, x = np.mgrid[:300, :400] / np.array([300.0, 400.0])[:, None, None]
    if scene == "slope-and-shadow-edge":
        light = 0.1 + 0.4 * x + 0.2 * (x > 0.75)
    else:  # ink made bright, so the dark corners and the dark table beside the sheet are bright
        light = 0.1 + 0.3 * ((x - 0.5) ** 2 + (y - 0.5) ** 2) + 0.5 * (x < 0.1)
    ink, paper = _stroke_on(light)
    residual = imageprep.remove_background(ink)
    assert np.abs(residual[paper]).max() < 0.01
    assert residual[~paper] == pytest.approx(0.6, abs=0.01)


def test_keep_digit_drops_specks_but_keeps_a_detached_stroke() -> None:
    sure = np.zeros((60, 60), bool)
    sure[10:50, 28:32] = True  # the stem
    sure[30:33, 15:26] = True  # a bar not touching it (a crossed 7)
    sure[2, 2] = True  # dust
    kept = imageprep.keep_digit(sure.astype(np.float32), sure)
    assert kept[30, 20] > 0 and kept[20, 30] > 0
    assert kept[2, 2] == 0


def test_thin_strokes_are_thickened_and_thick_ones_left_alone() -> None:
    thin = np.zeros((400, 300), np.float32)
    thin[:, 150] = 1.0
    assert imageprep.stroke_width(imageprep.thicken_thin_strokes(thin)) * 20 / 400 >= 1.5
    thick = np.zeros((400, 300), np.float32)
    thick[:, 130:170] = 1.0
    assert imageprep.thicken_thin_strokes(thick) is thick


def test_fit_box_keeps_the_aspect_ratio() -> None:
    digit = imageprep.fit_box(np.ones((300, 100), np.float32))
    assert digit.shape == (20, 7)
    assert digit.max() == pytest.approx(1.0)


@pytest.mark.parametrize("where", [(0, 0), (0, 19), (10, 3)])
def test_centre_by_mass_puts_the_centre_of_mass_on_14_14(where: tuple[int, int]) -> None:
    digit = np.zeros((20, 20), np.float32)
    digit[max(0, where[0] - 2) : where[0] + 3, :] = 0.5  # a bar ...
    digit[:, where[1]] = 1.0  # ... and a stem
    out = imageprep.centre_by_mass(digit)
    rows, cols = np.indices(out.shape)
    cy, cx = (rows * out).sum() / out.sum(), (cols * out).sum() / out.sum()
    assert out.sum() == pytest.approx(digit.sum())  # nothing fell off the edge
    assert abs(cy - 14) <= 4 and abs(cx - 14) <= 4
    if 6 <= where[0] <= 14 and 6 <= where[1] <= 14:
        assert abs(cy - 14) <= 0.5 and abs(cx - 14) <= 0.5


def test_a_centred_digit_lands_within_half_a_pixel() -> None:
    digit = np.zeros((20, 12), np.float32)
    digit[3:17, 2:10] = np.random.default_rng(1).random((14, 8))
    out = imageprep.centre_by_mass(digit)
    rows, cols = np.indices(out.shape)
    assert abs((rows * out).sum() / out.sum() - 14) <= 0.5
    assert abs((cols * out).sum() / out.sum() - 14) <= 0.5


@pytest.mark.parametrize(
    "picture",
    [
        np.full((50, 80), 0.7, np.float32),
        np.linspace(0.2, 0.9, 200 * 300, dtype=np.float32).reshape(200, 300),
        np.clip(np.random.default_rng(0).normal(0.6, 0.02, (200, 300)), 0, 1),
    ],
    ids=["flat", "gradient", "paper-noise"],
)
def test_a_picture_without_ink_is_blank(picture: np.ndarray) -> None:
    assert imageprep.mnist_from_gray(picture) is None
