"""LeNet-5 (LeCun et al. 1998): the layer sizes of the paper, both variants, the exact count."""

from __future__ import annotations

import pytest
import torch
from torch import nn

from dnnexplorer.errors import ConfigError
from dnnexplorer.models import count_parameters, create_model

# (weights + biases) per layer, with C3 fully connected to S2's 6 maps
C1 = 6 * (1 * 5 * 5) + 6  # 156
C3 = 16 * (6 * 5 * 5) + 16  # 2,416 (the paper's partial table: 1,516)
C5 = 120 * (16 * 5 * 5) + 120  # 48,120
F6 = 84 * 120 + 84  # 10,164
OUTPUT = 10 * 84 + 10  # 850


@pytest.mark.parametrize("variant", ["classic", "modern"])
def test_exact_parameter_count(variant: str) -> None:
    model = create_model("lenet5", variant=variant)
    assert count_parameters(model) == C1 + C3 + C5 + F6 + OUTPUT == 61_706


def test_default_variant_is_classic() -> None:
    assert create_model("lenet5").variant == "classic"


@pytest.mark.parametrize(
    ("variant", "activation", "pooling"),
    [("classic", nn.Tanh, nn.AvgPool2d), ("modern", nn.ReLU, nn.MaxPool2d)],
)
def test_variant_chooses_activation_and_pooling(variant: str, activation, pooling) -> None:
    model = create_model("lenet5", variant=variant)
    assert isinstance(model.activation, activation)
    assert isinstance(model.s2, pooling)
    assert isinstance(model.s4, pooling)


@pytest.mark.parametrize("variant", ["classic", "modern"])
def test_feature_map_sizes_follow_the_paper(variant: str) -> None:
    model = create_model("lenet5", variant=variant)
    shapes: dict[str, tuple[tuple[int, ...], tuple[int, ...]]] = {}

    def recorder(name: str):
        def record(_module: nn.Module, inputs: tuple[torch.Tensor, ...], out: torch.Tensor) -> None:
            shapes[name] = (tuple(inputs[0].shape), tuple(out.shape))

        return record

    for name in ("c1", "s2", "c3", "s4", "c5", "f6", "output"):
        getattr(model, name).register_forward_hook(recorder(name))
    model(torch.randn(2, 1, 28, 28))
    assert shapes["c1"] == ((2, 1, 32, 32), (2, 6, 28, 28))  # 28x28 padded to 32x32
    assert shapes["s2"][1] == (2, 6, 14, 14)
    assert shapes["c3"][1] == (2, 16, 10, 10)
    assert shapes["s4"][1] == (2, 16, 5, 5)
    assert shapes["c5"][1] == (2, 120, 1, 1)
    assert shapes["f6"][1] == (2, 84)
    assert shapes["output"][1] == (2, 10)


def test_padding_repeats_the_background() -> None:
    """A blank (normalized) image must look blank after padding: no artificial frame."""
    model = create_model("lenet5")
    seen: dict[str, torch.Tensor] = {}

    def keep_input(_module: nn.Module, inputs: tuple[torch.Tensor, ...], _out: object) -> None:
        seen["x"] = inputs[0]

    model.c1.register_forward_hook(keep_input)
    background = -0.4242  # (0 - mean) / std for MNIST
    model(torch.full((1, 1, 28, 28), background))
    assert torch.allclose(seen["x"], torch.full((1, 1, 32, 32), background))


def test_unknown_variant() -> None:
    with pytest.raises(ConfigError, match="unknown variant 'lenet1'; choose one of: classic"):
        create_model("lenet5", variant="lenet1")
