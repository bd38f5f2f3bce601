"""The small CNN: its blocks follow `channels`, and maxout works over channel groups."""

from __future__ import annotations

import torch
from torch import nn

from dnnexplorer.models import count_parameters, create_model


def _convs(model: nn.Module) -> list[tuple[int, int, int]]:
    return [
        (m.in_channels, m.out_channels, m.kernel_size[0])
        for m in model.modules()
        if isinstance(m, nn.Conv2d)
    ]


def test_default_blocks() -> None:
    model = create_model("cnn")
    assert _convs(model) == [(1, 16, 3), (16, 32, 3)]
    feature_maps = model.features(torch.randn(2, 1, 28, 28))
    assert feature_maps.shape == (2, 32, 7, 7)  # two poolings: 28 -> 14 -> 7


def test_three_blocks_and_5x5_filters() -> None:
    model = create_model("cnn", channels=[8, 16, 24], kernel_size=5, hidden=32)
    assert _convs(model) == [(1, 8, 5), (8, 16, 5), (16, 24, 5)]
    assert model.features(torch.randn(1, 1, 28, 28)).shape == (1, 24, 3, 3)
    assert model(torch.randn(1, 1, 28, 28)).shape == (1, 10)


def test_maxout_doubles_each_conv_and_hidden_layer() -> None:
    model = create_model("cnn", activation="maxout")
    assert _convs(model) == [(1, 32, 3), (16, 64, 3)]  # 2 pieces per channel
    expected = (32 * 9 + 32) + (64 * 16 * 9 + 64) + (32 * 7 * 7 * 256 + 256) + (128 * 10 + 10)
    assert count_parameters(model) == expected
