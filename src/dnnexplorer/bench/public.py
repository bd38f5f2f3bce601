"""A well-known public fast-MNIST recipe, the yardstick our tuned recipes are measured beside.

The recipe comes from a widely shared study of how fast a laptop can train a network to 99% on
MNIST ("Training a NN to 99% accuracy on MNIST in 0.76 seconds", on a GPU), and is written here
from its description, not copied: a network of two convolutions, Adam with betas (0.7, 0.9), a
one-cycle learning rate, batches of 256, one epoch, the whole dataset normalized once and kept in
memory. The layer sizes (24 and 32 filters of 5x5, each followed by ReLU and 2x2 max pooling,
then a hidden layer of 256) and the peak rate (1e-2) are our reading of it.

Its epoch is its own, plain PyTorch, as the study writes it; only the data (already in memory)
and the way epochs are timed and reported (`reference.race`) are shared with the other cases.
"""

from __future__ import annotations

from typing import Any

import torch
import torch.nn.functional as F
from torch import Tensor, nn

from dnnexplorer.bench.reference import race
from dnnexplorer.data import Dataset

BATCH = 256
PEAK_LR = 1e-2
BETAS = (0.7, 0.9)
EVAL_BATCH = 1000


class TwoConvNet(nn.Module):
    """conv 5x5 (24) -> pool -> conv 5x5 (32) -> pool -> fc 256 -> fc 10."""

    def __init__(self) -> None:
        super().__init__()
        self.conv1 = nn.Conv2d(1, 24, 5)  # (B, 1, 28, 28) -> (B, 24, 24, 24)
        self.conv2 = nn.Conv2d(24, 32, 5)  # (B, 24, 12, 12) -> (B, 32, 8, 8)
        self.fc1 = nn.Linear(32 * 4 * 4, 256)
        self.fc2 = nn.Linear(256, 10)

    def forward(self, x: Tensor) -> Tensor:
        x = F.max_pool2d(F.relu(self.conv1(x)), 2)  # -> (B, 24, 12, 12)
        x = F.max_pool2d(F.relu(self.conv2(x)), 2)  # -> (B, 32, 4, 4)
        x = F.relu(self.fc1(x.flatten(1)))  # -> (B, 256)
        return self.fc2(x)  # -> (B, 10) logits


def run_public(
    dataset: Dataset,
    target_acc: float,
    max_epochs: int,
    budget_seconds: float,
    seed: int = 0,
    device: torch.device | str = "cpu",
    epochs: int = 1,
) -> dict[str, Any]:
    """Train TwoConvNet for `epochs` (its one-cycle length; at most `max_epochs`) and evaluate.

    Returns the same fields as the reference pipeline: epochs, test_accuracy, target_reached,
    train_seconds (evaluation excluded), examples_per_second and the per-epoch history.
    """
    device = torch.device(device)
    torch.manual_seed(seed)
    epochs = min(epochs, max_epochs)

    def prepared(images: Tensor) -> Tensor:  # uint8 (N, 28, 28) -> normalized (N, 1, 28, 28)
        return ((images.float() / 255 - dataset.mean) / dataset.std).unsqueeze(1).to(device)

    train_x, train_y = prepared(dataset.train_images), dataset.train_labels.to(device)
    test_x, test_y = prepared(dataset.test_images), dataset.test_labels.to(device)
    model = TwoConvNet().to(device)
    optimizer = torch.optim.Adam(model.parameters(), lr=PEAK_LR, betas=BETAS)
    steps_per_epoch = -(-len(train_y) // BATCH)
    # torch's default one-cycle also moves beta1 (0.95 -> 0.85 -> 0.95): beta2 0.9 is what stays
    scheduler = torch.optim.lr_scheduler.OneCycleLR(
        optimizer, max_lr=PEAK_LR, total_steps=epochs * steps_per_epoch
    )

    def one_epoch() -> None:
        model.train()
        order = torch.randperm(len(train_y), device=device)
        for batch in order.split(BATCH):
            optimizer.zero_grad()
            loss = F.cross_entropy(model(train_x[batch]), train_y[batch])
            loss.backward()
            optimizer.step()
            scheduler.step()

    def accuracy() -> float:
        return _accuracy(model, test_x, test_y)

    return race(one_epoch, accuracy, target_acc, epochs, budget_seconds, len(train_y), device)


@torch.no_grad()
def _accuracy(model: nn.Module, images: Tensor, labels: Tensor) -> float:
    model.eval()
    correct = sum(
        (model(x).argmax(dim=1) == y).sum().item()
        for x, y in zip(images.split(EVAL_BATCH), labels.split(EVAL_BATCH), strict=True)
    )
    return correct / max(len(labels), 1)
