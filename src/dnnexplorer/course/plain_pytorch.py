"""Exercises of chapter 11, `plain-pytorch`: the script's network, its shapes, and `zero_grad`.

The first counts the parameters of the script's `Net` (784 -> 128 -> 10) by hand; the second
follows a batch's shape through its hidden layer; the third asks what `backward()` does to
`.grad` when `zero_grad()` is forgotten, and the reference answer runs the experiment.
"""

from __future__ import annotations

import torch

from dnnexplorer.course.checking import Exercise, choice, shape, whole_number
from dnnexplorer.examples import mnist_plain

CHAPTER = "plain-pytorch"
BATCH = 64
WHAT_BACKWARD_DOES = ("adds up", "replaced", "zeroed")


def _parameters() -> int:
    return sum(p.numel() for p in mnist_plain.Net().parameters())


def _weights_only() -> int:
    return sum(p.numel() for name, p in mnist_plain.Net().named_parameters() if "weight" in name)


def _hidden_shape() -> tuple[int, ...]:
    net = mnist_plain.Net()
    images = torch.zeros(BATCH, 1, 28, 28)
    return tuple(net.hidden(images.flatten(1)).shape)


def _what_backward_does() -> str:
    """The experiment: two backward() passes without zero_grad() in between."""
    p = torch.tensor(1.0, requires_grad=True)
    (3 * p).backward()
    first = p.grad.item()
    (3 * p).backward()
    return "adds up" if p.grad.item() == 2 * first else "replaced"


EXERCISES = (
    Exercise(
        CHAPTER,
        "parameters",
        "The script's Net is nn.Linear(784, 128), ReLU, nn.Linear(128, 10). How many "
        "parameters (weights and biases) does it learn?",
        solution=_parameters,
        judge=whole_number(
            mistakes={
                _weights_only(): "you counted the weights only: each layer also has one bias "
                "per output",
                784 * 10 + 10: "that is softmax regression; Net has a hidden layer of 128",
                784 * 128 + 128: "that is the hidden layer only; add the output layer",
            }
        ),
        wrong=_weights_only(),
        why="784·128 + 128 = 100,480 for the hidden layer and 128·10 + 10 = 1,290 for the "
        "output: 101,770, thirteen times softmax regression's 7,850.",
        hint="nn.Linear(a, b) holds a·b weights and b biases.",
    ),
    Exercise(
        CHAPTER,
        "hidden-shape",
        f"A batch of {BATCH} images (shape ({BATCH}, 1, 28, 28)) goes through x.flatten(1) and "
        "then self.hidden. What is the shape of the result? Answer with a tuple.",
        solution=_hidden_shape,
        judge=shape(
            mistakes={
                (BATCH, 784): "that is the shape after flatten(1), before the hidden layer",
                (128, BATCH): "nn.Linear keeps one row per image: the batch comes first",
                (BATCH, 10): "that is the output layer's shape: the logits",
            }
        ),
        wrong=(BATCH, 784),
        why=f"flatten(1) gives ({BATCH}, 784); nn.Linear(784, 128) maps each row of 784 to "
        f"128 numbers: ({BATCH}, 128), one row of 128 hidden values per image.",
        hint="nn.Linear(in, out) turns (B, in) into (B, out).",
    ),
    Exercise(
        CHAPTER,
        "zero-grad",
        "You call loss.backward() twice without optimizer.zero_grad() in between. What happens "
        "to each parameter's .grad? Answer 'adds up', 'replaced' or 'zeroed'.",
        solution=_what_backward_does,
        judge=choice(
            WHAT_BACKWARD_DOES,
            mistakes={
                "replaced": "PyTorch does not overwrite .grad: each backward() adds its "
                "gradient to what is already there",
                "zeroed": "only zero_grad() clears .grad; backward() never does",
            },
        ),
        wrong="replaced",
        why="backward() adds to .grad, so the second call doubles it (and a forgotten "
        "zero_grad() makes every step use the sum of all past gradients). That is why each "
        "step of the loop starts with optimizer.zero_grad().",
        hint="Try it: p = torch.tensor(1.0, requires_grad=True); call (3 * p).backward() twice "
        "and print p.grad.",
    ),
)
