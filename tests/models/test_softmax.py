"""Softmax regression is exactly Y = softmax(XW + b), and its W can be shown as ten images."""

from __future__ import annotations

import torch

from dnnexplorer.models import create_model


def test_logits_are_xw_plus_b() -> None:
    torch.manual_seed(0)
    model = create_model("softmax")
    x = torch.randn(4, 1, 28, 28)
    w, b = model.linear.weight, model.linear.bias  # W stored as (10, 784), b (10,)
    torch.testing.assert_close(model(x), x.reshape(4, 784) @ w.T + b)
    probs = torch.softmax(model(x), dim=1)  # Y
    torch.testing.assert_close(probs.sum(dim=1), torch.ones(4))


def test_weights_reshape_to_ten_images() -> None:
    weight = create_model("softmax").linear.weight
    assert weight.shape == (10, 784)
    assert weight.reshape(10, 28, 28).shape == (10, 28, 28)


def test_each_class_score_weighs_the_pixels() -> None:
    """A single lit pixel p adds W[i, p] to the score of class i: the weight images' meaning."""
    model = create_model("softmax")
    blank = torch.zeros(1, 1, 28, 28)
    lit = blank.clone()
    lit[0, 0, 10, 12] = 1.0
    difference = model(lit) - model(blank)  # (1, 10)
    torch.testing.assert_close(difference[0], model.linear.weight[:, 10 * 28 + 12])
