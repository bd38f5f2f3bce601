"""The convolution lesson: a filter slid by hand, parameter counts, feature maps, pixel shuffle.

Oracles: PyTorch's own `F.conv2d` for the sliding window and the output size, `sum(p.numel())`
of real layers for the parameter counts, the layers run one after another for the hooks.
Offline runs (seven-segment digits) always; the MNIST run needs the real data (DNNX_DATA).
"""

from __future__ import annotations

import pytest
import torch
import torch.nn.functional as F
from torch import nn

from dnnexplorer.lessons import LessonConfig, convolution, run_lesson
from dnnexplorer.lessons.synthetic import seven_segment_digits
from dnnexplorer.models import create_model


@pytest.fixture(scope="module")
def numbers(lesson_run):
    return lesson_run("convolution")[0].numbers


@pytest.mark.parametrize("n", [5, 28, 32])
@pytest.mark.parametrize("kernel", [1, 2, 3, 5])
@pytest.mark.parametrize("padding", [0, 1, 2])
@pytest.mark.parametrize("stride", [1, 2, 3])
def test_output_size_is_the_side_conv2d_gives(n, kernel, padding, stride):
    out = F.conv2d(
        torch.zeros(1, 1, n, n), torch.zeros(1, 1, kernel, kernel), None, stride, padding
    )
    assert out.shape[-1] == convolution.output_size(n, kernel, padding, stride)


@pytest.mark.parametrize(("stride", "padding"), [(1, 0), (1, 1), (2, 0), (2, 1), (3, 2)])
def test_slide_filter_loops_equal_conv2d(stride, padding):
    g = torch.Generator().manual_seed(0)
    image, kernel = torch.rand(11, 11, generator=g), torch.randn(3, 3, generator=g)
    by_hand = convolution.slide_filter(image, kernel, stride, padding)
    oracle = F.conv2d(image[None, None], kernel[None, None], stride=stride, padding=padding)
    torch.testing.assert_close(by_hand, oracle[0, 0])


def test_the_lesson_slides_its_filter_with_every_setting(numbers):
    found = {(f["stride"], f["padding"]): f for f in numbers["sliding"]}
    assert set(found) == {(1, 0), (1, 1), (2, 0), (2, 1)}
    for (stride, padding), f in found.items():
        side = (28 + 2 * padding - 3) // stride + 1
        assert f["output"] == [side, side] and f["formula"] == side
        assert f["max_difference_to_conv2d"] < 1e-5
    assert found[1, 1]["formula"] == 28  # padding 1: as many outputs as pixels


def test_parameter_counts_are_those_of_real_layers(numbers):
    conv = nn.Conv2d(1, 16, kernel_size=3, padding=1)
    dense = nn.Linear(784, 16 * 28 * 28)  # the same 12,544 outputs, each seeing every pixel
    counts = numbers["parameters"]
    assert counts == convolution.parameter_counts(conv)
    assert counts["outputs"] == conv(torch.zeros(1, 1, 28, 28)).numel() == 12_544
    assert counts["shared"] == sum(p.numel() for p in conv.parameters()) == 160
    assert counts["fully_connected"] == sum(p.numel() for p in dense.parameters())
    assert counts["local"] == counts["outputs"] * (3 * 3 + 1)  # one window and bias per output
    assert counts["shared"] < counts["local"] < counts["fully_connected"]


def test_parameter_counts_of_a_layer_with_many_input_channels():
    conv = nn.Conv2d(16, 32, kernel_size=3, padding=1)
    counts = convolution.parameter_counts(conv, image_size=14)
    assert counts["shared"] == 32 * 16 * 9 + 32
    dense = nn.Linear(16 * 14 * 14, 32 * 14 * 14, device="meta")
    assert counts["fully_connected"] == sum(p.numel() for p in dense.parameters())


def test_cnn_parameter_numbers(numbers):
    cnn = create_model("cnn")
    assert numbers["cnn_parameters"] == sum(p.numel() for p in cnn.parameters())
    convs = [m for m in cnn.modules() if isinstance(m, nn.Conv2d)]
    assert numbers["conv_layer_parameters"] == sum(p.numel() for m in convs for p in m.parameters())


def test_hooks_record_every_layer_as_running_them_one_by_one():
    with torch.random.fork_rng():
        torch.manual_seed(0)
        model, image = create_model("cnn").eval(), torch.randn(1, 1, 28, 28)
    maps = convolution.record_feature_maps(model, image)
    assert len(maps) == len(model.features)
    x = image
    with torch.no_grad():
        for (name, recorded), layer in zip(maps, model.features, strict=True):
            x = layer(x)
            assert type(layer).__name__ in name
            torch.testing.assert_close(recorded, x[0])
    assert all(not layer._forward_hooks for layer in model.features)  # hooks removed


def test_feature_map_shapes(numbers):
    shapes = list(numbers["feature_map_shapes"].values())
    assert shapes == [
        [16, 28, 28],
        [16, 14, 14],
        [16, 14, 14],
        [32, 14, 14],
        [32, 7, 7],
        [32, 7, 7],
    ]
    assert 0 <= numbers["predicted"] <= 9 and 0.1 <= numbers["confidence"] <= 1


def test_shuffle_moves_the_same_pixels_of_every_image():
    data = seven_segment_digits(0, n_train=50, n_test=20)
    permutation = torch.randperm(784, generator=torch.Generator().manual_seed(3))
    shuffled = convolution.shuffle_pixels(data, permutation)
    for before, after in (
        (data.train_images, shuffled.train_images),
        (data.test_images, shuffled.test_images),
    ):
        assert after.shape == before.shape
        assert torch.equal(after.flatten(1), before.flatten(1)[:, permutation])
    assert torch.equal(shuffled.train_labels, data.train_labels)
    assert not torch.equal(shuffled.train_images, data.train_images)


def test_pixel_shuffle_offline(numbers):
    acc = numbers["accuracy"]
    assert numbers["dataset"] == "seven-segment"
    assert abs(acc["mlp original"] - acc["mlp shuffled"]) < 0.05  # the MLP does not care
    assert acc["cnn original"] - acc["cnn shuffled"] > 0.2  # the CNN does
    assert acc["cnn original"] > acc["mlp original"]
    # The MLP with its first layer's columns permuted is the same function on shuffled images.
    assert abs(acc["mlp rewired"] - acc["mlp original"]) <= 1 / numbers["test_images"]


@pytest.mark.real_data
def test_convolution_on_mnist(data_root, tmp_path):
    result = run_lesson("convolution", LessonConfig(out_dir=tmp_path, data_dir=data_root))
    numbers = result.numbers
    acc = numbers["accuracy"]
    assert numbers["dataset"] == "mnist" and numbers["digit_label"] == 7
    assert numbers["train_images"] == 12_000 and numbers["epochs"] == 1
    assert abs(acc["mlp original"] - acc["mlp shuffled"]) < 0.02
    assert acc["cnn original"] > 0.9
    assert acc["cnn original"] - acc["cnn shuffled"] > 0.04
    assert abs(acc["mlp rewired"] - acc["mlp original"]) <= 1 / numbers["test_images"]
