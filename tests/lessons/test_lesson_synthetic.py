"""The seven-segment stand-in for MNIST used by `--offline`."""

from __future__ import annotations

import torch

from dnnexplorer.lessons.synthetic import digit_template, seven_segment_digits


def test_shaped_like_mnist():
    data = seven_segment_digits(seed=0, n_train=300, n_test=50)
    assert data.train_images.shape == (300, 28, 28) and data.train_images.dtype == torch.uint8
    assert data.test_images.shape == (50, 28, 28)
    assert data.train_labels.dtype == torch.int64
    assert set(data.train_labels.tolist()) == set(range(10))
    assert data.classes == tuple("0123456789")
    assert 0 < data.mean < 0.5 and 0 < data.std < 0.5


def test_same_seed_same_data_other_seed_other_data():
    a, b = seven_segment_digits(1, 100, 10), seven_segment_digits(1, 100, 10)
    c = seven_segment_digits(2, 100, 10)
    assert torch.equal(a.train_images, b.train_images)
    assert not torch.equal(a.train_images, c.train_images)


def test_eight_lights_every_segment_and_one_only_two():
    eight, one = digit_template(8), digit_template(1)
    assert (one > 0).sum() < (eight > 0).sum()
    assert ((one > 0) <= (eight > 0)).all()  # every bar of 1 is a bar of 8
    # the drawing keeps a 5-pixel margin, so shifting by up to 3 never wraps ink around
    assert eight[:5].sum() == eight[-5:].sum() == eight[:, :5].sum() == eight[:, -5:].sum() == 0
