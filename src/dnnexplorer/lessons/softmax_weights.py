"""Lesson `softmax-weights`: what softmax regression learns, seen as ten images.

Softmax regression, Y = softmax(XW + b), scores digit c by a weighted sum of the 784 pixels
with the weights in row c of W. Reshaped to 28x28, each row is a picture: positive (red) where
ink makes the digit more likely, negative (blue) where ink speaks against it. After one epoch
they look like blurry "templates" of the digits, which we set next to the average image of
each class. Training goes through `run_training`, the same loop as `dnnx train`.
Data: MNIST, or seven-segment digits with `--offline`.
"""

from __future__ import annotations

import numpy as np
import torch

from dnnexplorer.lessons.base import LessonConfig, LessonResult, digits_dataset, new_figure, save
from dnnexplorer.train import TrainConfig, run_training

NAME = "softmax-weights"
DESCRIPTION = "Softmax regression after one epoch: W as ten 28x28 templates beside class means"
USES_MNIST = True  # unless config.offline


def class_means(images: torch.Tensor, labels: torch.Tensor, n_classes: int) -> torch.Tensor:
    """The average image of each class on the [0, 1] scale: (N, 28, 28) -> (n_classes, 28, 28)."""
    scaled = images.float() / 255
    return torch.stack([scaled[labels == c].mean(dim=0) for c in range(n_classes)])


def template_agreement(weights: torch.Tensor, means: torch.Tensor) -> list[float]:
    """Correlation of each class's weight image with how its mean differs from the others'.

    High means "the weights light up where this digit has more ink than digits on average".
    """
    contrast = (means - means.mean(dim=0)).flatten(1)  # (C, 784)
    w = weights.flatten(1)  # (C, 784)
    return [float(np.corrcoef(w[c].numpy(), contrast[c].numpy())[0, 1]) for c in range(len(w))]


def _plot(config: LessonConfig, means, weights, classes, figures: list) -> None:
    n = len(classes)
    means, weights = means.numpy(), weights.numpy()  # matplotlib wants arrays, not tensors
    fig = new_figure(1.3 * n, 3.2)
    limit = float(np.abs(weights).max())
    for c in range(n):
        top = fig.add_subplot(2, n, c + 1)
        top.imshow(means[c], cmap="gray")
        top.set_title(classes[c], fontsize=8)
        bottom = fig.add_subplot(2, n, n + c + 1)
        bottom.imshow(weights[c], cmap="bwr", vmin=-limit, vmax=limit)
        for ax in (top, bottom):
            ax.axis("off")
    fig.suptitle("Top: average image of each class. Bottom: its row of W (red +, blue -)")
    save(fig, config, "templates", figures)


def run(config: LessonConfig) -> LessonResult:
    """Train softmax regression for one epoch and show W as ten images."""
    dataset = digits_dataset(config)
    train = TrainConfig(model="softmax", dataset="mnist", epochs=1, seed=config.seed, device="cpu")
    result = run_training(train, data_dir=config.data_dir, dataset=dataset)
    weights = result.model.linear.weight.detach().reshape(-1, 28, 28)  # (10, 784) -> (10, 28, 28)
    means = class_means(dataset.train_images, dataset.train_labels, len(dataset.classes))
    figures: list = []
    _plot(config, means, weights, dataset.classes, figures)
    last = result.history[-1]
    numbers = {
        "dataset": dataset.name,
        "epochs": 1,
        "test_accuracy": last["test_accuracy"],
        "train_seconds": last["seconds"],
        "weight_shape": list(result.model.linear.weight.shape),
        "template_agreement": dict(
            zip(dataset.classes, template_agreement(weights, means), strict=True)
        ),
    }
    return LessonResult(NAME, config.seed, numbers, _explain(numbers), figures)


def _explain(n: dict) -> list[str]:
    agreement = ", ".join(f"{c}: {v:.2f}" for c, v in n["template_agreement"].items())
    return [
        f"Softmax regression trained for one epoch on {n['dataset']}: test accuracy "
        f"{n['test_accuracy']:.1%} ({n['train_seconds']:.1f} s).",
        f"W has shape {tuple(n['weight_shape'])}: one row of 784 weights per class, drawn as "
        "a 28x28 image.",
        "Correlation of each row with its class's average image minus the average of all "
        f"classes: {agreement}.",
        "Each class's weights are a template: a digit scores high where its ink falls on red.",
    ]
