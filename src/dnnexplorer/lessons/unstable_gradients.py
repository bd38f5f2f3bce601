"""Unstable gradients: how much gradient reaches each layer of a deep network, and two cures.

Backpropagation multiplies the gradient, layer after layer on its way to the input, by each
layer's weights and the slope of its activation. If those factors are below 1 the gradient
vanishes (sigmoid: slope <= 1/4); if they are above 1 it explodes (tanh with weights drawn too
large, std 1 as `torch.randn` gives: the weights multiply by about 8 while the slope takes back
less). The slides call both the "unstable gradients" issue.

The network is chapter 8's 10-layer MLP (9 hidden layers of 64, then the output layer) on a
batch of synthetic seven-segment digits, measured three ways: sigmoid with chapter 8's He
initialisation (vanishing), tanh with std 1 (exploding), tanh with Xavier initialisation
(Glorot and Bengio 2010: std √(2 / (inputs + outputs)), level). Then gradient clipping:
`torch.nn.utils.clip_grad_norm_` scales all gradients by one factor so that their total norm is
at most `max_norm`; the direction of the step is kept, only its length is capped.
"""

from __future__ import annotations

import torch
import torch.nn.functional as F
from torch import nn

from dnnexplorer.data.batches import normalize
from dnnexplorer.lessons.base import LessonConfig, new_figure, save, seeded_torch
from dnnexplorer.lessons.synthetic import seven_segment_digits
from dnnexplorer.lessons.vanishing_gradients import (
    DEPTH,
    WIDTH,
    deep_mlp,
    layer_gradient_norms,
    per_layer_factor,
)
from dnnexplorer.models import create_model

INITS = ("sigmoid, He", "tanh, std 1", "tanh, Xavier")
EXPLODING = "tanh, std 1"
BATCH, MAX_NORM, SGD_LR = 256, 1.0, 0.1


def deep_network(init: str, seed: int) -> nn.Module:
    """Chapter 8's 10-layer MLP, initialised as `init` (one of INITS)."""
    if init == "sigmoid, He":
        return deep_mlp("sigmoid", seed)  # chapter 8's sigmoid network, as it starts
    with seeded_torch(seed):
        model = create_model("mlp", hidden=[WIDTH] * (DEPTH - 1), activation="tanh")
        for layer in model.modules():
            if isinstance(layer, nn.Linear):
                if init == EXPLODING:
                    nn.init.normal_(layer.weight, std=1.0)  # 8x Xavier's std for a 64-wide layer
                else:
                    nn.init.xavier_normal_(layer.weight)  # std √(2 / (inputs + outputs))
                nn.init.zeros_(layer.bias)
    return model


def digit_batch(seed: int) -> tuple[torch.Tensor, torch.Tensor]:
    """BATCH standardized seven-segment digits (B, 1, 28, 28) and their labels (B,)."""
    digits = seven_segment_digits(seed, n_train=BATCH, n_test=10)
    return normalize(digits.train_images, digits.mean, digits.std), digits.train_labels


def clipped_gradients(model: nn.Module, images: torch.Tensor, labels: torch.Tensor) -> dict:
    """Backpropagate once, then clip the total gradient norm to MAX_NORM; what changed."""
    model.zero_grad()
    F.cross_entropy(model(images), labels).backward()
    linears = [m for m in model.modules() if isinstance(m, nn.Linear)]
    first = linears[0].weight
    # How far one SGD step would move the first layer's weights, relative to their size.
    size = float(first.detach().norm())
    step = SGD_LR * float(first.grad.norm()) / size
    total = float(nn.utils.clip_grad_norm_(model.parameters(), MAX_NORM))  # the norm before
    after = torch.cat([p.grad.flatten() for p in model.parameters()]).norm()
    return {
        "max_norm": MAX_NORM,
        "total_norm_before": total,
        "total_norm_after": float(after),
        "grad_norms_after": [float(m.weight.grad.norm()) for m in linears],
        "first_layer_step_over_weights": step,
        "first_layer_step_over_weights_clipped": SGD_LR * float(first.grad.norm()) / size,
    }


