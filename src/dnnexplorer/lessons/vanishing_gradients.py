"""Lesson `vanishing-gradients`: why deep sigmoid networks are hard to train.

Backpropagation multiplies, layer after layer from the output back to the input, by each
layer's weights and by the slope of its activation. Sigmoid's slope is at most 0.25, so in a
deep stack the gradient reaching the first layers shrinks roughly geometrically: those layers
barely learn (the "vanishing gradient problem" of the workshop). ReLU's slope is 1 wherever a
neuron is active, so far more of the gradient gets through.

Two 10-layer MLPs (9 hidden layers of 64 neurons + the output layer) with the same initial
weights, one with sigmoid and one with ReLU, are measured on the same batch of 256 images: the
gradient norm ||∂loss/∂W|| of every layer, at initialization and after 200 steps of plain SGD
(mini-batches of 64, learning rate 0.1). Data: MNIST, or seven-segment digits with `--offline`.
The weights are drawn with He initialization (He et al. 2015: normal, variance 2 / inputs,
biases 0), the usual choice for ReLU; with PyTorch's milder default even the ReLU signal fades
over 10 layers and neither network learns in 200 steps. This lesson has its own small loop
because the per-layer gradients are its subject.
"""

from __future__ import annotations

import torch
import torch.nn.functional as F
from torch import nn

from dnnexplorer.data.batches import normalize
from dnnexplorer.lessons.base import (
    LessonConfig,
    LessonResult,
    digits_dataset,
    new_figure,
    save,
    seeded_torch,
)
from dnnexplorer.models import create_model

NAME = "vanishing-gradients"
DESCRIPTION = "Gradient norm per layer of a 10-layer MLP: sigmoid vs ReLU"
USES_MNIST = True  # unless config.offline

ACTIVATIONS = ("sigmoid", "relu")
DEPTH, WIDTH = 10, 64  # 10 linear layers: 9 hidden of width 64, then the output layer
MEASURE_BATCH, TRAIN_BATCH, STEPS, LR = 256, 64, 200, 0.1
TEST_EXAMPLES = 2000


def deep_mlp(activation: str, seed: int) -> nn.Module:
    """The 10-layer MLP, He-initialized; the same seed gives the same weights for any activation."""
    with seeded_torch(seed):
        model = create_model("mlp", hidden=[WIDTH] * (DEPTH - 1), activation=activation)
        for layer in model.modules():
            if isinstance(layer, nn.Linear):
                nn.init.kaiming_normal_(layer.weight, nonlinearity="relu")
                nn.init.zeros_(layer.bias)
    return model


def layer_gradient_norms(model: nn.Module, images: torch.Tensor, labels: torch.Tensor) -> list:
    """||∂loss/∂W|| for each Linear layer, first (input side) to last (output side)."""
    model.zero_grad()
    F.cross_entropy(model(images), labels).backward()
    linears = [m for m in model.modules() if isinstance(m, nn.Linear)]
    norms = [float(layer.weight.grad.norm()) for layer in linears]
    model.zero_grad()
    return norms


def train_steps(model: nn.Module, images: torch.Tensor, labels: torch.Tensor, seed: int) -> list:
    """STEPS steps of plain SGD on random mini-batches; returns the loss of each step."""
    generator = torch.Generator().manual_seed(seed)
    optimizer = torch.optim.SGD(model.parameters(), lr=LR)
    losses = []
    for _ in range(STEPS):
        idx = torch.randint(len(labels), (TRAIN_BATCH,), generator=generator)
        loss = F.cross_entropy(model(images[idx]), labels[idx])
        optimizer.zero_grad()
        loss.backward()
        optimizer.step()
        losses.append(loss.item())
    return losses


def test_accuracy(model: nn.Module, images: torch.Tensor, labels: torch.Tensor) -> float:
    with torch.no_grad():
        return float((model(images).argmax(dim=1) == labels).double().mean())


