"""The xo-world lesson: convolution, pooling and a dense layer on the workshop's 3x3 images."""

from __future__ import annotations

import pytest
import torch

from dnnexplorer.lessons import xo_world

WORKSHOP = {  # the slides' matrices, +1 ink, -1 paper
    "/": [[-1, -1, 1], [-1, 1, -1], [1, -1, -1]],
    "\\": [[1, -1, -1], [-1, 1, -1], [-1, -1, 1]],
    "X": [[1, -1, 1], [-1, 1, -1], [1, -1, 1]],
    "O": [[-1, 1, -1], [1, -1, 1], [-1, 1, -1]],
}


@pytest.fixture(scope="module")
def numbers(lesson_run):
    return lesson_run("xo-world")[0].numbers


def test_images_are_the_workshops():
    for i, name in enumerate(xo_world.CLASSES):
        assert xo_world.IMAGES[i, 0].tolist() == WORKSHOP[name]


def test_feature_maps_match_a_hand_written_sliding_window():
    maps = xo_world.feature_maps(xo_world.IMAGES)
    assert maps.shape == (4, 2, 2, 2)
    for b in range(4):
        for f in range(2):
            for r in range(2):
                for c in range(2):
                    patch = xo_world.IMAGES[b, 0, r : r + 2, c : c + 2]
                    assert maps[b, f, r, c] == (patch * xo_world.FILTERS[f, 0]).sum()


def test_pooling_alone_cannot_tell_x_from_o(numbers):
    pooled = numbers["pooled"]
    assert pooled["X"].tolist() == pooled["O"].tolist() == [1.0, 1.0]
    assert not numbers["pooling_separates_x_and_o"]
    assert pooled["/"].tolist() != pooled["\\"].tolist()


def test_x_and_o_differ_by_where_the_strokes_are(numbers):
    detected = numbers["detected"]
    assert not torch.equal(detected["X"], detected["O"])


def test_hand_designed_network_classifies_the_four_clean_images(numbers):
    hand = numbers["hand_designed"]
    assert hand["predictions"] == list(xo_world.CLASSES)
    assert hand["accuracy_clean"] == 1.0
    assert 0.0 <= hand["accuracy_one_pixel_flipped"] < 1.0


def test_learned_network_classifies_the_clean_images(numbers):
    learned = numbers["learned"]
    assert learned["accuracy_clean"] == 1.0
    assert learned["predictions"] == list(xo_world.CLASSES)
    assert 0.0 <= learned["accuracy_one_pixel_flipped"] <= 1.0
    assert numbers["n_flipped_variants"] == 36


def test_each_flipped_variant_differs_in_one_pixel():
    flipped, labels = xo_world.one_pixel_flips()
    assert flipped.shape == (36, 1, 3, 3)
    for image, label in zip(flipped, labels, strict=True):
        assert int((image != xo_world.IMAGES[label]).sum()) == 1


def test_ties_count_as_wrong():
    logits = torch.tensor([[1.0, 1.0, 0.0, 0.0], [3.0, 0.0, 0.0, 0.0]])
    assert xo_world.accuracy(logits, torch.tensor([0, 0])) == 0.5
