"""Lesson `plain-pytorch`: the whole MNIST training in one plain PyTorch script under 100 lines.

`examples/mnist_plain.py` (a link to `dnnexplorer/examples/mnist_plain.py`) goes data -> model
-> loss -> optimizer -> loop -> test with nothing but the standard library, numpy and torch, the
way pytorch/examples' MNIST does (`Net(nn.Module)`, `train()`, `test()`). This lesson imports the
script's own functions and runs them, exactly as `python examples/mnist_plain.py` does, and opens
one step of the loop: the shapes going in and out, the loss at the start, the gradients that
`backward()` leaves in each parameter's `.grad`, `step()` checked against p − lr·grad by hand,
and what `zero_grad()` prevents (gradients add up).

Where we depart from the rest of the project, and why: this lesson does not train through
`run_training`, because its subject is a script that uses nothing of the project. Offline, the
seven-segment digits are written as real IDX .gz files into a temporary folder, so the script
reads them exactly as it reads MNIST.
"""

from __future__ import annotations

import ast
import contextlib
import tempfile
import time
from collections.abc import Iterator
from pathlib import Path

import numpy as np
import torch
import torch.nn.functional as F

from dnnexplorer.data import Dataset, get_dataset
from dnnexplorer.data.idx import write_idx
from dnnexplorer.data.locate import find_or_download
from dnnexplorer.examples import mnist_plain
from dnnexplorer.lessons.base import (
    LessonConfig,
    LessonResult,
    digits_dataset,
    new_figure,
    save,
    seeded_torch,
)

NAME = "plain-pytorch"
DESCRIPTION = "The whole MNIST training in one plain PyTorch script of under 100 lines"
USES_MNIST = True  # unless config.offline

SCRIPT = Path(mnist_plain.__file__)
EPOCHS, LEARNING_RATE, BATCH_SIZE = 2, 0.1, 64  # the script's defaults, but 2 epochs


def write_mnist_files(dataset: Dataset, folder: Path) -> Path:
    """Write a dataset as MNIST's four IDX .gz files (same names), so the script can read it."""
    for stem, images, labels in (
        ("train", dataset.train_images, dataset.train_labels),
        ("t10k", dataset.test_images, dataset.test_labels),
    ):
        write_idx(folder / f"{stem}-images-idx3-ubyte.gz", images.numpy(), compress=True)
        write_idx(folder / f"{stem}-labels-idx1-ubyte.gz", labels.numpy().astype(np.uint8), True)
    return folder


@contextlib.contextmanager
def mnist_folder(config: LessonConfig) -> Iterator[Path]:
    """The folder holding MNIST's files; offline, a temporary one with seven-segment digits."""
    if not config.offline:
        yield find_or_download(get_dataset("mnist"), config.data_dir).folder
        return
    with tempfile.TemporaryDirectory(prefix="dnnx-plain-") as tmp:
        yield write_mnist_files(digits_dataset(config), Path(tmp))


def script_facts(path: Path = SCRIPT) -> dict:
    """How long the script is and which modules it imports (read from its syntax tree)."""
    source = path.read_text()
    imported = set()
    for node in ast.walk(ast.parse(source)):
        if isinstance(node, ast.Import):
            imported |= {alias.name.split(".")[0] for alias in node.names}
        elif isinstance(node, ast.ImportFrom) and node.module:
            imported.add(node.module.split(".")[0])
    return {"script_lines": len(source.splitlines()), "script_imports": sorted(imported)}


def one_step(model: mnist_plain.Net, images: torch.Tensor, labels: torch.Tensor) -> dict:
    """One step of the script's loop, line by line, with what each line leaves behind."""
    optimizer = torch.optim.SGD(model.parameters(), lr=LEARNING_RATE)
    logits = model(images)  # 1. forward
    loss = F.cross_entropy(logits, labels)  # 2. loss
    optimizer.zero_grad()  # 3. clear old gradients
    loss.backward()  # 4. backward: every parameter's .grad
    grads = {name: p.grad.clone() for name, p in model.named_parameters()}
    before = {name: p.detach().clone() for name, p in model.named_parameters()}
    optimizer.step()  # 5. step
    by_hand = {name: before[name] - LEARNING_RATE * grads[name] for name in before}
    step_error = max(
        float((p.detach() - by_hand[n]).abs().max()) for n, p in model.named_parameters()
    )
    # Without zero_grad, a second backward adds its gradient to the first one.
    optimizer.zero_grad()
    F.cross_entropy(model(images), labels).backward()
    once = model.output.bias.grad.clone()
    F.cross_entropy(model(images), labels).backward()
    return {
        "batch_shape": list(images.shape),
        "logits_shape": list(logits.shape),
        "initial_loss": loss.item(),
        "gradient_shapes": {name: list(g.shape) for name, g in grads.items()},
        "step_max_difference": step_error,
        "twice_backward_ratio": float(model.output.bias.grad.norm() / once.norm()),
    }


