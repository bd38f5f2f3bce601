"""The best CNN: batch norm and dropout behave differently in training and evaluation."""

from __future__ import annotations

import torch
from torch import nn

from dnnexplorer.models import create_model, get_entry


def test_structure() -> None:
    model = create_model("best")
    assert sum(isinstance(m, nn.BatchNorm2d) for m in model.modules()) == 3
    assert sum(isinstance(m, nn.Dropout) for m in model.modules()) == 1
    assert model.features(torch.randn(2, 1, 28, 28)).shape == (2, 64, 3, 3)


def test_eval_mode_is_deterministic_and_train_mode_is_not() -> None:
    torch.manual_seed(0)
    model = create_model("best", dropout=0.5)
    x = torch.randn(8, 1, 28, 28)
    model.eval()
    torch.testing.assert_close(model(x), model(x))  # dropout off, batch norm's running stats
    model.train()
    assert not torch.equal(model(x), model(x))  # a new dropout mask each call


def test_eval_mode_does_not_depend_on_the_rest_of_the_batch() -> None:
    """In evaluation batch norm uses its running statistics: one image, one answer."""
    torch.manual_seed(0)
    model = create_model("best").eval()
    x = torch.randn(4, 1, 28, 28)
    torch.testing.assert_close(model(x)[:1], model(x[:1]), atol=1e-5, rtol=1e-4)


def test_recipe_augments() -> None:
    recipe = get_entry("best").recipe
    assert recipe.augment
    assert recipe.epochs >= 10
