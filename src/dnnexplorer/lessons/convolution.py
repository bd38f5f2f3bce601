"""Lesson `convolution`: filters, shared weights and feature maps on real digits.

A fully connected layer ignores which pixels are neighbours; a convolution neuron sums a small
window (local receptive field) with weights shared by every position. On real digits: (1) an edge
filter slid by explicit loops, checked against `F.conv2d` for strides 1, 2 and paddings 0, 1,
with the output size ⌊(n + 2p − k)/s⌋ + 1 (like PyTorch, we do not flip the filter); (2) the
parameters of a conv layer vs the same outputs without sharing and fully connected; (3) the
feature maps of every layer of the registry's `cnn`, via forward hooks; (4) the pixel shuffle: one
permutation of the 784 pixels for every image leaves an MLP indifferent and hurts a CNN. Training
goes through `run_training` on a small budget (a subset, one epoch). Data: MNIST, or
seven-segment digits with `--offline`.
"""

from __future__ import annotations

import copy
import dataclasses

import numpy as np
import torch
import torch.nn.functional as F
from torch import nn

from dnnexplorer.data import Dataset
from dnnexplorer.data.batches import normalize
from dnnexplorer.lessons.base import LessonConfig, LessonResult, digits_dataset, new_figure, save
from dnnexplorer.train import TrainConfig, evaluate, run_training

NAME = "convolution"
DESCRIPTION = "Filters on a real digit, shared weights, a CNN's feature maps, the pixel shuffle"
USES_MNIST = True  # unless config.offline

# Dark on the left, ink on the right: it answers "is there a left edge of a stroke here?"
EDGE_FILTER = torch.tensor([[-1.0, 0.0, 1.0], [-1.0, 0.0, 1.0], [-1.0, 0.0, 1.0]])
SETTINGS = ((1, 0), (1, 1), (2, 0), (2, 1))  # (stride, padding) pairs slid by hand
# The small training budget of the pixel-shuffle experiment, on MNIST and offline.
BUDGET = {"mnist": (12_000, 5_000), "seven-segment": (3_000, 1_000)}  # (train, test) images
EPOCHS = 1
SHOWN_CHANNELS = 8  # feature maps drawn per layer


def output_size(n: int, kernel: int, padding: int = 0, stride: int = 1) -> int:
    """Side of the feature map: ⌊(n + 2p − k) / s⌋ + 1 for an n x n input and a k x k filter."""
    return (n + 2 * padding - kernel) // stride + 1


def slide_filter(
    image: torch.Tensor, kernel: torch.Tensor, stride: int = 1, padding: int = 0
) -> torch.Tensor:
    """Slide `kernel` (k, k) over `image` (n, n) by explicit loops: -> (out, out). Each output is
    the weighted sum of the window's pixels; the window jumps `stride` pixels over the image
    framed by `padding` rows and columns of zeros."""
    padded = F.pad(image, (padding,) * 4)  # (n, n) -> (n + 2p, n + 2p)
    k = kernel.shape[0]
    size = output_size(image.shape[0], k, padding, stride)
    out = torch.empty(size, size)
    for r in range(size):
        for c in range(size):
            window = padded[r * stride : r * stride + k, c * stride : c * stride + k]  # (k, k)
            out[r, c] = (window * kernel).sum()
    return out


def parameter_counts(conv: nn.Conv2d, image_size: int = 28) -> dict[str, int]:
    """Weights and biases that make the same outputs as `conv`: `shared` (the convolution),
    `local` (each output its own window weights: no sharing) and `fully_connected` (each output
    sees every pixel; built on the meta device, so its millions of numbers take no memory)."""
    size = output_size(image_size, conv.kernel_size[0], conv.padding[0], conv.stride[0])
    outputs = conv.out_channels * size * size
    dense = nn.Linear(conv.in_channels * image_size**2, outputs, device="meta")
    per_window = conv.in_channels * conv.kernel_size[0] * conv.kernel_size[1] + 1  # + bias
    return {
        "outputs": outputs,
        "shared": sum(p.numel() for p in conv.parameters()),
        "local": outputs * per_window,
        "fully_connected": sum(p.numel() for p in dense.parameters()),
    }


def record_feature_maps(model: nn.Module, image: torch.Tensor) -> list[tuple[str, torch.Tensor]]:
    """Run one image (1, 1, 28, 28) through `model`, keeping what each layer of
    `model.features` outputs, via forward hooks: [(layer name, (C, H, W)), ...]."""
    maps: list[tuple[str, torch.Tensor]] = []

    def keep(name: str):  # a hook is called as hook(layer, inputs, output) after each forward
        return lambda _layer, _inputs, output: maps.append((name, output.detach()[0]))

    layers = enumerate(model.features)
    handles = [m.register_forward_hook(keep(f"{i}: {type(m).__name__}")) for i, m in layers]
    try:
        with torch.no_grad():
            model(image)
    finally:
        for handle in handles:
            handle.remove()
    return maps


