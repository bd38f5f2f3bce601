"""Optimizers and learning-rate schedules, by the names the workshop and the CLI use.

sgd: plain gradient descent, w <- w - lr * dE/dw. momentum: SGD with momentum 0.9 (Nesterov).
adam: Adam, with its averaging rates `betas` (beta1 for the gradient, beta2 for its square; lower
values forget faster, which helps a run as short as one epoch).
Schedules change the learning rate after every mini-batch step: constant, step (x0.7 each epoch,
as the PyTorch MNIST example), cosine, onecycle (warm up, then anneal: the schedule behind the
fastest published MNIST trainings). onecycle also moves Adam's beta1 (and the momentum of
"momentum") against the rate, 0.95 -> 0.85 at the peak -> 0.95, whatever `betas` says: beta2 is
the one asked for. Plain "sgd" stays plain.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import torch
from torch import nn

if TYPE_CHECKING:
    from dnnexplorer.train.config import TrainConfig

OPTIMIZERS = ("sgd", "momentum", "adam")  # the names make_optimizer builds
SCHEDULES = ("constant", "step", "cosine", "onecycle")  # the names make_scheduler builds


def make_optimizer(model: nn.Module, config: TrainConfig) -> torch.optim.Optimizer:
    """Build the optimizer named by `config.optimizer` (config must be resolved)."""
    wd = config.weight_decay or 0.0
    params = parameter_groups(model, wd)
    if config.optimizer == "sgd":
        return torch.optim.SGD(params, lr=config.lr, weight_decay=wd)
    if config.optimizer == "momentum":
        return torch.optim.SGD(params, lr=config.lr, momentum=0.9, nesterov=True, weight_decay=wd)
    # fused: one kernel updates all parameters (1.1-1.25x faster steps for small models on CPU).
    betas = config.betas  # resolved: the recipe's when not given, in old run folders too
    if wd:
        return torch.optim.AdamW(params, lr=config.lr, betas=betas, weight_decay=wd, fused=True)
    return torch.optim.Adam(params, lr=config.lr, betas=betas, fused=True)


def parameter_groups(model: nn.Module, weight_decay: float) -> list[dict]:
    """The parameters to train, with weight decay only where it belongs.

    Weight decay pulls weights towards zero so that no single weight grows large: that limits
    weight matrices and filters (tensors of 2 or more dimensions). Biases and the scales and
    shifts of normalization layers (1-dimensional) only move a neuron's threshold or a layer's
    range, so shrinking them regularizes nothing and can hurt; they get no decay, as in most
    published recipes. Without decay all parameters form one group.
    """
    trained = [p for p in model.parameters() if p.requires_grad]
    if not weight_decay:
        return [{"params": trained}]
    return [
        {"params": [p for p in trained if p.ndim >= 2], "weight_decay": weight_decay},
        {"params": [p for p in trained if p.ndim < 2], "weight_decay": 0.0},
    ]


def make_scheduler(
    optimizer: torch.optim.Optimizer, config: TrainConfig, steps_per_epoch: int
) -> torch.optim.lr_scheduler.LRScheduler | None:
    """Build the per-step learning-rate schedule named by `config.schedule` (None: constant)."""
    total_steps = max(1, int(config.epochs) * steps_per_epoch)
    if config.schedule == "step":
        return torch.optim.lr_scheduler.StepLR(optimizer, step_size=steps_per_epoch, gamma=0.7)
    if config.schedule == "cosine":
        return torch.optim.lr_scheduler.CosineAnnealingLR(optimizer, T_max=total_steps)
    if config.schedule == "onecycle" and total_steps >= 4:
        # Warm up for a quarter of the steps (at least two, so both phases have a length).
        # As the rate rises, the momentum falls (Smith's 1cycle policy, torch's default): Adam's
        # beta1 (or SGD's momentum) goes 0.95 -> 0.85 -> 0.95 and replaces the beta1 of `betas`.
        # Every recipe and record here was tuned and measured so. Plain gradient descent has no
        # momentum and gets none (torch would give it one).
        return torch.optim.lr_scheduler.OneCycleLR(
            optimizer,
            max_lr=config.lr,
            total_steps=total_steps,
            pct_start=max(0.25, 2 / total_steps),
            cycle_momentum=config.optimizer != "sgd",
            base_momentum=0.85,
            max_momentum=0.95,
        )
    return None
