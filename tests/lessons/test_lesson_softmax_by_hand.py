"""The softmax-by-hand lesson: every hand-written piece agrees with PyTorch, and it learns.

The pieces are checked as oracles against torch (softmax, cross-entropy with integer labels,
autograd's gradient, `torch.optim.SGD` on the same mini-batches); the offline run checks the
facts the story tells; the MNIST run checks the slides' shapes and the accuracy.
"""

from __future__ import annotations

import math

import pytest
import torch
import torch.nn.functional as F

from dnnexplorer.lessons import LessonConfig, run_lesson
from dnnexplorer.lessons import softmax_by_hand as lesson


def _random_problem(n: int = 32, seed: int = 0):
    g = torch.Generator().manual_seed(seed)
    x = torch.rand(n, lesson.PIXELS, generator=g, dtype=torch.float64)
    w = 0.05 * torch.randn(lesson.PIXELS, lesson.CLASSES, generator=g, dtype=torch.float64)
    b = 0.1 * torch.randn(lesson.CLASSES, generator=g, dtype=torch.float64)
    labels = torch.randint(0, lesson.CLASSES, (n,), generator=g)
    return x, w, b, labels


def test_softmax_and_cross_entropy_match_torch():
    x, w, b, labels = _random_problem()
    logits = x @ w + b
    probs = lesson.softmax(logits)
    torch.testing.assert_close(probs, torch.softmax(logits, dim=1))
    one_hot = lesson.one_hot(labels).double()
    torch.testing.assert_close(one_hot, F.one_hot(labels, 10).double())
    torch.testing.assert_close(
        lesson.cross_entropy(probs, one_hot), F.cross_entropy(logits, labels)
    )


def test_hand_gradient_matches_autograd():
    x, w, b, labels = _random_problem(n=17, seed=3)
    w.requires_grad_()
    b.requires_grad_()
    F.cross_entropy(x @ w + b, labels).backward()  # torch's own loss, not the lesson's
    probs = torch.softmax(x @ w.detach() + b.detach(), dim=1)
    grad_w, grad_b = lesson.gradients(x, probs, lesson.one_hot(labels).double())
    torch.testing.assert_close(grad_w, w.grad)
    torch.testing.assert_close(grad_b, b.grad)


def test_gradient_descent_is_sgd_on_a_linear_layer():
    """The hand-written loop takes the same steps as nn.Linear + F.cross_entropy + optim.SGD."""
    x, _, _, labels = _random_problem(n=250, seed=1)
    x = x.float()
    ours = lesson.gradient_descent(x, labels, x[:50], labels[:50], seed=7, epochs=1)
    linear = torch.nn.Linear(lesson.PIXELS, lesson.CLASSES)
    torch.nn.init.zeros_(linear.weight)
    torch.nn.init.zeros_(linear.bias)
    optimizer = torch.optim.SGD(linear.parameters(), lr=lesson.LEARNING_RATE)
    order = torch.randperm(len(x), generator=torch.Generator().manual_seed(7))
    for batch in order.split(lesson.BATCH_SIZE):
        loss = F.cross_entropy(linear(x[batch]), labels[batch])
        optimizer.zero_grad()
        loss.backward()
        optimizer.step()
    torch.testing.assert_close(ours.w, linear.weight.detach().T)  # nn.Linear stores Wᵀ
    torch.testing.assert_close(ours.b, linear.bias.detach())
    assert len(ours.losses) == 3  # 250 images in batches of 100


def test_offline_run_shows_the_shapes_and_checks(lesson_run):
    n = lesson_run("softmax-by-hand")[0].numbers
    rows = n["images_shape"][0]
    assert n["images_shape"] == [rows, 28, 28]
    assert n["x_shape"] == [rows, 784]
    assert n["w_shape"] == [784, 10] and n["b_shape"] == [10]
    assert n["y_shape"] == [rows, 10]
    assert n["pixel_range"][0] >= 0 and n["pixel_range"][1] <= 1
    assert n["first_one_hot"] == [int(d == n["first_label"]) for d in range(10)]
    assert n["initial_loss"] == pytest.approx(math.log(10))  # W = 0: every p = 0.1
    assert n["softmax_max_difference"] < 1e-5 and n["row_sum_max_error"] < 1e-5
    assert n["cross_entropy_one_hot"] == pytest.approx(n["cross_entropy_torch"], abs=1e-5)
    assert n["slide_cross_entropy"] == pytest.approx(-math.log(0.90), abs=1e-6)
    assert n["slide_cross_entropy_torch"] == pytest.approx(-math.log(0.90), abs=1e-6)
    assert n["max_difference_w"] < 1e-12 < n["largest_gradient_w"]
    assert n["final_loss"] < 0.5 * n["initial_loss"]
    assert n["test_accuracy"] > 0.9


def test_story_tells_the_numbers(lesson_run):
    result = lesson_run("softmax-by-hand")[0]
    story = " ".join(result.story)
    assert "−ln 0.90 = 0.1054" in story
    assert "(784, 10)" in story and "standardise" in story
    assert f"{result.numbers['test_accuracy']:.1%}" in story


@pytest.mark.real_data
def test_softmax_by_hand_on_mnist(data_root, tmp_path):
    n = run_lesson("softmax-by-hand", LessonConfig(out_dir=tmp_path, data_dir=data_root)).numbers
    assert n["dataset"] == "mnist"
    assert n["x_shape"] == [60000, 784] and n["y_shape"] == [60000, 10]
    assert n["max_difference_w"] < 1e-12
    assert n["test_accuracy"] > 0.9  # plain gradient descent: about 91.5% after 2 epochs
