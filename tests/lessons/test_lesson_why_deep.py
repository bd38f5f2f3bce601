"""The why-deep lesson: kNN, accuracy against training-set size, cross-entropy vs squared error.

kNN and the two costs are checked against independent oracles (brute-force distances in
float64, a vote counted by hand, the closed-form gradients); the lesson runs offline always,
and on real MNIST when DNNX_DATA holds it.
"""

from __future__ import annotations

import itertools
from collections import Counter

import pytest
import torch
import torch.nn.functional as F

from dnnexplorer.lessons import LessonConfig, run_lesson, why_deep
from dnnexplorer.lessons.costs import COSTS, logit_gradient, squared_error, starting_points
from dnnexplorer.lessons.knn import knn_predict, nearest, squared_distances, vote
from dnnexplorer.lessons.synthetic import seven_segment_digits
from dnnexplorer.lessons.why_deep import training_subset


def brute_force_knn(train_x, train_y, query, k):
    """The k nearest by explicit float64 differences; the majority label, ties to the nearest."""
    distances = ((train_x.double() - query.double()) ** 2).sum(dim=1)
    labels = [int(train_y[i]) for i in distances.argsort()[:k]]
    counts = Counter(labels)
    top = max(counts.values())
    return next(label for label in labels if counts[label] == top)  # nearest among the tied


def test_squared_distances_match_cdist():
    g = torch.Generator().manual_seed(0)
    queries, points = torch.rand(7, 784, generator=g), torch.rand(50, 784, generator=g)
    expected = torch.cdist(queries.double(), points.double()) ** 2
    assert torch.allclose(squared_distances(queries, points).double(), expected, rtol=1e-4)


def test_vote_takes_the_majority_and_breaks_ties_by_the_nearest():
    labels = torch.tensor([[3, 5, 5], [5, 3, 3], [1, 2, 3], [3, 2, 1], [4, 4, 4], [7, 7, 2]])
    assert vote(labels, 10).tolist() == [5, 3, 1, 3, 4, 7]
    five = torch.tensor([[1, 8, 0, 0, 8], [1, 0, 8, 8, 0], [2, 2, 9, 9, 9]])
    assert vote(five, 10).tolist() == [8, 0, 9]  # a 2-2 tie: the nearer of the tied labels


def test_knn_agrees_with_a_brute_force_oracle_on_digits():
    digits = seven_segment_digits(seed=3, n_train=600, n_test=40)
    train_x = digits.train_images.flatten(1).float() / 255
    test_x = digits.test_images.flatten(1).float() / 255
    for k in (1, 3, 5):
        predicted = knn_predict(train_x, digits.train_labels, test_x, k=k)[len(train_x)]
        expected = [brute_force_knn(train_x, digits.train_labels, q, k) for q in test_x]
        assert predicted.tolist() == expected


def test_knn_by_size_uses_only_the_first_n_images():
    g = torch.Generator().manual_seed(1)
    train_x, test_x = torch.rand(300, 20, generator=g), torch.rand(25, 20, generator=g)
    train_y = torch.randint(0, 10, (300,), generator=g)
    by_size = knn_predict(train_x, train_y, test_x, sizes=[30, 100, 300])
    for n, predicted in by_size.items():
        alone = knn_predict(train_x[:n], train_y[:n], test_x)[n]
        assert torch.equal(predicted, alone)
    first = nearest(test_x, train_x, k=3)
    assert torch.equal(first[:, 0], torch.cdist(test_x, train_x).argmin(dim=1))


def test_training_subset_repeats_every_chosen_image_equally_often():
    digits = seven_segment_digits(seed=0, n_train=100, n_test=10)
    picked = torch.tensor([4, 17, 60, 99])
    subset = training_subset(digits, picked, examples=20)
    assert len(subset.train_labels) == 20
    assert torch.equal(subset.train_labels, digits.train_labels[picked].repeat(5))
    assert torch.equal(subset.test_images, digits.test_images)  # graded on the whole test set


def test_squared_error_is_half_the_squared_distance_to_the_one_hot_label():
    logits = torch.tensor([[2.0, 0.0, -1.0], [0.5, 0.5, 3.0]])
    labels = torch.tensor([0, 1])
    probs = logits.softmax(dim=1)
    expected = 0.5 * F.mse_loss(probs, F.one_hot(labels, 3).float(), reduction="sum") / 2
    assert torch.allclose(squared_error(logits, labels), expected)


