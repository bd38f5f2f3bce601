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

import math

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


def per_layer_factor(norms: list[float]) -> float:
    """The average factor by which one layer multiplies the gradient on its way to the input.

    The geometric mean of norm[l] / norm[l + 1] from the output layer down to layer 2; layer 1 is
    left out, since its gradient is larger simply because it has 784 inputs, not 64.
    """
    return (norms[1] / norms[-1]) ** (1 / (len(norms) - 2))


def train_steps(model: nn.Module, images: torch.Tensor, labels: torch.Tensor, seed: int) -> list:
    """STEPS steps of plain SGD on random mini-batches; returns the loss of each step.

    The update w ← w − LR·∂L/∂w is written out, as in chapter 7: it is what `torch.optim.SGD`
    does without momentum, without its one-off start-up cost (its first use imports PyTorch's
    compiler support, seconds on a small machine).
    """
    generator = torch.Generator().manual_seed(seed)
    losses = []
    for _ in range(STEPS):
        idx = torch.randint(len(labels), (TRAIN_BATCH,), generator=generator)
        loss = F.cross_entropy(model(images[idx]), labels[idx])
        model.zero_grad()
        loss.backward()
        with torch.no_grad():
            for weight in model.parameters():
                weight -= LR * weight.grad
        losses.append(loss.item())
    return losses


def test_accuracy(model: nn.Module, images: torch.Tensor, labels: torch.Tensor) -> float:
    """The fraction of `images` whose most probable class is the label."""
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
            "per_layer_factor_init": per_layer_factor(init),
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
        "test_examples": len(test[1]),
        "results": results,
        "relu_over_sigmoid_first_layer_init": (
            results["relu"]["grad_norms_init"][0] / results["sigmoid"]["grad_norms_init"][0]
        ),
    }
    return LessonResult(NAME, config.seed, numbers, _explain(numbers), figures, _story(numbers))


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


def _norm_table(n: dict) -> str:
    """The gradient norm of every layer, both networks, before and after training (<= 99 wide)."""
    rows = [f"{'layer (1 = input)':19}" + "".join(f"{i:>8}" for i in range(1, n["depth"] + 1))]
    for when, key in (("start", "grad_norms_init"), (f"{n['steps']} steps", "grad_norms_trained")):
        for activation, r in n["results"].items():
            rows.append(f"{activation + ', ' + when:19}" + "".join(f"{v:8.1e}" for v in r[key]))
    return "\n".join(rows)


def _story(n: dict) -> list[str]:
    sig, relu = n["results"]["sigmoid"], n["results"]["relu"]
    slopes = n["depth"] - 1  # one sigmoid per hidden layer; the logits go straight to the loss
    decades = -math.log10(sig["first_over_last_init"])
    data = "MNIST" if n["dataset"] == "mnist" else "synthetic seven-segment digits (offline)"
    return [
        "A deep network is hard to train when almost no gradient reaches its first layers: the "
        "slides' vanishing gradient problem. Backpropagation (chapter 7) carries the gradient "
        "from the output back to the input, and at every layer multiplies it by the layer's "
        "weights and by the slope of its activation: ∂L/∂z_l = (∂L/∂z_l+1 · W_l+1ᵀ) ⊙ σ'(z_l). "
        f"The sigmoid's slope σ'(z) = σ(z)(1 − σ(z)) is at most 1/4, so the {slopes} sigmoid "
        f"layers between the output and layer 1 can shrink it by up to (1/4)^{slopes} = "
        f"{0.25**slopes:.1e}; ReLU's slope is exactly 1 wherever a neuron is active. To see it, "
        f"two {n['depth']}-layer networks ({slopes} hidden layers of {n['width']}, then the "
        "output layer) start from the same weights (He initialisation), one with sigmoid and "
        f"one with ReLU, on {data}. We measure the gradient norm ||∂L/∂W|| of every layer on "
        f"the same {MEASURE_BATCH} images, at the start and after {n['steps']} steps of plain "
        f"SGD (learning rate {n['learning_rate']:g}, mini-batches of {TRAIN_BATCH}).",
        _norm_table(n),
        f"At the start, layer 1 of the sigmoid network gets {sig['first_over_last_init']:.1e} of "
        "the output layer's gradient: going back, each layer multiplies it by about "
        f"{sig['per_layer_factor_init']:.2f} (the sigmoid's slope, about 0.2 here, times about "
        f"√2 from He's weights). The ReLU network's layer 1 gets "
        f"{relu['first_over_last_init']:.1f} times the output layer's: its gradient arrives "
        f"whole (each layer multiplies by about {relu['per_layer_factor_init']:.2f}), "
        f"{n['relu_over_sigmoid_first_layer_init']:,.0f} times what the sigmoid's first layer "
        "gets. gradient_norms.png draws both on a log scale: the sigmoid's line falls by about "
        f"{decades:.0f} powers of ten from the output to the input, ReLU's stays level. (Layer "
        "1 sits above layer 2 in both only because it has 784 inputs, not 64.)",
        f"What it does to learning: after the same {n['steps']} steps on the same images, the "
        f"ReLU network classifies {relu['test_accuracy']:.1%} of {n['test_examples']} test "
        f"images correctly (its loss went from {relu['loss_first_step']:.2f} to "
        f"{relu['loss_last_step']:.2f}), the sigmoid network {sig['test_accuracy']:.1%}, where "
        f"guessing gets 10% (loss {sig['loss_first_step']:.2f} to {sig['loss_last_step']:.2f}). "
        "Its first layers hardly move, so the layers after them see nearly random features "
        "and cannot learn much either. The measurements after training (dashed lines) tell "
        "the same story.",
        "Take-away: in a deep network the gradient is a product of one factor per layer, and "
        "factors below 1 make it vanish towards the input. The cures are slopes that do not "
        "shrink it (ReLU and its relatives, chapter 6) and weights drawn at the right scale "
        "(He initialisation here; chapter 7 shows the opposite problem, exploding gradients, "
        "when they are too large). Here the project departs from PyTorch's defaults: with "
        "nn.Linear's milder default initialisation even the ReLU network fades over 10 layers "
        "and neither learns in 200 steps. Next, chapter 9 goes back to one layer: softmax "
        "regression on MNIST, computed by hand.",
    ]
