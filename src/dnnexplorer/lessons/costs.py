"""Cross-entropy against the quadratic cost, on the same softmax regression.

The slides: "for classification problems, the cross-entropy cost function works better than
the quadratic cost function". With p = softmax(logits) the model's probabilities and y the
one-hot label (1 for the right class, 0 elsewhere):

    cross-entropy   C = −Σ y_i ln p_i
    quadratic cost  C = ½ Σ (y_i − p_i)²   (squared error)

Here the same model, from the same start, is trained by plain SGD with the same learning rate
on the same mini-batches, once with each cost, and `logit_gradient` measures how hard each cost
pushes the right class's logit. The `why-deep` lesson shows both; the costs themselves are
derived in chapter 9. `run_training` always uses cross-entropy, so this file has its own short,
visible loop.
"""

from __future__ import annotations

import copy
from collections.abc import Callable

import torch
import torch.nn.functional as F
from matplotlib.figure import Figure
from torch import nn

from dnnexplorer.data import Dataset
from dnnexplorer.data.batches import normalize
from dnnexplorer.lessons.base import new_figure, seeded_torch
from dnnexplorer.models import create_model
from dnnexplorer.train import evaluate

LEARNING_RATE, BATCH = 0.05, 64  # plain SGD, the same for both costs
WRONG_BIAS = 10.0  # added to class 0's bias: the model says "0" for every image, 99.9+% sure


def squared_error(logits: torch.Tensor, labels: torch.Tensor) -> torch.Tensor:
    """The quadratic cost C = ½ Σ (y_i − p_i)² on the softmax outputs, averaged over the batch."""
    probs = logits.softmax(dim=1)  # (B, C)
    one_hot = F.one_hot(labels, probs.shape[1]).float()  # (B, C)
    return 0.5 * ((one_hot - probs) ** 2).sum(dim=1).mean()


COSTS: dict[str, Callable[[torch.Tensor, torch.Tensor], torch.Tensor]] = {
    "cross-entropy": F.cross_entropy,  # C = −Σ y_i ln p_i, log-softmax included, batch mean
    "squared error": squared_error,
}


def logit_gradient(cost: str, p_right: torch.Tensor) -> torch.Tensor:
    """|∂C/∂z| on the right class's logit when it gets probability p and one wrong class 1 − p.

    Measured with autograd on two-class logits z = (ln p, ln(1 − p)), whose softmax is
    (p, 1 − p). Cross-entropy gives 1 − p; squared error 2p(1 − p)², which vanishes as p -> 0.
    """
    logits = torch.stack([p_right.log(), (1 - p_right).log()], dim=1).requires_grad_()  # (M, 2)
    labels = torch.zeros(len(p_right), dtype=torch.long)  # (M,): class 0 is the right one
    (COSTS[cost](logits, labels) * len(p_right)).backward()  # a sum: each row its own gradient
    return logits.grad[:, 0].abs()  # (M,)


def starting_points(num_classes: int, seed: int) -> dict[str, nn.Module]:
    """Softmax regression as PyTorch initialises it, and the same model confidently wrong."""
    with seeded_torch(seed):
        usual = create_model("softmax", num_classes=num_classes)
    wrong = copy.deepcopy(usual)
    with torch.no_grad():
        wrong.linear.bias[0] += WRONG_BIAS
    return {"usual start": usual, "confidently wrong start": wrong}


def sgd_curve(
    model: nn.Module,
    cost: str,
    dataset: Dataset,
    updates: int,
    every: int,
    seed: int,
    lr: float = LEARNING_RATE,
) -> list[float]:
    """Train `model` in place by plain SGD on `cost`; its test accuracy every `every` updates.

    The list starts with the accuracy before training. The mini-batches depend on the seed
    alone, so runs with the same seed see the same ones.
    """
    optimizer = torch.optim.SGD(model.parameters(), lr=lr)
    generator = torch.Generator().manual_seed(seed)
    curve = [test_accuracy(model, dataset)]
    for update in range(1, updates + 1):
        batch = torch.randint(len(dataset.train_labels), (BATCH,), generator=generator)  # (B,)
        x = normalize(dataset.train_images[batch], dataset.mean, dataset.std)  # (B, 1, 28, 28)
        loss = COSTS[cost](model(x), dataset.train_labels[batch])
        optimizer.zero_grad()
        loss.backward()
        optimizer.step()
        if update % every == 0:
            curve.append(test_accuracy(model, dataset))
    return curve


def compare_costs(
    dataset: Dataset, updates: int, every: int, seed: int, lr: float = LEARNING_RATE
) -> dict[str, dict[str, list[float]]]:
    """`sgd_curve` for each start (usual, confidently wrong) and each cost: [start][cost]."""
    starts = starting_points(len(dataset.classes), seed)
    return {
        start: {
            cost: sgd_curve(copy.deepcopy(model), cost, dataset, updates, every, seed, lr)
            for cost in COSTS
        }
        for start, model in starts.items()
    }


def test_accuracy(model: nn.Module, dataset: Dataset) -> float:
    """The share of the test images the model labels right."""
    images, labels = dataset.test_images, dataset.test_labels
    return evaluate(model, images, labels, dataset.mean, dataset.std).accuracy


def cost_figure(updates: list[int], curves: dict, lr: float, probe: float) -> Figure:
    """Left: test accuracy against updates, `curves[start][cost]`. Right: |∂C/∂z| against p."""
    fig = new_figure(11, 4.2)
    left, right = fig.add_subplot(1, 2, 1), fig.add_subplot(1, 2, 2)
    p = torch.linspace(0.001, 0.999, 200)
    for i, cost in enumerate(COSTS):
        for start, style in zip(curves, ("-", "--", ":"), strict=False):
            accuracy = [100 * a for a in curves[start][cost]]
            left.plot(updates, accuracy, style, color=f"C{i}", label=f"{cost}, {start}")
        right.plot(p, logit_gradient(cost, p), color=f"C{i}", label=cost)
    left.set(
        xlabel=f"updates (plain SGD, learning rate {lr:g})",
        ylabel="test accuracy (%)",
        title="The same softmax model trained with each cost",
    )
    right.axvline(probe, color="grey", linestyle=":", label=f"p = {probe:g}: confidently wrong")
    right.set(
        xlabel="probability the model gives the right class, p",
        ylabel="|∂C/∂z|, the push on the right class's logit",
        title="How hard each cost pushes",
    )
    for ax in (left, right):
        ax.grid(alpha=0.3)
        ax.legend(fontsize=8)
    return fig