def test_the_push_on_the_right_logit_matches_the_closed_forms():
    p = torch.tensor([0.001, 0.01, 0.1, 0.5, 0.9, 0.99])
    assert torch.allclose(logit_gradient("cross-entropy", p), 1 - p, atol=1e-6)
    assert torch.allclose(logit_gradient("squared error", p), 2 * p * (1 - p) ** 2, atol=1e-6)


def test_the_confidently_wrong_start_answers_zero_for_everything():
    digits = seven_segment_digits(seed=0, n_train=100, n_test=200)
    starts = starting_points(10, seed=0)
    x = digits.test_images.unsqueeze(1).float() / 255  # any input: the bias outweighs it
    with torch.no_grad():
        probs = starts["confidently wrong start"](x).softmax(dim=1)
        usual = starts["usual start"](x).softmax(dim=1)
    assert (probs[:, 0] > 0.999).all()
    assert usual.max() < 0.5  # the usual start has no strong opinion
    weights = [m.linear.weight for m in starts.values()]
    assert torch.equal(*weights)  # the same start but for one bias


def test_why_deep_offline(lesson_run):
    result, out = lesson_run("why-deep")
    n = result.numbers
    assert n["dataset"] == "seven-segment"
    assert list(n["accuracy"]) == ["knn", "softmax", "mlp", "cnn"]
    for model, accuracies in n["accuracy"].items():
        assert len(accuracies) == len(n["sizes"]) == 4
        assert accuracies[-1] > accuracies[0] + 0.2, model  # more data, better
    assert n["accuracy"]["cnn"][-1] > n["accuracy"]["knn"][-1]
    curves, updates = n["cost"]["curves"], n["cost"]["updates"]
    zeros = float((seven_segment_digits(0).test_labels == 0).double().mean())
    for start, by_cost in curves.items():
        assert set(by_cost) == set(COSTS)
        assert all(len(curve) == len(updates) for curve in by_cost.values())
        assert by_cost["cross-entropy"][-1] > by_cost["squared error"][-1] + 0.2, start
    # The wrong start says "0" for everything: right exactly for the test set's zeros.
    assert curves["confidently wrong start"]["cross-entropy"][0] == pytest.approx(zeros)
    assert n["probe"]["squared error"] < n["probe"]["cross-entropy"] / 40
    assert [p.name for p in result.figures] == ["accuracy_vs_data.png", "cost_functions.png"]
    assert all((out / p.name).is_file() for p in result.figures)


# The lesson's own plan trains 12 networks on up to 60,000 images each (about 40 s); the test
# keeps its shape with a quarter of the budget, and the README quotes the full plan's numbers.
SMALL_PLAN = why_deep.Plan((1_000, 5_000, 15_000), 15_000, 128, 1_000, 300, 10)


@pytest.mark.real_data
def test_why_deep_on_mnist(data_root, tmp_path, monkeypatch):
    monkeypatch.setattr(why_deep, "MNIST_PLAN", SMALL_PLAN)
    n = run_lesson("why-deep", LessonConfig(out_dir=tmp_path, data_dir=data_root)).numbers
    assert n["dataset"] == "mnist" and n["sizes"] == list(SMALL_PLAN.sizes)
    accuracy = n["accuracy"]
    for model, values in accuracy.items():
        assert all(a < b for a, b in itertools.pairwise(values)), model  # more data, better
    assert accuracy["cnn"][-1] > accuracy["knn"][-1]
    for size in range(len(SMALL_PLAN.sizes)):  # deeper is better at every size
        assert accuracy["softmax"][size] < accuracy["mlp"][size] < accuracy["cnn"][size]
    usual = n["cost"]["curves"]["usual start"]
    wrong = n["cost"]["curves"]["confidently wrong start"]
    early = n["cost"]["updates"].index(50)
    assert usual["cross-entropy"][early] > usual["squared error"][early] + 0.03
    assert sum(usual["cross-entropy"]) > sum(usual["squared error"])  # ahead on average
    assert wrong["cross-entropy"][-1] > 0.85
    assert wrong["squared error"][early] < 0.15  # still stuck after 50 updates
