"""Lesson `softmax-weights`: what softmax regression learns, seen as ten images.

Softmax regression, Y = softmax(XW + b), scores digit c by a weighted sum of the 784 pixels,
z_c = Σ_j x_j W[j, c] + b_c: the weights of digit c are column c of W, which has shape
[784, 10] as in the slides (one row per pixel, one column per digit). Reshaped to 28x28, each
column is a picture: positive (red) where ink makes the digit more likely, negative (blue) where
ink speaks against it. After one epoch they look like blurry "templates" of the digits, which we
set next to the average image of each class.

PyTorch's `nn.Linear(784, 10)` stores the transpose, `weight` of shape (10, 784), and computes
x @ weight.T + b; the lesson reads W = weight.T so that it speaks the slides' language.
Training goes through `run_training`, the same loop as `dnnx train` (Adam, standardised pixels),
not the plain gradient descent of the softmax-by-hand lesson. Data: MNIST, or seven-segment
digits with `--offline`.
"""

from __future__ import annotations

import numpy as np
import torch

from dnnexplorer.lessons.base import LessonConfig, LessonResult, digits_dataset, new_figure, save
from dnnexplorer.train import TrainConfig, run_training

NAME = "softmax-weights"
DESCRIPTION = "Softmax regression after one epoch: the columns of W as ten 28x28 templates"
USES_MNIST = True  # unless config.offline


def class_means(images: torch.Tensor, labels: torch.Tensor, n_classes: int) -> torch.Tensor:
    """The average image of each class on the [0, 1] scale: (N, 28, 28) -> (n_classes, 28, 28)."""
    scaled = images.float() / 255
    return torch.stack([scaled[labels == c].mean(dim=0) for c in range(n_classes)])


def templates(w: torch.Tensor) -> torch.Tensor:
    """The slides' W (784, 10) -> ten 28x28 images: column c of W is the template of digit c."""
    return w.T.reshape(-1, 28, 28)  # (784, 10) -> (10, 784) -> (10, 28, 28)


def template_agreement(images: torch.Tensor, means: torch.Tensor) -> list[float]:
    """Correlation of each class's template (10, 28, 28) with how its mean differs from others'.

    High means "the weights light up where this digit has more ink than digits on average".
    """
    contrast = (means - means.mean(dim=0)).flatten(1)  # (C, 784)
    w = images.flatten(1)  # (C, 784)
    return [float(np.corrcoef(w[c].numpy(), contrast[c].numpy())[0, 1]) for c in range(len(w))]


CENTRE = 14 * 28 + 14  # the pixel at row 14, column 14 is row 406 of W


def _plot(config: LessonConfig, means, images, classes, figures: list) -> None:
    n = len(classes)
    means, images = means.numpy(), images.numpy()  # matplotlib wants arrays, not tensors
    fig = new_figure(1.3 * n, 3.2)
    limit = float(np.quantile(np.abs(images), 0.995))  # a few extreme pixels would wash out
    for c in range(n):
        top = fig.add_subplot(2, n, c + 1)
        top.imshow(means[c], cmap="gray")
        top.set_title(classes[c], fontsize=8)
        bottom = fig.add_subplot(2, n, n + c + 1)
        bottom.imshow(images[c], cmap="bwr", vmin=-limit, vmax=limit)
        for ax in (top, bottom):
            ax.axis("off")
    fig.suptitle("Top: average image of each digit. Bottom: its column of W (red +, blue −)")
    save(fig, config, "templates", figures)