def train_in_tenths(model: mnist_plain.Net, train: tuple, test: tuple) -> list:
    """EPOCHS epochs of the script's train(), called on tenths of each shuffled epoch so that
    the script's test() can measure the accuracy in between: [(epoch, mean loss, accuracy)]."""
    optimizer = torch.optim.SGD(model.parameters(), lr=LEARNING_RATE)
    curve = [(0.0, float("nan"), mnist_plain.test(model, *test))]
    for epoch in range(EPOCHS):
        for tenth, part in enumerate(torch.randperm(len(train[0])).chunk(10), start=1):
            loss = mnist_plain.train(model, optimizer, train[0][part], train[1][part], BATCH_SIZE)
            curve.append((epoch + tenth / 10, loss, mnist_plain.test(model, *test)))
    return curve


def run(config: LessonConfig) -> LessonResult:
    """Run the script's functions on MNIST (or seven-segment digits) for EPOCHS epochs."""
    with mnist_folder(config) as folder:
        train_images, train_labels = mnist_plain.load_mnist(folder, "train")
        test_images, test_labels = mnist_plain.load_mnist(folder, "t10k")
    with seeded_torch(config.seed):
        anatomy = one_step(mnist_plain.Net(), train_images[:BATCH_SIZE], train_labels[:BATCH_SIZE])
        model = mnist_plain.Net()  # a fresh one: the script's training starts from here
        start = time.perf_counter()
        curve = train_in_tenths(model, (train_images, train_labels), (test_images, test_labels))
        seconds = time.perf_counter() - start
    # What the script prints after each epoch: the mean loss of its tenths, the test accuracy.
    losses = [
        float(np.mean([c[1] for c in curve[1 + 10 * e : 11 + 10 * e]])) for e in range(EPOCHS)
    ]
    accuracies = [curve[10 * (e + 1)][2] for e in range(EPOCHS)]
    numbers = {
        "dataset": "seven-segment" if config.offline else "mnist",
        **script_facts(),
        "train_shape": list(train_images.shape),
        "test_shape": list(test_images.shape),
        "parameters": sum(p.numel() for p in model.parameters()),
        **anatomy,
        "epochs": EPOCHS,
        "train_loss": losses,
        "test_accuracy": accuracies,
        "train_seconds": seconds,
    }
    figures: list = []
    _plot_training(config, curve, figures)
    _plot_predictions(config, model, test_images, test_labels, figures)
    return LessonResult(NAME, config.seed, numbers, _summary(numbers), figures, _story(numbers))


def _plot_training(config: LessonConfig, curve: list, figures: list) -> None:
    epochs, losses, accuracies = zip(*curve, strict=True)
    fig = new_figure(9.0, 3.4)
    for i, (values, label) in enumerate(
        ((losses, "mean training loss"), (accuracies, "test accuracy"))
    ):
        ax = fig.add_subplot(1, 2, i + 1)
        ax.plot(epochs, values, "o-", markersize=3)
        ax.set_xticks(range(EPOCHS + 1))
        ax.set_xlabel("epoch")
        ax.set_ylabel(label)
    fig.suptitle("The script's train() and test(), every tenth of an epoch")
    fig.tight_layout()
    save(fig, config, "training", figures)


@torch.no_grad()
def _plot_predictions(config, model, images: torch.Tensor, labels: torch.Tensor, figures) -> None:
    guesses = model(images).argmax(dim=1)  # (N, 10) -> (N,)
    wrong = torch.nonzero(guesses != labels).flatten()[:6]
    shown = torch.cat([torch.arange(12 - len(wrong)), wrong])
    fig = new_figure(12.0, 2.6)
    for i, k in enumerate(shown.tolist()):
        ax = fig.add_subplot(1, len(shown), i + 1)
        ax.imshow(images[k, 0].numpy(), cmap="gray")
        ax.axis("off")
        right = bool(guesses[k] == labels[k])
        ax.set_title(f"{int(guesses[k])} ({int(labels[k])})", color="black" if right else "red")
    fig.suptitle("Guess (label) for the first test digits, then some mistakes in red")
    fig.tight_layout()
    save(fig, config, "predictions", figures)


