"""Lesson `softmax-by-hand`: MNIST and softmax regression, Y = softmax(XW + b), written out by hand.

The workshop's first MNIST model, piece by piece, each piece checked against PyTorch's own:
a digit is a 28x28 grid of pixels scaled to 0..1, flattened to one row of 784 numbers, so the
training set is a matrix X of shape [60000, 784]. The weights W [784, 10] and the bias b [10]
give every image ten scores, XW + b (b is broadcast: added to every row), and softmax turns
each row into ten probabilities, softmax(z)_i = exp(z_i) / Σ_j exp(z_j). The labels become
one-hot rows Y [60000, 10], and the cross-entropy C = −Σ_i y'_i ln p_i measures how unsure the
model is of the right class. Its gradient, ∂C/∂W = Xᵀ(P − Y) / N and ∂C/∂b = mean(P − Y), is
derived by hand, checked against autograd, and used in plain mini-batch gradient descent
(W ← W − lr·∂C/∂W, no Adam, no momentum).

Where we follow the slides and where the project departs: pixels are scaled to 0..1 here, as
the slides do; `dnnx train` standardises them instead, (x/255 − 0.1307) / 0.3081, so every input
is centred on 0 with spread 1, which lets gradient descent take larger, better-balanced steps.
The training is a short visible loop, not `trainedtraining`: the hand-derived gradient is the
point. Data: MNIST, or seven-segment digits with `--offline`.
"""

from __future__ import annotations

import math
import time
from dataclasses import dataclass, field

import numpy as np
import torch
import torch.nn.functional as F
from torch import Tensor

from dnnexplorer.lessons import softmax_by_hand_figures as figs
from dnnexplorer.lessons.base import LessonConfig, LessonResult, digits_dataset

NAME = "softmax-by-hand"
DESCRIPTION = "Y = softmax(XW + b) by hand: shapes, softmax, cross-entropy, gradient, descent"
USES_MNIST = True  # unless config.offline

PIXELS, CLASSES = 28 * 28, 10
LEARNING_RATE, BATCH_SIZE, EPOCHS = 0.5, 100, 2
# The slides' example: the model is 90% sure that an image of a "6" is a 6.
SLIDE_PROBABILITIES = (0.01, 0.01, 0.01, 0.01, 0.01, 0.01, 0.90, 0.01, 0.02, 0.01)
SLIDE_LABEL = 6
CHECK_EXAMPLES = 500  # images used to compare our numbers with PyTorch's


def flatten(images: Tensor) -> Tensor:
    """Pixels 0..255 of (N, 28, 28) images -> the matrix X (N, 784) of values in 0..1."""
    return images.reshape(len(images), -1).float() / 255  # (N, 28, 28) -> (N, 784)


def softmax(z: Tensor) -> Tensor:
    """The slides' formula on each row: exp(z_i) / Σ_j exp(z_j). (N, 10) -> (N, 10)."""
    e = torch.exp(z)  # overflows for z > 88 in float32: see the chapter's "Try it"
    return e / e.sum(dim=1, keepdim=True)


def one_hot(labels: Tensor, num_classes: int = CLASSES) -> Tensor:
    """Integer labels (N,) -> one-hot rows (N, num_classes): 1 at the label, 0 elsewhere."""
    return torch.eye(num_classes)[labels]  # row k of the identity matrix is the one-hot of k


def cross_entropy(probs: Tensor, targets: Tensor) -> Tensor:
    """C = −Σ_i y'_i ln p_i for each row, averaged over the rows. (N, 10), (N, 10) -> ()."""
    return -(targets * torch.log(probs)).sum(dim=1).mean()


def gradients(x: Tensor, probs: Tensor, targets: Tensor) -> tuple[Tensor, Tensor]:
    """∂C/∂W = Xᵀ(P − Y) / N  (784, 10) and ∂C/∂b = mean of the rows of P − Y  (10,)."""
    error = probs - targets  # (N, 10): how far each probability is from its target
    return x.T @ error / len(x), error.mean(dim=0)  # (784, N) @ (N, 10) -> (784, 10)


def accuracy(x: Tensor, labels: Tensor, w: Tensor, b: Tensor) -> float:
    """The fraction of rows of X whose highest score XW + b is their label."""
    return float(((x @ w + b).argmax(dim=1) == labels).float().mean())


