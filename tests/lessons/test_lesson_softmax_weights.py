"""The softmax-weights lesson: W as the slides write it, [784, 10], its columns as templates.

Offline runs (seven-segment digits) always; the MNIST run needs the real data (DNNX_DATA).
"""

from __future__ import annotations

import pytest
import torch
from torch import nn

from dnnexplorer.lessons import LessonConfig, run_lesson
from dnnexplorer.lessons.softmax_weights import CENTRE, templates


def test_slides_w_is_the_transpose_of_nn_linear_weight():
    """x @ W + b with W = weight.T gives nn.Linear's own scores."""
    torch.manual_seed(0)
    linear = nn.Linear(784, 10)
    x = torch.rand(5, 784)
    w = linear.weight.detach().T  # (784, 10)
    torch.testing.assert_close(x @ w + linear.bias.detach(), linear(x).detach())


def test_templates_are_the_columns_of_w():
    w = torch.randn(784, 10, generator=torch.Generator().manual_seed(1))
    images = templates(w)
    assert images.shape == (10, 28, 28)
    for digit in (0, 3, 9):
        torch.testing.assert_close(images[digit], w[:, digit].reshape(28, 28))
    assert images[4][14, 14] == w[CENTRE, 4]  # row 406 of W is the pixel (14, 14)


def test_softmax_templates_offline(lesson_run):
    result = lesson_run("softmax-weights")[0]
    numbers = result.numbers
    assert numbers["dataset"] == "seven-segment"
    assert numbers["weight_shape"] == [784, 10]  # the slides' W
    assert numbers["linear_weight_shape"] == [10, 784]  # how nn.Linear stores it
    assert numbers["parameters"] == 784 * 10 + 10
    assert numbers["test_accuracy"] > 0.6
    assert all(v > 0.1 for v in numbers["template_agreement"].values())
    assert len(numbers["centre_pixel_weights"]) == 10
    story = " ".join(result.story)
    assert "(784, 10)" in story and "transpose" in story


def test_seven_segment_centre_pixel_votes_for_the_digits_with_a_middle_bar(lesson_run):
    """Pixel (14, 14) lies on the middle bar, lit in 2-6, 8, 9 and dark in 0, 1, 7."""
    weights = lesson_run("softmax-weights")[0].numbers["centre_pixel_weights"]
    lit = [weights[d] for d in "2345689"]
    dark = [weights[d] for d in "017"]
    assert sum(lit) / len(lit) > sum(dark) / len(dark)


@pytest.mark.real_data
def test_softmax_templates_on_mnist(data_root, tmp_path):
    config = LessonConfig(out_dir=tmp_path, data_dir=data_root)
    numbers = run_lesson("softmax-weights", config).numbers
    assert numbers["dataset"] == "mnist"
    assert numbers["weight_shape"] == [784, 10]
    assert numbers["test_accuracy"] > 0.88  # softmax regression: about 92% after one epoch
    assert all(v > 0.3 for v in numbers["template_agreement"].values())