def _summary(n: dict) -> list[str]:
    return [
        f"examples/mnist_plain.py: {n['script_lines']} lines, imports "
        f"{', '.join(n['script_imports'])}",
        f"Net: 784 -> 128 ReLU -> 10, {n['parameters']:,} parameters; one batch "
        f"{tuple(n['batch_shape'])} -> logits {tuple(n['logits_shape'])}, "
        f"loss {n['initial_loss']:.3f} at the start",
        f"step() vs p − lr·grad by hand: max difference {n['step_max_difference']:.1e}; "
        f"two backward() without zero_grad(): gradient x{n['twice_backward_ratio']:.2f}",
        f"{n['epochs']} epochs on {n['dataset']} ({n['train_seconds']:.1f} s): train loss "
        + ", ".join(f"{v:.3f}" for v in n["train_loss"])
        + "; test accuracy "
        + ", ".join(f"{v:.1%}" for v in n["test_accuracy"]),
    ]


def _story(n: dict) -> list[str]:
    shapes = ", ".join(f"{name} {tuple(shape)}" for name, shape in n["gradient_shapes"].items())
    accuracy = ", ".join(f"{v:.1%}" for v in n["test_accuracy"])
    return [
        "Everything the previous chapters built by hand fits in one short script: "
        f"examples/mnist_plain.py has {n['script_lines']} lines and imports only "
        f"{', '.join(n['script_imports'])} (no dnnexplorer). It reads the data, builds a model, "
        "picks a loss and an optimizer, loops over mini-batches and tests, in that order, and "
        "`python examples/mnist_plain.py --epochs 1` runs it. Each step of its loop is five "
        "lines: forward (logits = model(x)), loss (cross-entropy of softmax(logits) and the "
        "labels), zero_grad, backward (∂loss/∂p for every parameter p), and step "
        "(p ← p − lr·∂loss/∂p), the gradient descent of the softmax-by-hand chapter, with "
        "autograd working out the gradients.",
        f"The data: read_idx parses the IDX files, {tuple(n['train_shape'])} training and "
        f"{tuple(n['test_shape'])} test images after adding a channel dimension. Pixels are "
        "standardised, (x/255 − 0.1307) / 0.3081, as `dnnx train` does, rather than the slides' "
        "0..1: centred inputs let gradient descent take evenly sized steps.",
        "The model, Net, is 784 pixels -> 128 hidden ReLU units -> 10 logits (the slides' "
        "'adding more layers'); its two nn.Linear layers hold "
        f"{n['parameters']:,} parameters. nn.Linear stores its weights as (out, in) and computes "
        "x @ weight.T + b: the transpose of the slides' W. The softmax is not in the model: "
        "F.cross_entropy takes the logits and the integer labels and applies it itself.",
        f"One step opened up: a batch {tuple(n['batch_shape'])} gives logits "
        f"{tuple(n['logits_shape'])}, one row of ten scores per image. At the start the loss is "
        f"{n['initial_loss']:.3f}, close to ln 10 = 2.303: small random weights give every digit "
        f"about the same probability. backward() leaves a gradient of each parameter's own "
        f"shape in its .grad ({shapes}). step() is p − lr·grad and nothing more: it matches that "
        f"formula, computed by hand, to {n['step_max_difference']:.1e} (float32 rounding). And "
        "calling backward() twice without zero_grad() makes the gradient "
        f"{n['twice_backward_ratio']:.2f} times "
        "larger: PyTorch adds new gradients to the old ones, which is why every step starts by "
        "clearing them.",
        f"Training {n['epochs']} epochs on {n['dataset']} took {n['train_seconds']:.1f} s; the "
        "mean training loss went " + " -> ".join(f"{v:.3f}" for v in n["train_loss"]) + " and "
        f"the test accuracy was {accuracy} after each epoch (training.png). One hidden layer "
        "already beats softmax regression's ~92% on MNIST. predictions.png shows the network's "
        "guesses for some test digits, and some of its mistakes in red.",
        "Take-away: a complete training is data, model, loss, optimizer, loop and test, and "
        "the loop is five lines. `dnnx train` does the same with more care around it "
        "(checkpoints, progress, other models), and the next chapters replace the fully "
        "connected layers with convolutions, starting with slash-world: how one filter works.",
    ]