def _plot(config: LessonConfig, results: dict, figures: list) -> None:
    fig = new_figure(7, 4.5)
    ax = fig.add_subplot()
    layers = range(1, DEPTH + 1)
    for i, (activation, r) in enumerate(results.items()):
        color = f"C{i}"
        ax.semilogy(layers, r["grad_norms_init"], "-o", color=color, label=f"{activation}, init")
        ax.semilogy(
            layers,
            r["grad_norms_trained"],
            "--s",
            color=color,
            label=f"{activation}, after {STEPS} steps",
        )
    ax.set(
        xlabel="layer (1 = next to the input)",
        ylabel="gradient norm ||∂loss/∂W||",
        title=f"A {DEPTH}-layer MLP: how much gradient reaches each layer",
    )
    ax.set_xticks(list(layers))
    ax.legend()
    save(fig, config, "gradient_norms", figures)


def run(config: LessonConfig) -> LessonResult:
    """Measure per-layer gradient norms of sigmoid and ReLU networks, before and after SGD."""
    dataset = digits_dataset(config)
    generator = torch.Generator().manual_seed(config.seed)
    # A random 10,000-image slice is plenty for 200 steps and keeps memory small.
    pick = torch.randperm(len(dataset.train_labels), generator=generator)[:10_000]
    images, labels = (
        normalize(dataset.train_images[pick], dataset.mean, dataset.std),
        dataset.train_labels[pick],
    )
    measure = (images[:MEASURE_BATCH], labels[:MEASURE_BATCH])  # the same batch every time
    test = (
        normalize(dataset.test_images[:TEST_EXAMPLES], dataset.mean, dataset.std),
        dataset.test_labels[:TEST_EXAMPLES],
    )
    results = {}
    for activation in ACTIVATIONS:
        model = deep_mlp(activation, config.seed)
        init = layer_gradient_norms(model, *measure)
        losses = train_steps(model, images, labels, config.seed)
        results[activation] = {
            "grad_norms_init": init,
            "grad_norms_trained": layer_gradient_norms(model, *measure),
            "first_over_last_init": init[0] / init[-1],
            "loss_first_step": losses[0],
            "loss_last_step": losses[-1],
            "test_accuracy": test_accuracy(model, *test),
        }
    figures: list = []
    _plot(config, results, figures)
    numbers = {
        "dataset": dataset.name,
        "depth": DEPTH,
        "width": WIDTH,
        "steps": STEPS,
        "learning_rate": LR,
        "results": results,
        "relu_over_sigmoid_first_layer_init": (
            results["relu"]["grad_norms_init"][0] / results["sigmoid"]["grad_norms_init"][0]
        ),
    }
    return LessonResult(NAME, config.seed, numbers, _explain(numbers), figures)


def _explain(n: dict) -> list[str]:
    lines = [
        f"Gradient norm per layer (1 = input side) of a {n['depth']}-layer MLP on "
        f"{n['dataset']}, at initialization:"
    ]
    for activation, r in n["results"].items():
        norms = " ".join(f"{v:.1e}" for v in r["grad_norms_init"])
        lines.append(f"  {activation:<8} {norms}")
    lines.append(f"After {n['steps']} SGD steps:")
    for activation, r in n["results"].items():
        norms = " ".join(f"{v:.1e}" for v in r["grad_norms_trained"])
        lines.append(f"  {activation:<8} {norms}")
    sig, relu = n["results"]["sigmoid"], n["results"]["relu"]
    lines += [
        f"Layer 1 gets {sig['first_over_last_init']:.1e} of the output layer's gradient with "
        f"sigmoid, {relu['first_over_last_init']:.1e} with ReLU; ReLU's first layer gets "
        f"{n['relu_over_sigmoid_first_layer_init']:.0f} times sigmoid's.",
        f"Test accuracy after {n['steps']} steps: sigmoid {sig['test_accuracy']:.1%}, "
        f"ReLU {relu['test_accuracy']:.1%}: the sigmoid network has hardly started learning.",
    ]
    return lines
