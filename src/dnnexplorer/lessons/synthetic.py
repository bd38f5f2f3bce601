"""A tiny MNIST look-alike made on the spot, for lessons run with `--offline`.

Seven-segment digits, as on a pocket calculator: each digit 0-9 lights some of seven bars
(a top, b top right, c bottom right, d bottom, e bottom left, f top left, g middle) drawn 2 pixels
thick in a 10x18 box in the middle of a 28x28 image. Every example is shifted by up to 3 pixels
each way, dimmed by a random factor in [0.6, 1] and sprinkled with Gaussian noise (std 0.1), then
stored like MNIST: uint8 pixels 0-255, white ink on black. It needs no download, is the same for
the same seed, and is easy enough that a softmax regression learns it in one epoch.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import torch

from dnnexplorer.data import Dataset

# Each bar as (rows, columns) slices of the 28x28 image.
SEGMENTS = {
    "a": (slice(5, 7), slice(9, 19)),
    "b": (slice(5, 15), slice(17, 19)),
    "c": (slice(13, 23), slice(17, 19)),
    "d": (slice(21, 23), slice(9, 19)),
    "e": (slice(13, 23), slice(9, 11)),
    "f": (slice(5, 15), slice(9, 11)),
    "g": (slice(13, 15), slice(9, 19)),
}
DIGIT_SEGMENTS = (
    "abcdef",
    "bc",
    "abged",
    "abgcd",
    "fgbc",
    "afgcd",
    "afgedc",
    "abc",
    "abcdefg",
    "abcdfg",
)
MAX_SHIFT = 3


def digit_template(digit: int) -> np.ndarray:
    """The clean drawing of `digit`: (28, 28) float32, ink 1.0 on 0.0."""
    image = np.zeros((28, 28), dtype=np.float32)
    for segment in DIGIT_SEGMENTS[digit]:
        image[SEGMENTS[segment]] = 1.0
    return image


def make_examples(n: int, rng: np.random.Generator) -> tuple[torch.Tensor, torch.Tensor]:
    """n noisy, shifted digits: images (n, 28, 28) uint8 and labels (n,) int64."""
    labels = rng.integers(0, 10, size=n)
    templates = np.stack([digit_template(d) for d in range(10)])  # (10, 28, 28)
    images = np.empty((n, 28, 28), dtype=np.float32)
    shifts = rng.integers(-MAX_SHIFT, MAX_SHIFT + 1, size=(n, 2))
    brightness = rng.uniform(0.6, 1.0, size=n).astype(np.float32)
    for i, (label, (dy, dx)) in enumerate(zip(labels, shifts, strict=True)):
        # The box leaves 5 empty pixels on every side, so rolling never wraps ink around.
        images[i] = np.roll(templates[label], (dy, dx), axis=(0, 1)) * brightness[i]
    images += rng.normal(0.0, 0.1, size=images.shape).astype(np.float32)
    pixels = np.clip(np.rint(images * 255), 0, 255).astype(np.uint8)
    return torch.from_numpy(pixels), torch.from_numpy(labels.astype(np.int64))


def seven_segment_digits(seed: int, n_train: int = 6000, n_test: int = 1000) -> Dataset:
    """A `Dataset` of seven-segment digits, shaped like MNIST (see the module docstring)."""
    rng = np.random.default_rng(seed)
    train_images, train_labels = make_examples(n_train, rng)
    test_images, test_labels = make_examples(n_test, rng)
    scaled = train_images.float() / 255
    return Dataset(
        name="seven-segment",
        classes=tuple(str(d) for d in range(10)),
        mean=float(scaled.mean()),
        std=float(scaled.std()),
        train_images=train_images,
        train_labels=train_labels,
        test_images=test_images,
        test_labels=test_labels,
        source=Path("<synthetic>"),
        from_cache=False,
    )