def shuffle_pixels(dataset: Dataset, permutation: torch.Tensor) -> Dataset:
    """The same dataset with every image's 784 pixels reordered by one fixed `permutation`."""

    def shuffle(images: torch.Tensor) -> torch.Tensor:  # (N, 28, 28) -> (N, 784) -> (N, 28, 28)
        return images.flatten(1)[:, permutation].reshape(images.shape)

    train, test = shuffle(dataset.train_images), shuffle(dataset.test_images)
    return dataclasses.replace(dataset, train_images=train, test_images=test)


def small_budget(dataset: Dataset) -> Dataset:
    """The first training and test images of the budget (MNIST's are already in random order)."""
    n, m = BUDGET.get(dataset.name, BUDGET["mnist"])
    images = {"train_images": dataset.train_images[:n], "test_images": dataset.test_images[:m]}
    labels = {"train_labels": dataset.train_labels[:n], "test_labels": dataset.test_labels[:m]}
    return dataclasses.replace(dataset, **images, **labels)


def pixel_shuffle_experiment(
    dataset: Dataset, seed: int
) -> tuple[dict[str, float], dict[str, nn.Module], torch.Tensor]:
    """Train `mlp` and `cnn` on the original and on the shuffled images, same budget: their
    test accuracies ("mlp original", ...), the models, the permutation. Also "mlp rewired": the
    MLP of the originals, its first layer's columns put in the shuffled order, on shuffled data."""
    permutation = torch.randperm(784, generator=torch.Generator().manual_seed(seed))
    data = {"original": dataset, "shuffled": shuffle_pixels(dataset, permutation)}
    accuracies, models = {}, {}
    for model in ("mlp", "cnn"):
        for kind, part in data.items():
            train = TrainConfig(model=model, epochs=EPOCHS, seed=seed, device="cpu")
            result = run_training(train, dataset=part)
            accuracies[f"{model} {kind}"] = result.history[-1]["test_accuracy"]
            models[f"{model} {kind}"] = result.model
    rewired = copy.deepcopy(models["mlp original"])
    first = rewired.layers[1]  # nn.Linear(784, 200): weight (200, 784)
    first.weight.data = first.weight.data[:, permutation]  # column j now reads pixel perm[j]
    x, y = data["shuffled"].test_images, data["shuffled"].test_labels
    accuracies["mlp rewired"] = evaluate(rewired, x, y, dataset.mean, dataset.std).accuracy
    return accuracies, models, permutation


def compare_with_conv2d(image: torch.Tensor) -> list[dict]:
    """EDGE_FILTER slid over `image` (n, n) by hand and by `F.conv2d`, for each of SETTINGS."""
    found = []
    for s, p in SETTINGS:
        by_hand = slide_filter(image, EDGE_FILTER, s, p)  # (out, out)
        oracle = F.conv2d(image[None, None], EDGE_FILTER[None, None], stride=s, padding=p)
        found.append({"stride": s, "padding": p, "output": by_hand})
        found[-1]["formula"] = output_size(len(image), len(EDGE_FILTER), p, s)
        found[-1]["max_difference_to_conv2d"] = float((by_hand - oracle[0, 0]).abs().max())
    return found


def _bare(ax, image, title: str = "", **style) -> None:
    ax.imshow(image, **style)
    ax.set(title=title, xticks=[], yticks=[])


def _plot_sliding(config: LessonConfig, image, slid: list[dict], figures: list) -> None:
    fig = new_figure(10, 5.6)
    axes = fig.subplots(2, 3).flat
    _bare(axes[0], image.numpy(), "the digit (pixels 0..1)", cmap="gray")
    _bare(axes[1], EDGE_FILTER.numpy(), "the 3x3 filter (left edges)", cmap="bwr", vmin=-2, vmax=2)
    for (r, c), v in np.ndenumerate(EDGE_FILTER.numpy()):
        axes[1].text(c, r, f"{v:+.0f}", ha="center", va="center")
    for ax, found in zip(axes[2:], slid, strict=True):
        out, lim = found["output"].numpy(), float(found["output"].abs().max()) or 1.0
        title = f"stride {found['stride']}, padding {found['padding']}: {len(out)}x{len(out)}"
        _bare(ax, out, title, cmap="bwr", vmin=-lim, vmax=lim)
    fig.suptitle("One filter slid over a digit (red: a left edge found, blue: a right edge)")
    save(fig, config, "sliding_filter", figures)


