"""Random shifts and rotations of a batch: shape, identity, determinism, how far things move."""

from __future__ import annotations

import math

import pytest
import torch

from dnnexplorer.train.augment import random_shift_rotate, tta_views


def _blobs(n: int = 16) -> torch.Tensor:
    """(n, 1, 28, 28) raw images in [0, 1]: a bright 8x6 stroke-like block near the centre."""
    x = torch.zeros(n, 1, 28, 28)
    x[:, :, 10:18, 11:17] = torch.linspace(0.5, 1.0, 6)
    return x


def _centroids(x: torch.Tensor) -> torch.Tensor:
    """(B, 1, H, W) -> (B, 2): the (row, column) centre of mass of each image, in pixels."""
    rows = torch.arange(x.shape[2], dtype=x.dtype).view(1, 1, -1, 1)
    cols = torch.arange(x.shape[3], dtype=x.dtype).view(1, 1, 1, -1)
    mass = x.sum(dim=(1, 2, 3))
    return torch.stack([(x * rows).sum((1, 2, 3)) / mass, (x * cols).sum((1, 2, 3)) / mass], 1)


def test_shape_dtype_and_device_are_kept() -> None:
    x = torch.randn(5, 1, 28, 28, dtype=torch.float64)
    y = random_shift_rotate(x, torch.Generator().manual_seed(0))
    assert y.shape == x.shape
    assert y.dtype == x.dtype
    assert y.device == x.device


def test_zero_shift_and_rotation_is_the_identity() -> None:
    x = torch.randn(4, 1, 28, 28)
    y = random_shift_rotate(x, torch.Generator().manual_seed(0), max_shift=0, max_degrees=0)
    # Sampling at float32 grid coordinates is exact to about 1e-6 of a pixel's value.
    torch.testing.assert_close(y, x, atol=1e-4, rtol=0)


def test_same_seed_same_batch_other_seed_other_batch() -> None:
    x = _blobs()
    a = random_shift_rotate(x, torch.Generator().manual_seed(7))
    b = random_shift_rotate(x, torch.Generator().manual_seed(7))
    c = random_shift_rotate(x, torch.Generator().manual_seed(8))
    assert torch.equal(a, b)
    assert not torch.equal(a, c)


def test_each_image_gets_its_own_transform() -> None:
    y = random_shift_rotate(_blobs(), torch.Generator().manual_seed(0))
    assert not torch.equal(y[0], y[1])


def test_pixel_mass_is_roughly_preserved() -> None:
    x = _blobs()
    y = random_shift_rotate(x, torch.Generator().manual_seed(0))
    torch.testing.assert_close(y.sum(dim=(1, 2, 3)), x.sum(dim=(1, 2, 3)), rtol=0.05, atol=0)


@pytest.mark.parametrize("max_shift", [1.0, 3.0])
def test_shifts_stay_within_max_shift(max_shift: float) -> None:
    x = _blobs(64)
    y = random_shift_rotate(x, torch.Generator().manual_seed(0), max_shift, max_degrees=0)
    moved = _centroids(y) - _centroids(x)  # (B, 2) pixels
    assert moved.abs().max() <= max_shift + 0.05
    assert moved.abs().max() > max_shift / 2  # and they do move


def test_rotation_about_the_centre_keeps_a_centred_digit_in_place() -> None:
    x = torch.zeros(8, 1, 28, 28)
    x[:, :, 8:20, 13:15] = 1.0  # a vertical bar through the centre, (13.5, 13.5)
    y = random_shift_rotate(x, torch.Generator().manual_seed(0), max_shift=0, max_degrees=30)
    torch.testing.assert_close(_centroids(y), _centroids(x), atol=0.05, rtol=0)
    assert not torch.allclose(y, x)


