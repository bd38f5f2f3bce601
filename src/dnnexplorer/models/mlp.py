"""The multilayer perceptron: softmax regression with hidden layers ("adding more layers").

Each hidden layer is Y = activation(XW + b); the last layer is softmax regression on the last
hidden features. Stacking layers lets the network build its own features instead of weighing raw
pixels, which takes MNIST from about 92% to about 98%. Any activation of `activations.py` fits,
maxout included: a maxout layer's Linear makes k pieces per unit and the max keeps one.
"""

from __future__ import annotations

from collections.abc import Sequence

from torch import Tensor, nn

from dnnexplorer.errors import ConfigError
from dnnexplorer.models.activations import (
    DEFAULT_MAXOUT_PIECES,
    activation_width_factor,
    make_activation,
)
from dnnexplorer.models.registry import FAST_BETAS, Recipe, TunedRecipe, register_model
from dnnexplorer.models.softmax import IMAGE_PIXELS


class MLP(nn.Module):
    """784 pixels -> hidden layers (Linear + activation) -> Linear to the logits."""

    def __init__(
        self,
        num_classes: int = 10,
        hidden: Sequence[int] = (200, 100),
        activation: str = "relu",
        maxout_pieces: int = DEFAULT_MAXOUT_PIECES,
    ) -> None:
        super().__init__()
        if any(not isinstance(w, int) or w < 1 for w in hidden):
            raise ConfigError(f"mlp: hidden widths must be positive integers, got {list(hidden)}")
        factor = activation_width_factor(activation, maxout_pieces)  # k for maxout, else 1
        layers: list[nn.Module] = [nn.Flatten()]  # (B, 1, 28, 28) -> (B, 784)
        width = IMAGE_PIXELS
        for units in hidden:
            layers.append(nn.Linear(width, units * factor))  # (B, width) -> (B, k*units)
            layers.append(make_activation(activation, maxout_pieces))  # -> (B, units)
            width = units
        layers.append(nn.Linear(width, num_classes))  # (B, width) -> (B, num_classes) logits
        self.layers = nn.Sequential(*layers)

    def forward(self, x: Tensor) -> Tensor:
        return self.layers(x)  # (B, 1, 28, 28) -> (B, num_classes)


@register_model(
    "mlp",
    description="multilayer perceptron: fully connected hidden layers (default 200, 100) + softmax",
    recipe=Recipe(
        epochs=5,
        batch_size=128,
        lr=2e-3,
        optimizer="adam",
        schedule="onecycle",
        label_smoothing=0.1,
    ),
    tuned=(
        TunedRecipe(
            "mnist",
            0.98,
            Recipe(epochs=3, batch_size=128, lr=3e-3, label_smoothing=0.1, betas=FAST_BETAS),
        ),
    ),
)
def build_mlp(
    num_classes: int = 10,
    hidden: Sequence[int] = (200, 100),
    activation: str = "relu",
    maxout_pieces: int = DEFAULT_MAXOUT_PIECES,
) -> MLP:
    """Options: `hidden` widths, `activation` (any of ACTIVATION_NAMES), `maxout_pieces` k."""
    return MLP(num_classes, hidden, activation, maxout_pieces)