def _mosaic(maps: torch.Tensor) -> np.ndarray:
    """(C, H, W) -> (H, C·(W + 1) − 1): maps side by side, each scaled to 0..1, a gap between."""
    low, high = maps.amin(dim=(1, 2), keepdim=True), maps.amax(dim=(1, 2), keepdim=True)
    scaled = (maps - low) / (high - low).clamp_min(1e-8)  # (C, H, W)
    gap = torch.full((len(maps), maps.shape[1], 1), float("nan"))  # NaN: drawn as background
    return torch.cat([scaled, gap], dim=2).transpose(0, 1).flatten(1)[:, :-1].numpy()


# One mosaic per row, not one axes per map: dozens of small axes take seconds to draw.
def _plot_feature_maps(config: LessonConfig, image, maps, predicted: int, figures: list) -> None:
    rows = [("input", image), *maps]
    fig = new_figure(1.2 * SHOWN_CHANNELS, 1.25 * len(rows))
    for ax, (name, tensor) in zip(fig.subplots(len(rows), 1), rows, strict=True):
        _bare(ax, _mosaic(tensor[:SHOWN_CHANNELS]), cmap="gray")
        ax.set_ylabel(f"{name}\n{tuple(tensor.shape)}", fontsize=7)
    fig.suptitle(f"The trained cnn's feature maps (first {SHOWN_CHANNELS}), read as {predicted}")
    save(fig, config, "feature_maps", figures)


def _plot_shuffle(config: LessonConfig, dataset, permutation, accuracies, figures: list) -> None:
    originals, shuffled = dataset.test_images, shuffle_pixels(dataset, permutation).test_images
    fig = new_figure(11, 4)
    grid = fig.add_gridspec(2, 8)  # the digits, the bar chart
    _bare(fig.add_subplot(grid[0, :5]), _mosaic(originals[:4].float()), "original", cmap="gray")
    _bare(fig.add_subplot(grid[1, :5]), _mosaic(shuffled[:4].float()), "shuffled", cmap="gray")
    bars = fig.add_subplot(grid[:, 6:])
    names = ["mlp original", "mlp shuffled", "cnn original", "cnn shuffled"]
    drawn = bars.bar(range(4), [accuracies[n] for n in names], color=["C0", "C0", "C3", "C3"])
    bars.bar_label(drawn, fmt="{:.1%}", fontsize=8)
    bars.set_xticks(range(4), [n.replace(" ", "\n") for n in names], fontsize=8)
    bars.set(ylim=(min(accuracies.values()) - 0.1, 1.0), ylabel="test accuracy")
    fig.suptitle("The same pixel shuffle for every image: the MLP does not care, the CNN does")
    save(fig, config, "pixel_shuffle", figures)


def run(config: LessonConfig) -> LessonResult:
    """Slide a filter by hand, count parameters, record feature maps, shuffle pixels."""
    dataset = small_budget(digits_dataset(config))
    digit = dataset.test_images[0].float() / 255  # (28, 28) on the slides' 0..1 scale
    slid = compare_with_conv2d(digit)
    accuracies, models, permutation = pixel_shuffle_experiment(dataset, config.seed)
    cnn = models["cnn original"]
    seen = normalize(dataset.test_images[:1], dataset.mean, dataset.std)  # (1, 1, 28, 28)
    maps = record_feature_maps(cnn, seen)
    probs = cnn(seen).detach().softmax(dim=1)[0]  # (1, 10) -> (10,)
    figures: list = []
    _plot_sliding(config, digit, slid, figures)
    _plot_feature_maps(config, seen[0], maps, int(probs.argmax()), figures)
    _plot_shuffle(config, dataset, permutation, accuracies, figures)
    convs = [m for m in cnn.features if isinstance(m, nn.Conv2d)]
    numbers = {
        "dataset": dataset.name,
        "digit_label": int(dataset.test_labels[0]),
        "sliding": [{**f, "output": list(f["output"].shape)} for f in slid],  # (out, out)
        "parameters": parameter_counts(convs[0]),
        "conv_layer_parameters": sum(p.numel() for m in convs for p in m.parameters()),
        "cnn_parameters": sum(p.numel() for p in cnn.parameters()),
        "feature_map_shapes": {name: list(t.shape) for name, t in maps},
        "predicted": int(probs.argmax()),
        "confidence": float(probs.max()),
        "train_images": len(dataset.train_labels),
        "test_images": len(dataset.test_labels),
        "epochs": EPOCHS,
        "accuracy": accuracies,
    }
    return LessonResult(NAME, config.seed, numbers, _summary(numbers), figures, _story(numbers))


