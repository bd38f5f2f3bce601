"""Exercises of chapter 14, `convolution`: output sizes, the sliding window, parameter counts.

The first asks for a feature map's side from n, k, p and s; the second for a function that slides
a filter over an image (checked against PyTorch's `F.conv2d`); the third counts the parameters of
the registry cnn's second conv layer, whose filters span all of the first layer's maps; the last
follows the shapes through both conv blocks to the fully connected head. The references come
from torch (`F.conv2d`) and the registry's `cnn`.
"""

from __future__ import annotations

from collections.abc import Callable

import torch
import torch.nn.functional as F
from torch import nn

from dnnexplorer.course.checking import Exercise, function, whole_number
from dnnexplorer.models import create_model

CHAPTER = "convolution"
SIDE, KERNEL, PADDING, STRIDE = 28, 5, 2, 2  # the output-size exercise


def _feature_map_side() -> int:
    """The side PyTorch's own convolution gives (the oracle, no formula)."""
    image, kernel = torch.zeros(1, 1, SIDE, SIDE), torch.zeros(1, 1, KERNEL, KERNEL)
    return F.conv2d(image, kernel, stride=STRIDE, padding=PADDING).shape[-1]


def _slide(image: torch.Tensor, kernel: torch.Tensor) -> torch.Tensor:
    """The reference: stride 1, no padding, filter not flipped. (n, n), (k, k) -> (n-k+1, n-k+1)."""
    return F.conv2d(image[None, None], kernel[None, None])[0, 0]


def _flipped(image: torch.Tensor, kernel: torch.Tensor) -> torch.Tensor:
    """The usual mistake: the mathematicians' convolution, which flips the filter first."""
    return _slide(image, kernel.flip(0, 1))


def _test_inputs() -> list[tuple[torch.Tensor, torch.Tensor]]:
    g = torch.Generator().manual_seed(0)  # lopsided filters, so that a flipped one differs
    return [
        (torch.rand(6, 6, generator=g), torch.randn(3, 3, generator=g)),
        (torch.rand(5, 5, generator=g), torch.randn(2, 2, generator=g)),
        (torch.rand(28, 28, generator=g), torch.tensor([[-1.0, 0.0, 1.0]] * 3)),
    ]


def _judge_slide(answer: object, reference: Callable) -> str | None:
    reason = function(_test_inputs)(answer, reference)
    if reason is not None and function(_test_inputs)(answer, _flipped) is None:
        return (
            "your function flips the filter first (the mathematicians' convolution); a CNN "
            "layer, like F.conv2d, slides the filter as it is"
        )
    return reason


def _layer_parameters(layer: nn.Module) -> int:
    return sum(p.numel() for p in layer.parameters())


def _cnn_conv(index: int) -> nn.Conv2d:
    return [m for m in create_model("cnn").features if isinstance(m, nn.Conv2d)][index]


EXERCISES = (
    Exercise(
        CHAPTER,
        "output-size",
        f"A {KERNEL}×{KERNEL} filter slides with stride {STRIDE} and padding {PADDING} over a "
        f"{SIDE}×{SIDE} image. What is the side of the feature map it makes?",
        solution=_feature_map_side,
        judge=whole_number(
            mistakes={
                13: "that forgets the + 1: the first window position counts too",
                12: "that forgets the padding, which adds 2p = 4 to the side",
                28: "that is the side with stride 1; with stride 2 the window jumps 2 pixels",
            }
        ),
        wrong=13,
        why="⌊(28 + 2·2 − 5)/2⌋ + 1 = ⌊27/2⌋ + 1 = 13 + 1 = 14: stride 2 halves the side. "
        "A stride is a cheap way to shrink feature maps, as pooling does.",
        hint="Use ⌊(n + 2p − k)/s⌋ + 1 and round the division down.",
    ),
    Exercise(
        CHAPTER,
        "slide",
        "Write slide(image, kernel) for a square image (n, n) and filter (k, k), stride 1, no "
        "padding: return the (n − k + 1, n − k + 1) feature map, each value the sum of the "
        "window's pixels times the filter.",
        solution=lambda: _slide,
        judge=_judge_slide,
        wrong=_flipped,
        why="Two loops over the window's positions, and at each one (window * kernel).sum(): "
        "that is all a convolution layer computes for one filter, before its bias and "
        "activation. F.conv2d does the same for many images and filters at once.",
        hint="Two nested loops over the output positions (r, c); the window there is "
        "image[r:r + k, c:c + k].",
    ),
    Exercise(
        CHAPTER,
        "second-layer",
        "The cnn's second conv layer makes 32 feature maps from the first layer's 16, with 3×3 "
        "filters. How many parameters (weights and biases) does it have?",
        solution=lambda: _layer_parameters(_cnn_conv(1)),
        judge=whole_number(
            mistakes={
                320: "each filter spans all 16 input maps: 16×3×3 weights, not 3×3",
                4608: "that counts the weights; each of the 32 filters also has a bias",
                288: "each filter spans all 16 input maps, and each has a bias",
            }
        ),
        wrong=320,
        why="32 filters × (16 maps × 3×3 weights) + 32 biases = 4,640. A filter of the second "
        "layer looks at the same 3×3 window in all 16 maps of the first at once: it combines "
        "the features found there into a new one.",
        hint="One filter has a 3×3 window in each input map, and one bias.",
    ),
    Exercise(
        CHAPTER,
        "flatten",
        "An image goes through the cnn's two blocks (conv 3×3 with padding 1, then 2×2 max "
        "pooling; 16 then 32 maps). How many numbers does nn.Flatten hand to the first fully "
        "connected layer?",
        solution=lambda: create_model("cnn").classifier[1].in_features,
        judge=whole_number(
            mistakes={
                6272: "that is 32 maps of 14×14: each block pools, so the side goes 28 → 14 → 7",
                784: "that is 16 maps of 7×7 (or the image's 784 pixels); the last block "
                "makes 32 maps",
                25088: "that is 32 maps of 28×28: each block's pooling halves the side",
            }
        ),
        wrong=6272,
        why="32 maps × 7 × 7 = 1,568 numbers: padding 1 keeps each conv's side, each pooling "
        "halves it (28 → 14 → 7). The head's first layer then needs 1,568 × 128 weights: most "
        "of the cnn's parameters sit there, not in the filters.",
        hint="Follow the side: a 3×3 conv with padding 1 keeps it, a 2×2 pooling halves it.",
    ),
)
