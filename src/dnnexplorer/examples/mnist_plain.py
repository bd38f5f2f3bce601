"""The whole MNIST training in plain PyTorch: data -> model -> loss -> optimizer -> loop -> test.

Run: python examples/mnist_plain.py --data FOLDER (MNIST's 4 IDX files; default $DNNX_DATA/mnist)
"""

import argparse
import gzip
import os
from pathlib import Path

import numpy as np
import torch
import torch.nn.functional as F
from torch import nn

MEAN, STD = 0.1307, 0.3081  # MNIST's training pixels on the 0..1 scale: their mean and spread


def read_idx(path: Path) -> np.ndarray:
    """An IDX file (MNIST's format) as an array: a 4-byte header, the sizes, then the bytes."""
    if not path.exists():
        path = path.with_suffix("")  # the same file, not compressed
    data = path.read_bytes()
    if path.suffix == ".gz":
        data = gzip.decompress(data)
    ndim = data[3]  # 1 for labels, 3 for images (count, rows, columns)
    shape = [int.from_bytes(data[4 + 4 * i : 8 + 4 * i], "big") for i in range(ndim)]
    return np.frombuffer(data, dtype=np.uint8, offset=4 + 4 * ndim).reshape(shape)


def load_mnist(folder: Path, split: str) -> tuple[torch.Tensor, torch.Tensor]:
    """The images (N, 1, 28, 28), standardised, and labels (N,) of "train" or "t10k" (test)."""
    images = read_idx(folder / f"{split}-images-idx3-ubyte.gz")  # (N, 28, 28) bytes 0..255
    labels = read_idx(folder / f"{split}-labels-idx1-ubyte.gz")  # (N,) digits 0..9
    x = (torch.tensor(images, dtype=torch.float32) / 255 - MEAN) / STD  # centred, spread ~1
    return x.unsqueeze(1), torch.tensor(labels, dtype=torch.int64)


class Net(nn.Module):
    """784 pixels -> 128 hidden ReLU units -> 10 logits, one score per digit."""

    def __init__(self) -> None:
        super().__init__()
        self.hidden = nn.Linear(784, 128)  # weights (128, 784) and biases (128,)
        self.output = nn.Linear(128, 10)  # weights (10, 128) and biases (10,)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        x = x.flatten(1)  # (B, 1, 28, 28) -> (B, 784)
        x = F.relu(self.hidden(x))  # (B, 784) -> (B, 128)
        return self.output(x)  # (B, 128) -> (B, 10); softmax is left to the loss


def train(model, optimizer, images, labels, batch_size: int) -> float:
    """One epoch of mini-batch gradient descent; returns the mean training loss."""
    model.train()
    order = torch.randperm(len(images))  # a new shuffle every epoch
    total = 0.0
    for start in range(0, len(images), batch_size):
        batch = order[start : start + batch_size]
        logits = model(images[batch])  # 1. forward: (B, 10) scores
        loss = F.cross_entropy(logits, labels[batch])  # 2. loss: softmax + cross-entropy
        optimizer.zero_grad()  # 3. clear the gradients of the last step
        loss.backward()  # 4. backward: d loss / d parameter, into each .grad
        optimizer.step()  # 5. step: parameter -= lr * gradient
        total += loss.item() * len(batch)
    return total / len(images)


@torch.no_grad()  # testing needs no gradients: faster, less memory
def test(model, images, labels) -> float:
    """The fraction of images whose highest score is their label."""
    model.eval()
    predictions = model(images).argmax(dim=1)  # (N, 10) -> (N,)
    return (predictions == labels).float().mean().item()


def main(argv: list[str] | None = None) -> None:
    """Read the flags, load the data, then train and test epoch after epoch."""
    default_data = Path(os.environ.get("DNNX_DATA", "data")) / "mnist"
    parser = argparse.ArgumentParser(description="Train a small network on MNIST.")
    parser.add_argument("--data", type=Path, default=default_data, help="folder of the files")
    parser.add_argument("--epochs", type=int, default=3, help="passes over the training set")
    parser.add_argument("--lr", type=float, default=0.1, help="learning rate")
    parser.add_argument("--batch-size", type=int, default=64, help="images per step")
    args = parser.parse_args(argv)
    torch.manual_seed(0)  # the same initial weights and shuffles at every run
    train_images, train_labels = load_mnist(args.data, "train")
    test_images, test_labels = load_mnist(args.data, "t10k")
    model = Net()
    optimizer = torch.optim.SGD(model.parameters(), lr=args.lr)
    for epoch in range(1, args.epochs + 1):
        loss = train(model, optimizer, train_images, train_labels, args.batch_size)
        accuracy = test(model, test_images, test_labels)
        print(f"epoch {epoch}: train loss {loss:.4f}, test accuracy {accuracy:.2%}")


if __name__ == "__main__":
    main()