def _summary(n: dict) -> list[str]:
    sides = ", ".join(f"s{f['stride']} p{f['padding']}: {f['formula']}" for f in n["sliding"])
    p, a = n["parameters"], n["accuracy"]
    return [
        f"3x3 filter on a {n['digit_label']}, sides {sides} (loops = F.conv2d)",
        f"{p['outputs']:,} outputs: conv {p['shared']:,}, local {p['local']:,}, "
        f"fully connected {p['fully_connected']:,} parameters",
        f"pixel shuffle ({n['train_images']:,} images, {n['epochs']} epoch): mlp "
        f"{a['mlp original']:.1%} -> {a['mlp shuffled']:.1%}, cnn {a['cnn original']:.1%} -> "
        f"{a['cnn shuffled']:.1%}",
    ]


def _story(n: dict) -> list[str]:
    side = {(f["stride"], f["padding"]): f["formula"] for f in n["sliding"]}
    worst = max(f["max_difference_to_conv2d"] for f in n["sliding"])
    p, a = n["parameters"], n["accuracy"]
    shapes = "; ".join(
        f"{k[3:]} {'×'.join(map(str, v))}" for k, v in n["feature_map_shapes"].items()
    )
    return [
        "A fully connected layer gives each neuron a weight for each of the 784 pixels: it ignores "
        "which pixels are neighbours, the image's spatial structure. A convolution layer builds "
        "it in with three ideas: a filter sees a small window only (local receptive field), with "
        "the same weights and bias at every position (shared weights), then pooling. A k×k filter "
        "w slid with stride s over an n×n image framed by p rows and columns of zeros: "
        "y[r, c] = Σᵢ Σⱼ w[i, j]·x[r·s + i, c·s + j] + b, a map of side ⌊(n + 2p − k)/s⌋ + 1.",
        f"A 3×3 left-edge filter slid by explicit loops over a test digit ({n['digit_label']}) "
        f"gives a side of {side[1, 0]} with stride 1 and no padding, {side[1, 1]} with padding 1 "
        f"(as many outputs as pixels: the slides' 'some padding at the edges'), {side[2, 0]} and "
        f"{side[2, 1]} with stride 2: as the formula says, and equal to PyTorch's F.conv2d within "
        f"{worst:.0e}. In sliding_filter.png red marks the strokes' left edges, blue their right "
        "ones. Like PyTorch, we do not flip the filter (mathematics calls it cross-correlation).",
        f"The cnn's first layer makes {p['outputs']:,} outputs (16 feature maps of 28×28) with "
        f"{p['shared']:,} parameters: 16 filters of 3×3 plus 16 biases. Giving each output its "
        f"own 3×3 weights (local receptive fields, no sharing) would take {p['local']:,}; "
        f"connecting each output to all 784 pixels, as a fully connected layer does, "
        f"{p['fully_connected']:,}. Sharing also lets a filter find a stroke wherever it is. The "
        f"two conv layers hold only {n['conv_layer_parameters']:,} of the cnn's "
        f"{n['cnn_parameters']:,} parameters: the rest is its fully connected head.",
        f"feature_maps.png follows the digit through each layer of the trained cnn's conv part, "
        f"recorded with forward hooks ({shapes}). The first maps are the digit seen through 16 "
        "filters; pooling halves them, keeping the strongest response of each 2×2 region; the "
        "second conv layer combines those features into larger ones: deep learning learns "
        f"layers of features. The cnn reads the digit as {n['predicted']} "
        f"({n['confidence']:.0%} sure). It pools before the ReLU, the slides' order reversed: "
        "for a non-decreasing activation both give the same maps, and pooling first is cheaper.",
        "Last, one fixed random order of the 784 pixels is applied to every training and test "
        "image: to our eye the digits become noise (pixel_shuffle.png). With the same small "
        f"budget ({n['train_images']:,} training images, {n['epochs']} epoch, "
        f"{n['test_images']:,} test images) the MLP goes from {a['mlp original']:.1%} to "
        f"{a['mlp shuffled']:.1%}, barely moving; the CNN falls from {a['cnn original']:.1%} to "
        f"{a['cnn shuffled']:.1%}. The MLP never used the pixels' order: its trained weights, "
        f"columns put in the shuffled order, score {a['mlp rewired']:.1%} on the shuffled images, "
        "as before. The CNN's filters and pooling bet that neighbouring pixels belong together.",
        "Take-away: a convolution layer is a fully connected layer with most weights removed "
        "(locality) and the rest tied together (sharing): far fewer parameters, and a bet on "
        "images that pays only when pixel positions mean something. Chapter 15, the MNIST "
        "ladder, compares softmax, the MLP, the CNN and LeNet-5 trained properly.",
    ]
