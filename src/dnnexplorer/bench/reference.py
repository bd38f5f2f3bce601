"""The conventional pipeline, written the way most MNIST tutorials write it: the baseline to beat.

This is deliberately NOT the project's loop. It is the idiom a learner meets first
(pytorch/examples' mnist): a per-sample `Dataset` whose `__getitem__` turns one example into a
PIL image and then into a normalized float tensor, as torchvision's MNIST with
`ToTensor()` + `Normalize()` does; a `DataLoader(batch_size=64, shuffle=True)` that collates 64 of
those per step; the classic two-conv + dropout + fc128 network; Adadelta(lr=1.0) with the
learning rate times 0.7 after every epoch; evaluation with batches of 1000.

Everything here costs Python work per example per epoch, which is exactly what the benchmark
measures against: the project keeps the whole dataset as one uint8 tensor and normalizes whole
mini-batches at once.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import Any

import numpy as np
import torch
import torch.nn.functional as F
from PIL import Image
from torch import Tensor, nn
from torch.utils.data import DataLoader

from dnnexplorer.data import Dataset
from dnnexplorer.train.device import wait_for

TRAIN_BATCH = 64
TEST_BATCH = 1000


def to_tensor(image: Image.Image) -> Tensor:
    """A grayscale PIL image -> float tensor (1, H, W) in [0, 1], as torchvision's ToTensor."""
    pixels = torch.from_numpy(np.array(image, dtype=np.uint8))  # (H, W) uint8
    return pixels.unsqueeze(0).float().div(255)  # (1, H, W) float


class PerSampleMNIST(torch.utils.data.Dataset):
    """One example at a time: uint8 row -> PIL image -> float tensor -> normalized tensor."""

    def __init__(self, images: Tensor, labels: Tensor, mean: float, std: float) -> None:
        self.images, self.labels = images, labels  # (N, 28, 28) uint8, (N,) int64
        self.mean, self.std = mean, std

    def __len__(self) -> int:
        return len(self.labels)

    def __getitem__(self, index: int) -> tuple[Tensor, int]:
        image = Image.fromarray(self.images[index].numpy())  # a PIL "L" image, as torchvision
        x = (to_tensor(image) - self.mean) / self.std  # (1, 28, 28), as Normalize(mean, std)
        return x, int(self.labels[index])


class ClassicNet(nn.Module):
    """conv 3x3 (32) -> conv 3x3 (64) -> max pool -> dropout -> fc 128 -> dropout -> fc 10."""

    def __init__(self) -> None:
        super().__init__()
        self.conv1 = nn.Conv2d(1, 32, 3, 1)  # (B, 1, 28, 28) -> (B, 32, 26, 26)
        self.conv2 = nn.Conv2d(32, 64, 3, 1)  # -> (B, 64, 24, 24)
        self.dropout1 = nn.Dropout(0.25)
        self.dropout2 = nn.Dropout(0.5)
        self.fc1 = nn.Linear(9216, 128)  # 64 * 12 * 12 after pooling
        self.fc2 = nn.Linear(128, 10)

    def forward(self, x: Tensor) -> Tensor:
        x = F.relu(self.conv1(x))
        x = F.relu(self.conv2(x))
        x = F.max_pool2d(x, 2)  # (B, 64, 24, 24) -> (B, 64, 12, 12)
        x = torch.flatten(self.dropout1(x), 1)  # -> (B, 9216)
        x = self.dropout2(F.relu(self.fc1(x)))  # -> (B, 128)
        return F.log_softmax(self.fc2(x), dim=1)  # (B, 10) log-probabilities


def train_epoch(
    model: nn.Module, loader: DataLoader, optimizer: torch.optim.Optimizer, device: torch.device
) -> None:
    """The familiar loop: for each collated batch, forward, NLL loss, backward, step."""
    model.train()
    for x, y in loader:
        x, y = x.to(device), y.to(device)
        optimizer.zero_grad()
        loss = F.nll_loss(model(x), y)
        loss.backward()
        optimizer.step()


def test_accuracy(model: nn.Module, loader: DataLoader, device: torch.device) -> float:
    """Fraction of the test set classified correctly, batch by batch, without gradients."""
    model.eval()
    correct = total = 0
    with torch.no_grad():
        for x, y in loader:
            x, y = x.to(device), y.to(device)
            correct += (model(x).argmax(dim=1) == y).sum().item()
            total += len(y)
    return correct / max(total, 1)


def run_reference(
    dataset: Dataset,
    target_acc: float,
    max_epochs: int,
    budget_seconds: float,
    seed: int = 1,
    device: torch.device | str = "cpu",
) -> dict[str, Any]:
    """Train ClassicNet until the test accuracy reaches `target_acc`, `max_epochs` pass or the
    training time exceeds `budget_seconds` (checked after each epoch).

    Returns the same fields as a model case: epochs, test_accuracy, target_reached,
    train_seconds (evaluation excluded), examples_per_second and the per-epoch history.
    """
    device = torch.device(device)  # each collated batch is copied there, as tutorials do
    torch.manual_seed(seed)
    train = PerSampleMNIST(dataset.train_images, dataset.train_labels, dataset.mean, dataset.std)
    test = PerSampleMNIST(dataset.test_images, dataset.test_labels, dataset.mean, dataset.std)
    train_loader = DataLoader(train, batch_size=TRAIN_BATCH, shuffle=True)
    test_loader = DataLoader(test, batch_size=TEST_BATCH)
    model = ClassicNet().to(device)
    optimizer = torch.optim.Adadelta(model.parameters(), lr=1.0)
    scheduler = torch.optim.lr_scheduler.StepLR(optimizer, step_size=1, gamma=0.7)

    def one_epoch() -> None:
        train_epoch(model, train_loader, optimizer, device)
        scheduler.step()

    def accuracy() -> float:
        return test_accuracy(model, test_loader, device)

    return race(one_epoch, accuracy, target_acc, max_epochs, budget_seconds, len(train), device)


def race(
    one_epoch: Callable[[], None],
    accuracy: Callable[[], float],
    target_acc: float,
    max_epochs: int,
    budget_seconds: float,
    examples_per_epoch: int,
    device: torch.device,
) -> dict[str, Any]:
    """Train epoch after epoch until the test accuracy reaches `target_acc`, `max_epochs` pass
    or training took `budget_seconds`; the fields a benchmark case reports.

    The epochs are timed to the end of the device's work; evaluations are not timed.
    """
    history: list[dict[str, float]] = []
    train_seconds, reached = 0.0, 0.0
    for epoch in range(1, max_epochs + 1):
        start = time.perf_counter()
        one_epoch()
        wait_for(device)  # a GPU may still be working on the last step
        seconds = time.perf_counter() - start
        reached = accuracy()
        train_seconds += seconds
        history.append({"epoch": epoch, "test_accuracy": reached, "seconds": seconds})
        if reached >= target_acc or train_seconds > budget_seconds:
            break
    return {
        "epochs": len(history),
        "test_accuracy": reached,
        "target_reached": reached >= target_acc,
        "train_seconds": train_seconds,
        "examples_per_second": examples_per_epoch * len(history) / max(train_seconds, 1e-9),
        "device": str(device),
        "history": history,
    }
