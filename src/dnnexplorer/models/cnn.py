"""A small modern CNN: conv-activation-pool blocks, then a fully connected head.

Where the MLP sees 784 unrelated numbers, a convolution slides the same small filter over the
whole image, so it looks at neighbouring pixels together and finds a stroke wherever it is. Each
block makes feature maps (conv + activation) and halves their size (2x2 max pooling), so later
filters see a larger part of the digit. Sized for accuracy per FLOP on a CPU: with the defaults it
reaches about 99% on MNIST in a few epochs.
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

IMAGE_SIZE = 28
MAX_BLOCKS = 3  # 28 -> 14 -> 7 -> 3: a fourth halving would leave a single pixel


class SmallCNN(nn.Module):
    """[conv KxK (same padding) -> 2x2 max pool -> activation] per entry of `channels`, then
    flatten -> Linear(hidden) -> activation -> Linear(num_classes)."""

    def __init__(
        self,
        num_classes: int = 10,
        channels: Sequence[int] = (16, 32),
        hidden: int = 128,
        activation: str = "relu",
        kernel_size: int = 3,
        maxout_pieces: int = DEFAULT_MAXOUT_PIECES,
    ) -> None:
        super().__init__()
        _check_shape_options(channels, hidden, kernel_size)
        k = activation_width_factor(activation, maxout_pieces)  # maxout: k pieces per channel
        blocks: list[nn.Module] = []
        in_channels, size = 1, IMAGE_SIZE
        for out_channels in channels:
            blocks += [
                # (B, in, S, S) -> (B, k*out, S, S): padding keeps the size
                nn.Conv2d(in_channels, out_channels * k, kernel_size, padding=kernel_size // 2),
                # Every activation here is non-decreasing, so max pooling commutes with it:
                # pooling first gives the same feature maps with 4x fewer activations (1.2x).
                nn.MaxPool2d(2),  # (B, k*out, S, S) -> (B, k*out, S/2, S/2)
                make_activation(activation, maxout_pieces),  # -> (B, out, S/2, S/2)
            ]
            in_channels, size = out_channels, size // 2
        self.features = nn.Sequential(*blocks)
        self.classifier = nn.Sequential(
            nn.Flatten(),  # (B, C, s, s) -> (B, C*s*s)
            nn.Linear(in_channels * size * size, hidden * k),  # -> (B, k*hidden)
            make_activation(activation, maxout_pieces),  # -> (B, hidden)
            nn.Linear(hidden, num_classes),  # (B, hidden) -> (B, num_classes) logits
        )

    def forward(self, x: Tensor) -> Tensor:
        feature_maps = self.features(x)  # (B, 1, 28, 28) -> (B, C, s, s)
        return self.classifier(feature_maps)  # -> (B, num_classes)


def _check_shape_options(channels: Sequence[int], hidden: int, kernel_size: int) -> None:
    if not 1 <= len(channels) <= MAX_BLOCKS or any(
        not isinstance(c, int) or c < 1 for c in channels
    ):
        raise ConfigError(
            f"cnn: channels must be 1 to {MAX_BLOCKS} positive integers, got {list(channels)}"
        )
    if hidden < 1:
        raise ConfigError(f"cnn: hidden must be a positive integer, got {hidden}")
    if kernel_size < 1 or kernel_size % 2 == 0:
        raise ConfigError(f"cnn: kernel_size must be odd (3, 5, ...), got {kernel_size}")


@register_model(
    "cnn",
    description="small CNN: conv-pool-relu blocks (16, 32 channels) + fully connected head",
    recipe=Recipe(epochs=4, batch_size=128, lr=3e-3, optimizer="adam", schedule="onecycle"),
    tuned=(
        # One epoch: a high peak rate, label smoothing and a fast-forgetting Adam (beta2 0.9).
        TunedRecipe(
            "mnist",
            0.99,
            Recipe(epochs=1, batch_size=128, lr=1e-2, label_smoothing=0.1, betas=FAST_BETAS),
        ),
    ),
)
def build_cnn(
    num_classes: int = 10,
    channels: Sequence[int] = (16, 32),
    hidden: int = 128,
    activation: str = "relu",
    kernel_size: int = 3,
    maxout_pieces: int = DEFAULT_MAXOUT_PIECES,
) -> SmallCNN:
    """Options: `channels` per block, `hidden`, `activation`, `kernel_size`, `maxout_pieces`."""
    return SmallCNN(num_classes, channels, hidden, activation, kernel_size, maxout_pieces)
