"""Data augmentation on tensors: small random shifts, rotations (and mirrorings) of a whole batch.

A digit moved by a pixel or tilted by a few degrees is still the same digit, so showing the model
such variants is like having more training data: it learns what matters (the strokes) rather
than where exactly they sit. A mirrored shirt is still a shirt, but a mirrored 2 is no digit at
all: mirroring is used only for datasets whose classes survive it (Fashion-MNIST). All images
of a batch are warped in one `affine_grid` + `grid_sample` call, with one random affine
transform per image and no Python loop per sample.

The same idea helps at test time (test-time augmentation): show the trained model a few views of
each test image (moved by a pixel, or mirrored) and average its answers. Where the views
disagree, the average is more often right than the single view; `tta_views` makes them.
"""

from __future__ import annotations

import math

import torch
import torch.nn.functional as F
from torch import Tensor

TTA_VIEWS = {
    "none": "the image alone",
    "shift": "the image and its four 1-pixel shifts (up, down, left, right)",
    "flip": "the image and its mirror image (for classes that survive mirroring)",
}


def random_shift_rotate(
    x: Tensor,
    generator: torch.Generator,
    max_shift: float = 2.0,
    max_degrees: float = 10.0,
    mirror: bool = False,
) -> Tensor:
    """Shift each image by up to `max_shift` pixels and rotate it by up to `max_degrees`;
    with `mirror`, also flip half of the images left to right (at random).

    `x` is a batch (B, C, H, W); the result has the same shape, dtype and device. The random
    draws come from `generator` alone, so the same generator state gives the same batch. Areas
    uncovered by the warp repeat the image's border (`padding_mode="border"`): MNIST's border
    is background, so this stays right whatever normalisation the pixels went through.
    """
    b, _, h, w = x.shape
    columns = 4 if mirror else 3
    draws = torch.rand(b, columns, generator=generator, device=generator.device)  # in [0, 1)
    draws = (2 * draws - 1).to(device=x.device, dtype=x.dtype)  # (B, columns) in [-1, 1)
    if max_shift == 0 and max_degrees == 0 and mirror:
        # Mirrorings alone (Fashion-MNIST) need no warp: an exact flip of the images drawn for
        # it, 13x cheaper than grid_sample on a 2-core CPU (the same draws, the same images).
        flipped = (draws[:, 3] < 0).view(b, 1, 1, 1)
        return torch.where(flipped, x.flip(dims=[3]), x)
    angle = draws[:, 0] * math.radians(max_degrees)  # (B,)
    shift_x, shift_y = draws[:, 1] * max_shift, draws[:, 2] * max_shift  # (B,) pixels
    theta = _affine_matrices(angle, shift_x, shift_y, h, w)  # (B, 2, 3)
    if mirror:  # x -> -x before the rest of the warp: a left-right flip of the image
        theta[:, :, 0] *= torch.where(draws[:, 3] < 0, -1.0, 1.0).unsqueeze(1)
    grid = F.affine_grid(theta, list(x.shape), align_corners=False)  # (B, H, W, 2)
    return F.grid_sample(x, grid, mode="bilinear", padding_mode="border", align_corners=False)


def _affine_matrices(angle: Tensor, shift_x: Tensor, shift_y: Tensor, h: int, w: int) -> Tensor:
    """Map output pixel positions to input positions, in grid_sample's [-1, 1] coordinates.

    A rotation by `angle` in pixel space becomes D R D^-1 in normalized space, D = diag(2/W, 2/H),
    so non-square images rotate without shearing; a shift of s pixels is 2s/W in x (2s/H in y).
    """
    cos, sin = torch.cos(angle), torch.sin(angle)  # (B,)
    theta = torch.stack(
        [
            torch.stack([cos, -sin * h / w, shift_x * 2 / w], dim=1),  # (B, 3)
            torch.stack([sin * w / h, cos, shift_y * 2 / h], dim=1),  # (B, 3)
        ],
        dim=1,
    )  # (B, 2, 3)
    return theta


def tta_views(x: Tensor, kind: str) -> list[Tensor]:
    """The views of each image that test-time augmentation averages over, one batch per view.

    `x` is a batch (B, C, H, W); the result is V batches (B, C, H, W) (`TTA_VIEWS`): the images
    themselves first, then each change of them. A 1-pixel shift repeats the image's border into
    the row or column it uncovers, as the training augmentation does (`padding_mode="border"`).
    """
    if kind not in TTA_VIEWS:
        known = ", ".join(TTA_VIEWS)
        raise ValueError(f"unknown test-time views '{kind}'; known: {known}")
    if kind == "none":
        return [x]
    if kind == "flip":
        return [x, x.flip(dims=[3])]
    h, w = x.shape[2:]
    padded = F.pad(x, (1, 1, 1, 1), mode="replicate")  # (B, C, H+2, W+2)
    # a crop that starts at row `top`, column `left` of the padded image; (1, 1) is the image
    starts = [(1, 1), (0, 1), (2, 1), (1, 0), (1, 2)]
    return [padded[:, :, top : top + h, left : left + w].contiguous() for top, left in starts]