def run(config: LessonConfig) -> LessonResult:
    """Train softmax regression for one epoch and show the columns of W as ten images."""
    dataset = digits_dataset(config)
    train = TrainConfig(model="softmax", dataset="mnist", epochs=1, seed=config.seed, device="cpu")
    result = run_training(train, data_dir=config.data_dir, dataset=dataset)
    linear = result.model.linear
    w = linear.weight.detach().T  # nn.Linear's (10, 784) -> the slides' W (784, 10)
    means = class_means(dataset.train_images, dataset.train_labels, len(dataset.classes))
    figures: list = []
    _plot(config, means, templates(w), dataset.classes, figures)
    last = result.history[-1]
    agreement = template_agreement(templates(w), means)
    numbers = {
        "dataset": dataset.name,
        "epochs": 1,
        "test_accuracy": last["test_accuracy"],
        "train_seconds": last["seconds"],
        "weight_shape": list(w.shape),
        "linear_weight_shape": list(linear.weight.shape),
        "parameters": sum(p.numel() for p in result.model.parameters()),
        "template_agreement": dict(zip(dataset.classes, agreement, strict=True)),
        "centre_pixel_weights": dict(zip(dataset.classes, w[CENTRE].tolist(), strict=True)),
    }
    return LessonResult(NAME, config.seed, numbers, _summary(numbers), figures, _story(numbers))


def _summary(n: dict) -> list[str]:
    agreement = ", ".join(f"{c}: {v:.2f}" for c, v in n["template_agreement"].items())
    return [
        f"Softmax regression trained for one epoch on {n['dataset']}: test accuracy "
        f"{n['test_accuracy']:.1%} ({n['train_seconds']:.1f} s).",
        f"W has shape {tuple(n['weight_shape'])} (nn.Linear stores its transpose, "
        f"{tuple(n['linear_weight_shape'])}): one column of 784 weights per digit, drawn as "
        "a 28x28 image.",
        "Correlation of each column with its digit's average image minus the average of all "
        f"digits: {agreement}.",
        "Each digit's weights are a template: a digit scores high where its ink falls on red.",
    ]


def _story(n: dict) -> list[str]:
    agreement = n["template_agreement"]
    best, worst = max(agreement, key=agreement.get), min(agreement, key=agreement.get)
    centre = n["centre_pixel_weights"]
    high, low = max(centre, key=centre.get), min(centre, key=centre.get)
    return [
        "What has softmax regression learned? In Y = softmax(XW + b), the score of digit c is a "
        "weighted sum of the 784 pixels, z_c = Σ_j x_j·W[j, c] + b_c: the weights of digit c "
        "are column c of W. Reshaped to 28x28, a column is a picture of what the model looks "
        "for. This lesson trains softmax regression for one epoch with the project's training "
        "loop (the one `dnnx train` uses, with Adam and standardised pixels, rather than the "
        "plain gradient descent of the softmax-by-hand chapter) and draws the ten columns.",
        f"On {n['dataset']}, one epoch ({n['train_seconds']:.1f} s) reaches a test accuracy of "
        f"{n['test_accuracy']:.1%}. W has shape {tuple(n['weight_shape'])}, as in the slides: "
        "one row per pixel, one column per digit, and with the 10 biases that makes "
        f"{n['parameters']:,} parameters. PyTorch's nn.Linear(784, 10) stores the transpose: "
        f"its weight has shape {tuple(n['linear_weight_shape'])} and it computes "
        "x @ weight.T + b. Same numbers, same scores; the lesson reads W = weight.T.",
        "templates.png shows each digit's average image (top) above its column of W (bottom): "
        "red where ink raises the digit's score, blue where ink lowers it. Each column is "
        "compared with how that digit's average image differs from the average of all digits: "
        f"the correlation goes from {agreement[worst]:.2f} (digit {worst}) to "
        f"{agreement[best]:.2f} (digit {best}). The columns are templates: a digit gets a high "
        "score when its ink falls on red and avoids the blue, where other digits have ink and "
        "it has none.",
        f"One row of W, the pixel in the middle of the image (row {CENTRE} of W), shows the "
        f"other reading: its ten weights go from {centre[low]:+.2f} for digit {low} to "
        f"{centre[high]:+.2f} for digit {high}. Ink in the middle is evidence for {high} "
        f"and against {low}. Each row is one pixel's vote, each column one digit's template.",
        "Take-away: a single layer can only compare the image with one fixed template per "
        "digit. A digit written off-centre, slanted or in an unusual style matches the wrong "
        "template, which is why softmax regression stops near 92% on MNIST. Next, "
        "plain-pytorch adds a hidden layer in a short plain PyTorch script, and the chapters "
        "after it learn small templates, filters, that slide over the image.",
    ]