@dataclass
class Training:
    """What gradient descent produced: W, b and how the loss and accuracy went."""

    w: Tensor  # (784, 10)
    b: Tensor  # (10,)
    losses: list[float] = field(default_factory=list)  # mini-batch cross-entropy, each step
    checkpoints: list[tuple[int, float]] = field(default_factory=list)  # (step, test accuracy)


def gradient_descent(
    x: Tensor, labels: Tensor, x_test: Tensor, labels_test: Tensor, seed: int, epochs: int = EPOCHS
) -> Training:
    """Mini-batch gradient descent from W = 0, b = 0 with the hand-derived gradient."""
    generator = torch.Generator().manual_seed(seed)
    model = Training(torch.zeros(PIXELS, CLASSES), torch.zeros(CLASSES))
    targets = one_hot(labels)  # (N, 10)
    every = max(1, len(x) // BATCH_SIZE // 10)  # test ten times per epoch
    model.checkpoints.append((0, accuracy(x_test, labels_test, model.w, model.b)))
    for _ in range(epochs):
        order = torch.randperm(len(x), generator=generator)  # a new shuffle each epoch
        for start in range(0, len(x), BATCH_SIZE):
            batch = order[start : start + BATCH_SIZE]
            probs = softmax(x[batch] @ model.w + model.b)  # (B, 784) @ (784, 10) + (10,) -> (B, 10)
            model.losses.append(float(cross_entropy(probs, targets[batch])))
            grad_w, grad_b = gradients(x[batch], probs, targets[batch])
            model.w -= LEARNING_RATE * grad_w  # step against the gradient: downhill
            model.b -= LEARNING_RATE * grad_b
            if len(model.losses) % every == 0:
                model.checkpoints.append(
                    (len(model.losses), accuracy(x_test, labels_test, model.w, model.b))
                )
    return model


def autograd_check(x: Tensor, labels: Tensor, seed: int) -> dict[str, float]:
    """Our ∂C/∂W and ∂C/∂b against autograd's, in float64, at small random weights."""
    g = torch.Generator().manual_seed(seed)
    x = x.double()
    w = (0.01 * torch.randn(PIXELS, CLASSES, generator=g, dtype=torch.float64)).requires_grad_()
    b = torch.zeros(CLASSES, dtype=torch.float64, requires_grad=True)
    probs = softmax(x @ w + b)
    targets = one_hot(labels).double()
    cross_entropy(probs, targets).backward()  # autograd fills w.grad and b.grad
    grad_w, grad_b = gradients(x, probs.detach(), targets)
    return {
        "max_difference_w": float((grad_w - w.grad).abs().max()),
        "max_difference_b": float((grad_b - b.grad).abs().max()),
        "largest_gradient_w": float(w.grad.abs().max()),
    }


def torch_checks(x: Tensor, labels: Tensor, w: Tensor, b: Tensor) -> dict[str, float]:
    """Our softmax and cross-entropy (one-hot labels) against torch's (integer labels)."""
    logits = x @ w + b  # (N, 10)
    probs = softmax(logits)
    ours = float(cross_entropy(probs, one_hot(labels)))
    theirs = float(F.cross_entropy(logits, labels))  # integer labels; log-softmax inside
    slide = torch.tensor([SLIDE_PROBABILITIES])  # (1, 10)
    return {
        "softmax_max_difference": float((probs - torch.softmax(logits, dim=1)).abs().max()),
        "row_sum_max_error": float((probs.sum(dim=1) - 1).abs().max()),
        "cross_entropy_one_hot": ours,
        "cross_entropy_torch": theirs,
        "slide_cross_entropy": float(cross_entropy(slide, one_hot(torch.tensor([SLIDE_LABEL])))),
        "slide_cross_entropy_torch": float(
            F.cross_entropy(torch.log(slide), torch.tensor([SLIDE_LABEL]))
        ),
    }


def run(config: LessonConfig) -> LessonResult:
    """Build softmax regression by hand, check each piece against torch, then train it."""
    data = digits_dataset(config)
    x, x_test = flatten(data.train_images), flatten(data.test_images)
    labels, labels_test = data.train_labels, data.test_labels
    start = time.perf_counter()
    trained = gradient_descent(x, labels, x_test, labels_test, config.seed)
    seconds = time.perf_counter() - start
    check = slice(0, CHECK_EXAMPLES)
    numbers = {
        "dataset": data.name,
        "images_shape": list(data.train_images.shape),
        "x_shape": list(x.shape),
        "w_shape": list(trained.w.shape),
        "b_shape": list(trained.b.shape),
        "y_shape": list((x @ trained.w + trained.b).shape),
        "pixel_range": [float(x.min()), float(x.max())],
        "first_label": int(labels[0]),
        "first_one_hot": one_hot(labels[:1])[0].int().tolist(),
        "initial_loss": trained.losses[0],
        "ln_10": math.log(CLASSES),
        **torch_checks(x_test[check], labels_test[check], trained.w, trained.b),
        **autograd_check(x[check], labels[check], config.seed),
        "learning_rate": LEARNING_RATE,
        "batch_size": BATCH_SIZE,
        "epochs": EPOCHS,
        "steps": len(trained.losses),
        "final_loss": float(np.mean(trained.losses[-50:])),
        "test_accuracy": trained.checkpoints[-1][1],
        "train_seconds": seconds,
    }
    figures: list = []
    figs.digit_numbers(config, data.train_images[0].numpy(), int(labels[0]), figures)
    figs.cross_entropy_example(config, SLIDE_PROBABILITIES, SLIDE_LABEL, figures)
    title = f"Plain gradient descent, lr {LEARNING_RATE}, batches of {BATCH_SIZE}"
    figs.training_curves(config, trained.losses, trained.checkpoints, title, figures)
    shown = _examples_to_show(softmax(x_test[:1000] @ trained.w + trained.b))
    probs = softmax(x_test[shown] @ trained.w + trained.b)  # (6, 10)
    images = data.test_images[shown].numpy()
    figs.predictions(config, images, labels_test[shown].tolist(), probs.numpy(), figures)
    return LessonResult(NAME, config.seed, numbers, _summary(numbers), figures, _story(numbers))


def _examples_to_show(probs: Tensor) -> Tensor:
    """The first three test images, then the three the model is least sure about."""
    unsure = probs[3:].max(dim=1).values.argsort()[:3] + 3  # lowest top probability first
    return torch.cat([torch.arange(3), unsure])


def _summary(n: dict) -> list[str]:
    return [
        f"X {tuple(n['x_shape'])} · W {tuple(n['w_shape'])} + b {tuple(n['b_shape'])} -> "
        f"Y {tuple(n['y_shape'])}; pixels in [{n['pixel_range'][0]:.0f}, "
        f"{n['pixel_range'][1]:.0f}]",
        f"softmax vs torch.softmax: max difference {n['softmax_max_difference']:.1e}; "
        f"cross-entropy one-hot {n['cross_entropy_one_hot']:.4f}, "
        f"F.cross_entropy {n['cross_entropy_torch']:.4f}",
        f"slides' example: −ln 0.90 = {n['slide_cross_entropy']:.4f}",
        f"∂C/∂W = Xᵀ(P − Y)/N vs autograd: max difference {n['max_difference_w']:.1e}",
        f"gradient descent (lr {n['learning_rate']}, batch {n['batch_size']}, {n['epochs']} "
        f"epochs, {n['steps']} steps): test accuracy {n['test_accuracy']:.1%}",
    ]


def _story(n: dict) -> list[str]:
    shape = "[" + ", ".join(str(d) for d in n["x_shape"]) + "]"
    return [
        "The workshop's first MNIST model is softmax regression, Y = softmax(XW + b). This lesson "
        "builds it by hand, one piece at a time, and checks every piece against PyTorch's own: "
        "the images become a matrix X, the weights W and bias b give each image ten scores, "
        "softmax(z)_i = exp(z_i) / Σ_j exp(z_j) turns the scores into probabilities, the "
        "cross-entropy C = −Σ_i y'_i ln p_i says how far they are from the truth, and its gradient "
        "∂C/∂W tells gradient descent which way to move W. Pixels are scaled from 0..255 to 0..1, "
        "as in the slides. (`dnnx train` and the later chapters standardise them instead, "
        "(x/255 − 0.1307) / 0.3081, so that every input is centred on 0 with a spread of 1: "
        "gradient descent then takes better-balanced steps and trains faster.)",
        f"The {n['dataset']} training images arrive as a tensor of shape "
        f"{tuple(n['images_shape'])}: each image is a 28x28 grid of numbers, drawn with its values "
        f"in digit_numbers.png (a {n['first_label']}). Flattening each grid row after row gives "
        f"784 numbers, so the whole training set becomes X of shape {shape}: one row per image, "
        "one column per pixel. How we flatten does not matter, as long as every image is "
        "flattened the same way.",
        f"W has shape {tuple(n['w_shape'])}, one column of 784 weights per digit, and b has shape "
        f"{tuple(n['b_shape'])}. XW is {tuple(n['y_shape'])}: each image's ten scores. Adding b "
        "(10 numbers) to a (N, 10) matrix is broadcasting: PyTorch adds the same ten biases to "
        "every row. At the start W = 0 and b = 0, so every score is 0, every probability is "
        f"exp(0) / 10 = 0.1, and the cross-entropy is ln 10 = {n['ln_10']:.4f}; the first step "
        f"measured {n['initial_loss']:.4f}.",
        "Softmax written from the formula agrees with torch.softmax to within "
        f"{n['softmax_max_difference']:.1e} (float32 rounding), and each row sums to 1 within "
        f"{n['row_sum_max_error']:.1e}: ten positive numbers that add up to 1, a probability "
        f"distribution. The label {n['first_label']} as a one-hot row is {n['first_one_hot']}, so "
        "the labels Y form a (N, 10) matrix too. PyTorch's F.cross_entropy takes the integer "
        "label instead, and applies the (log-)softmax itself: it gets "
        f"{n['cross_entropy_torch']:.4f} on {CHECK_EXAMPLES} test images, where our one-hot "
        f"cross-entropy gets {n['cross_entropy_one_hot']:.4f}. Same loss, two encodings.",
        "In the slides' example a '6' gets probability 0.90 for the right class: as the one-hot "
        "y' is 0 everywhere else, only that term counts, and C = −ln 0.90 = "
        f"{n['slide_cross_entropy']:.4f} (F.cross_entropy: {n['slide_cross_entropy_torch']:.4f}). "
        "A model only 10% sure would pay −ln 0.10 = 2.303; cross_entropy.png draws −ln p: the "
        "surer the model is of the wrong answer, the larger the cost.",
        "For softmax followed by cross-entropy, the derivative with respect to the scores is "
        "simply P − Y (probabilities minus one-hot targets). The chain rule through z = XW + b "
        "then gives ∂C/∂W = Xᵀ(P − Y) / N, shape (784, 10) like W, and ∂C/∂b = the mean of the "
        "rows of P − Y. Against autograd (loss.backward()) in float64 on "
        f"{CHECK_EXAMPLES} images, the largest difference is {n['max_difference_w']:.1e} for W "
        f"and {n['max_difference_b']:.1e} for b, while the gradient's entries reach "
        f"{n['largest_gradient_w']:.1e}: the hand-derived formula is exact.",
        f"Plain mini-batch gradient descent with that gradient, W ← W − {n['learning_rate']}·∂C/∂W "
        f"on batches of {n['batch_size']} images, {n['epochs']} epochs ({n['steps']} steps, "
        f"{n['train_seconds']:.1f} s), brings the cross-entropy from {n['initial_loss']:.2f} "
        f"down to about {n['final_loss']:.2f} and the test accuracy to {n['test_accuracy']:.1%} "
        "(training.png). predictions.png shows the ten probabilities of three test digits the "
        "model is sure about, and of the three it is least sure about: there the probability is "
        "spread over several digits, and the guess is often wrong.",
        "Take-away: softmax regression is a matrix product, a broadcast addition and a "
        "normalised exponential; its gradient is one more matrix product, Xᵀ(P − Y) / N. "
        "Nothing in it is magic, and PyTorch computes the same numbers. Next, softmax-weights "
        "looks at what W has learned (each column is a 28x28 template of a digit), and "
        "plain-pytorch trains MNIST with nn.Linear, autograd and an optimizer doing this work.",
    ]
