"""The xo-world lesson: convolution, pooling and a dense layer on the workshop's 3x3 images.

Oracles: a hand-written sliding window (and the 2x2 world's dot product) for the feature maps,
F.max_pool2d for the pooling.
"""

from __future__ import annotations

import pytest
import torch
import torch.nn.functional as F

from dnnexplorer.lessons import slash_world, xo_world

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


def test_the_filters_are_the_2x2_worlds_with_the_new_sign():
    slash, back = xo_world.FILTERS[:, 0]
    assert xo_world.FILTER_NAMES == ("/ filter", "\\ filter")
    assert slash.tolist() == slash_world.WORKSHOP_FILTER.tolist() == [[-1, 1], [1, -1]]
    assert back.tolist() == (-slash).tolist()


def test_feature_maps_match_a_hand_written_sliding_window():
    maps = xo_world.feature_maps(xo_world.IMAGES)
    assert maps.shape == (4, 2, 2, 2)
    for b in range(4):
        for f in range(2):
            for r in range(2):
                for c in range(2):
                    patch = xo_world.IMAGES[b, 0, r : r + 2, c : c + 2]
                    assert maps[b, f, r, c] == (patch * xo_world.FILTERS[f, 0]).sum()
                    # the 2x2 world's dot product, slid: the same number
                    filt = xo_world.FILTERS[f, 0].numpy()
                    assert maps[b, f, r, c] == slash_world.score(filt, patch.numpy())


def test_a_perfect_stroke_scores_4_where_the_slides_draw_it(numbers):
    maps = numbers["feature_maps"]
    assert maps["X"][0].tolist() == [[-4, 4], [4, -4]]  # "/" strokes: top-right, bottom-left
    assert maps["O"][0].tolist() == [[4, -4], [-4, 4]]  # the other way round
    assert maps["/"][0].max() == 4 and maps["/"][1].max() < 4
    assert numbers["maps_are_negations"]


def test_pooling_is_max_pooling():
    detected = xo_world.detect(xo_world.feature_maps(xo_world.IMAGES))
    expected = F.max_pool2d(detected, kernel_size=2).flatten(1)  # (4, 2)
    assert torch.equal(xo_world.pool(detected), expected)
    random = torch.randn(5, 2, 2, 2, generator=torch.Generator().manual_seed(0))
    assert torch.equal(xo_world.pool(random), F.max_pool2d(random, kernel_size=2).flatten(1))


def test_pooling_alone_cannot_tell_x_from_o(numbers):
    pooled = numbers["pooled"]
    assert pooled["X"].tolist() == pooled["O"].tolist() == [1.0, 1.0]
    assert pooled["/"].tolist() == [1.0, 0.0] and pooled["\\"].tolist() == [0.0, 1.0]
    assert numbers["pooled_look_alike"] == [("X", "O")]


def test_x_and_o_differ_by_where_the_strokes_are(numbers):
    detected = numbers["detected"]
    assert not torch.equal(detected["X"], detected["O"])


def test_look_alike_names_the_pairs_with_equal_features():
    features = torch.tensor([[1.0, 0.0], [0.0, 1.0], [1.0, 0.0], [0.0, 0.0]])
    assert xo_world.look_alike(features) == [("/", "X")]


def test_hand_designed_network_classifies_the_four_clean_images(numbers):
    hand = numbers["hand_designed"]
    assert hand["predictions"] == list(xo_world.CLASSES)
    assert hand["accuracy_clean"] == 1.0
    assert 0.0 <= hand["accuracy_one_pixel_flipped"] < 1.0
    assert hand["dense_weight"].shape == (4, 8)


def test_learned_network_classifies_the_clean_images(numbers):
    learned = numbers["learned"]
    assert learned["accuracy_clean"] == 1.0 and learned["look_alike"] == []
    assert learned["predictions"] == list(xo_world.CLASSES)
    assert 0.5 <= learned["accuracy_one_pixel_flipped"] <= numbers["best_possible_flipped"]
    assert learned["parameters"] == 2 * 4 + 2 + 8 * 4 + 4
    assert numbers["n_flipped_variants"] == 36


def test_the_learned_network_is_a_convolution_then_a_dense_layer():
    net, _ = xo_world.train_network(0)
    with torch.no_grad():
        maps = F.relu(F.conv2d(xo_world.IMAGES, net.conv.weight, net.conv.bias))
        logits = maps.flatten(1) @ net.dense.weight.T + net.dense.bias
        assert torch.allclose(net(xo_world.IMAGES), logits, atol=1e-6)


def test_each_flipped_variant_differs_in_one_pixel():
    flipped, labels = xo_world.one_pixel_flips()
    assert flipped.shape == (36, 1, 3, 3)
    for image, label in zip(flipped, labels, strict=True):
        assert int((image != xo_world.IMAGES[label]).sum()) == 1
    # An X missing a corner is a "/" or a "\\" with a stray ink pixel: 4 pictures appear twice.
    distinct = {tuple(v.flatten().tolist()) for v in flipped}
    assert len(distinct) == 32 and xo_world.best_possible_accuracy(flipped) == 32 / 36


def test_ties_count_as_wrong():
    logits = torch.tensor([[1.0, 1.0, 0.0, 0.0], [3.0, 0.0, 0.0, 0.0]])
    assert xo_world.accuracy(logits, torch.tensor([0, 0])) == 0.5


def test_the_story_shows_the_maps_and_names_the_figures(lesson_run):
    result, _ = lesson_run("xo-world")
    table = next(p for p in result.story if "\n" in p)
    assert '"X" [[-4, +4], [+4, -4]]' in table
    assert max(len(line) for line in table.splitlines()) <= 99
    story = " ".join(result.story)
    for figure in result.figures:
        assert figure.name in story


def test_the_hand_designed_network_reads_what_any_filters_find():
    images, filters = xo_world.IMAGES, xo_world.FILTERS
    default = xo_world.hand_designed_logits(images)
    assert torch.equal(default, xo_world.hand_designed_logits(images, filters))
    weight, bias = xo_world.design_dense_layer()
    real = torch.randn(2, 1, 2, 2, generator=torch.Generator().manual_seed(0)).mul(3)
    by_hand = xo_world.detect(F.conv2d(images, real)).flatten(1) @ weight.T + bias
    assert torch.equal(xo_world.hand_designed_logits(images, real), by_hand)
    # Swapping the two filters swaps the strokes' places: X is read as O and O as X.
    swapped = xo_world.hand_designed_logits(images, filters.flip(0)).argmax(dim=1)
    assert [xo_world.CLASSES[i] for i in swapped[2:]] == ["O", "X"]
    # The threshold suits +-1 filters: doubled, half a stroke (2 -> 4) passes it.
    doubled = xo_world.hand_designed_logits(images, 2 * filters).argmax(dim=1)
    assert xo_world.CLASSES[doubled[0]] == "X"
