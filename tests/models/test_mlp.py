"""The MLP's hidden layers, and maxout doubling the width of the layer that feeds it."""

from __future__ import annotations

import torch
from torch import nn

from dnnexplorer.models import Maxout, create_model


def _linears(model: nn.Module) -> list[tuple[int, int]]:
    return [(m.in_features, m.out_features) for m in model.modules() if isinstance(m, nn.Linear)]


def test_hidden_widths() -> None:
    assert _linears(create_model("mlp")) == [(784, 200), (200, 100), (100, 10)]
    assert _linears(create_model("mlp", hidden=[64, 32, 16])) == [
        (784, 64),
        (64, 32),
        (32, 16),
        (16, 10),
    ]


def test_no_hidden_layer_is_softmax_regression() -> None:
    assert _linears(create_model("mlp", hidden=[])) == [(784, 10)]


def test_maxout_layers_make_k_pieces_per_unit() -> None:
    model = create_model("mlp", activation="maxout", maxout_pieces=3)
    assert _linears(model) == [(784, 600), (200, 300), (100, 10)]
    assert sum(isinstance(m, Maxout) for m in model.modules()) == 2
    assert model(torch.randn(2, 1, 28, 28)).shape == (2, 10)


def test_activation_option_builds_that_activation() -> None:
    model = create_model("mlp", activation="leaky_relu")
    slopes = [m.negative_slope for m in model.modules() if isinstance(m, nn.LeakyReLU)]
    assert slopes == [0.1, 0.1]