def test_rotation_angle_stays_within_max_degrees() -> None:
    """A horizontal bar's tilt after the warp is at most max_degrees."""
    x = torch.zeros(32, 1, 28, 28)
    x[:, :, 13:15, 4:24] = 1.0
    y = random_shift_rotate(x, torch.Generator().manual_seed(1), max_shift=0, max_degrees=10)
    rows = torch.arange(28.0).view(1, 1, -1, 1)
    cols = torch.arange(28.0).view(1, 1, 1, -1)
    c = _centroids(y)
    dr, dc = rows - c[:, 0].view(-1, 1, 1, 1), cols - c[:, 1].view(-1, 1, 1, 1)
    cov_rc, cov_cc = (y * dr * dc).sum((1, 2, 3)), (y * dc * dc).sum((1, 2, 3))
    # the bar's main axis: for a thin bar, tan(angle) ~ cov(row, col) / var(col)
    tilt = torch.rad2deg(torch.atan(cov_rc / cov_cc)).abs()
    assert tilt.max() <= 10 + 1.0
    assert tilt.max() > 5


def test_background_stays_background_after_normalization() -> None:
    """A blank normalized image (every pixel -0.4242) stays blank: no zero-valued frame."""
    x = torch.full((3, 1, 28, 28), -0.4242)
    y = random_shift_rotate(x, torch.Generator().manual_seed(0), max_shift=3, max_degrees=20)
    torch.testing.assert_close(y, x)


def test_non_square_images_rotate_without_shear() -> None:
    x = torch.zeros(4, 1, 20, 40)
    x[:, :, 8:12, 18:22] = 1.0  # a 4x4 square at the centre
    y = random_shift_rotate(x, torch.Generator().manual_seed(0), max_shift=0, max_degrees=45)
    torch.testing.assert_close(y.sum((1, 2, 3)), x.sum((1, 2, 3)), rtol=0.05, atol=0)
    assert math.isclose(_centroids(y)[:, 1].mean().item(), 19.5, abs_tol=0.1)


def test_tta_views_are_one_batch_per_view_of_the_whole_batch() -> None:
    x = _blobs(3)
    (same,) = tta_views(x, "none")
    assert same is x
    flips = tta_views(x, "flip")
    assert [v.shape for v in flips] == [(3, 1, 28, 28)] * 2
    torch.testing.assert_close(flips[0], x)
    torch.testing.assert_close(flips[1], x.flip(dims=[3]))
    shifts = tta_views(x, "shift")
    assert [v.shape for v in shifts] == [(3, 1, 28, 28)] * 5
    torch.testing.assert_close(shifts[0], x)  # view 0: the images themselves
    moved = torch.stack([_centroids(v) - _centroids(x) for v in shifts[1:]])  # (4, 3, 2)
    expected = torch.tensor([[1.0, 0], [-1, 0], [0, 1], [0, -1]])  # (rows, columns) per view
    torch.testing.assert_close(moved, expected[:, None].expand(4, 3, 2), atol=1e-4, rtol=0)
    with pytest.raises(ValueError, match="unknown test-time views 'blur'"):
        tta_views(x, "blur")


def test_mirroring_alone_flips_about_half_the_images_and_changes_nothing_else() -> None:
    """Fashion-MNIST's augmentation (data/registry.py): no shift, no tilt, mirrorings only."""
    x = torch.rand(64, 1, 28, 28)
    y = random_shift_rotate(x, torch.Generator().manual_seed(0), 0.0, 0.0, mirror=True)
    flipped = torch.tensor(
        [torch.allclose(b, a.flip(dims=[2]), atol=1e-5) for a, b in zip(x, y, strict=True)]
    )
    kept = torch.tensor([torch.allclose(b, a, atol=1e-5) for a, b in zip(x, y, strict=True)])
    assert bool((flipped ^ kept).all())  # each image is either itself or its mirror, exactly
    assert 16 < int(flipped.sum()) < 48
    # The shortcut (a flip, no warp) mirrors the very images the warp would, with the same draws.
    warped = random_shift_rotate(x, torch.Generator().manual_seed(0), 0.0, 1e-9, mirror=True)
    torch.testing.assert_close(y, warped, atol=1e-4, rtol=0)


def test_each_dataset_says_which_changes_keep_its_classes() -> None:
    from dnnexplorer.data import get_dataset

    digits, clothes = get_dataset("mnist").augmentation, get_dataset("fashion-mnist").augmentation
    assert not digits.mirror and digits.max_shift > 0 and digits.max_degrees > 0
    assert clothes.mirror and clothes.max_shift == 0 and clothes.max_degrees == 0