def measure(seed: int) -> dict:
    """Gradient norms ||∂L/∂W|| per layer (1 = input side) of the three networks, and clipping."""
    images, labels = digit_batch(seed)
    norms = {init: layer_gradient_norms(deep_network(init, seed), images, labels) for init in INITS}
    return {
        "batch": BATCH,
        "grad_norms": norms,
        "first_over_last": {init: n[0] / n[-1] for init, n in norms.items()},
        "per_layer_factor": {init: per_layer_factor(n) for init, n in norms.items()},
        "clip": clipped_gradients(deep_network(EXPLODING, seed), images, labels),
    }


def plot(config: LessonConfig, deep: dict, figures: list) -> None:
    """`unstable_gradients.png`: the three networks per layer; the exploding one clipped."""
    fig = new_figure(11, 4.2)
    left, right = fig.add_subplot(1, 2, 1), fig.add_subplot(1, 2, 2)
    layers = range(1, DEPTH + 1)
    for init, norms in deep["grad_norms"].items():
        left.semilogy(layers, norms, "-o", label=init)
    right.semilogy(layers, deep["grad_norms"][EXPLODING], "-o", color="C1", label=EXPLODING)
    clipped = f"{EXPLODING}, after clip_grad_norm_(max_norm={MAX_NORM:g})"
    right.semilogy(layers, deep["clip"]["grad_norms_after"], "--s", color="C1", label=clipped)
    left.set(title="Vanishing, exploding, level", ylabel="gradient norm ||∂L/∂W||")
    right.set(title="Clipping scales every gradient down by one factor")
    for ax in (left, right):
        ax.set(xlabel="layer (1 = next to the input)", xticks=list(layers))
        ax.legend(fontsize=8)
    fig.subplots_adjust(wspace=0.25)  # cheaper than tight_layout; savefig crops the margins
    save(fig, config, "unstable_gradients", figures)


def story(deep: dict) -> list[str]:
    """Two paragraphs for a lesson's story: what the measurements show, and the two cures."""
    ratio, factor, clip = deep["first_over_last"], deep["per_layer_factor"], deep["clip"]
    step = clip["first_layer_step_over_weights"]
    clipped = clip["first_layer_step_over_weights_clipped"]
    return [
        "In a deep network the same product has one factor per layer, and it can go wrong both "
        "ways: the slides' unstable gradients. In chapter 8's 10-layer network (9 hidden layers "
        f"of 64) on {deep['batch']} synthetic digits, layer 1's gradient norm ||∂L/∂W|| is "
        f"{ratio['sigmoid, He']:.1e} times layer 10's with sigmoid (vanishing: each layer "
        f"multiplies it by about {factor['sigmoid, He']:.2f}, as the slope is <= 1/4), and "
        f"{ratio['tanh, std 1']:.0f} times with tanh and weights of std 1 (exploding: about "
        f"{factor['tanh, std 1']:.2f} per layer, as each weight matrix multiplies by about 8 and "
        "tanh's slope takes back less). unstable_gradients.png (left) draws both on a log scale.",
        "Two cures. Careful initialisation: Xavier's std √(2 / (inputs + outputs)), 0.125 for a "
        f"64-to-64 layer instead of 1, keeps the factor at {factor['tanh, Xavier']:.2f} per layer "
        f"(layer 1 gets {ratio['tanh, Xavier']:.1f} times layer 10 only because it has 784 "
        "inputs). Gradient clipping: torch.nn.utils.clip_grad_norm_(model.parameters(), "
        f"max_norm={clip['max_norm']:g}) found a total norm of {clip['total_norm_before']:.0f} "
        f"and scaled every gradient by the same factor to a total of "
        f"{clip['total_norm_after']:.2f}; the direction is kept (the right panel's curves are "
        f"parallel). It matters: unclipped, one SGD step with learning rate {SGD_LR:g} would move "
        f"layer 1's weights by {step:.0%} of their size, a jump rather than a step; clipped, "
        f"by {clipped:.2%}.",
    ]
