"""The web lab's 2-D playground in PyTorch: the reference the browser's network must match.

The page /learn/playground trains a small network on points of the plane in the browser (plain
JavaScript, float64, forward and backward passes written out by hand in
`serve/static/learn/playground-net.js`). This module computes the same thing with torch and
autograd, also in float64, so a test can check the browser's weights against it to ~1e-9:

- the same points: one tiny deterministic generator, mulberry32, written identically in both
  languages, makes the data, the initial weights and the order of the mini-batches;
- the same network: h = f(x·Wᵀ + b) for each hidden layer, logits = h·Wᵀ + b (W stored as
  nn.Linear stores it, outputs x inputs), with the project's activations
  (`models/activations.py`, maxout included) and the costs of `lessons/costs.py`: cross-entropy
  over softmax, or squared error ½ Σ (y_i − p_i)² against the one-hot label;
- the same update: plain SGD, w ← w − η ∂L/∂w, L the mean loss of a mini-batch.

    from dnnexplorer.playground import PlaygroundConfig, train
    result = train(PlaygroundConfig(dataset="spirals", hidden=(8, 8)), steps=500)
"""

from __future__ import annotations

import math
from collections.abc import Iterator
from dataclasses import dataclass

import torch
from torch import Tensor, nn

from dnnexplorer.errors import ConfigError
from dnnexplorer.lessons.costs import COSTS
from dnnexplorer.models.activations import (
    ACTIVATION_NAMES,
    activation_width_factor,
    make_activation,
)

DATASETS = ("xor", "circles", "spirals", "blobs", "alarm")
TWO_CLASS_ONLY = ("xor", "alarm")  # their rule has exactly two answers
LOSSES = tuple(COSTS)  # "cross-entropy", "squared error"
MAX_CLASSES, MAX_POINTS, MAX_LAYERS, MAX_UNITS, MAX_PIECES = 4, 1000, 4, 8, 5
ALARM_MARGIN = 26  # |x1 + x2 − 255| >= 26 <=> mean brightness more than 0.05 from one half
UINT32 = 0xFFFFFFFF


class Mulberry32:
    """A tiny 32-bit generator (Tommy Ettinger's mulberry32): uniform floats k / 2^32 in [0, 1).

    Chosen because it is a few integer operations that JavaScript (Math.imul, >>>) and Python
    (& 0xFFFFFFFF) compute bit for bit alike, so both sides draw the very same numbers.
    """

    def __init__(self, seed: int) -> None:
        self.state = seed & UINT32

    def __call__(self) -> float:
        self.state = (self.state + 0x6D2B79F5) & UINT32
        t = self.state
        t = ((t ^ (t >> 15)) * (t | 1)) & UINT32
        t ^= (t + (((t ^ (t >> 7)) * (t | 61)) & UINT32)) & UINT32
        return ((t ^ (t >> 14)) & UINT32) / 4294967296

    def gaussian(self) -> float:
        """A standard normal number by Box-Muller (two uniforms, the sine half thrown away)."""
        u1, u2 = self(), self()
        return math.sqrt(-2 * math.log(1 - u1)) * math.cos(2 * math.pi * u2)


@dataclass(frozen=True)
class PlaygroundConfig:
    """One run of the playground: the page's settings object, same names, same defaults."""

    dataset: str = "xor"  # one of DATASETS
    classes: int = 2  # 2..4; xor and alarm have 2
    points: int = 200  # training points; the test set has points // 2 more
    noise: float = 0.1  # std of the Gaussian noise added to each coordinate (not to alarm)
    hidden: tuple[int, ...] = (4,)  # units of each hidden layer; () is softmax regression
    activation: str = "tanh"  # one of the project's six
    maxout_pieces: int = 2  # maxout's k
    learning_rate: float = 0.3
    batch_size: int = 10  # 1 = SGD, `points` = full batch GD, else mini-batch
    loss: str = "cross-entropy"  # or "squared error"
    seed: int = 1  # data: seed, initial weights: seed + 1, mini-batch order: seed + 2

    def __post_init__(self) -> None:
        check_config(self)


def _whole(value: object, low: int, high: int) -> bool:
    return isinstance(value, int) and not isinstance(value, bool) and low <= value <= high


def check_config(c: PlaygroundConfig) -> None:
    """Raise ConfigError for a setting the page would also refuse (the same limits as the
    page's `problems` in playground-data.js)."""
    problems = []
    if c.dataset not in DATASETS:
        problems.append(f"dataset must be one of {', '.join(DATASETS)}")
    if not _whole(c.classes, 2, MAX_CLASSES) or (c.dataset in TWO_CLASS_ONLY and c.classes != 2):
        problems.append(f"classes must be 2..{MAX_CLASSES} (exactly 2 for xor and alarm)")
    if not _whole(c.points, 10, MAX_POINTS):
        problems.append(f"points must be a whole number 10..{MAX_POINTS}")
    if not 0 <= c.noise <= 1:
        problems.append("noise must be 0..1")
    if len(c.hidden) > MAX_LAYERS or not all(_whole(u, 1, MAX_UNITS) for u in c.hidden):
        problems.append(f"at most {MAX_LAYERS} hidden layers of 1..{MAX_UNITS} units")
    if c.activation not in ACTIVATION_NAMES:
        problems.append(f"activation must be one of {', '.join(ACTIVATION_NAMES)}")
    if not _whole(c.maxout_pieces, 2, MAX_PIECES):
        problems.append(f"maxout pieces must be 2..{MAX_PIECES}")
    if not (math.isfinite(c.learning_rate) and c.learning_rate > 0):
        problems.append("the learning rate must be a number > 0")
    if not _whole(c.batch_size, 1, c.points):
        problems.append("the batch size must be a whole number from 1 (SGD) to points (full batch)")
    if c.loss not in LOSSES:
        problems.append(f"loss must be one of {', '.join(LOSSES)}")
    if not _whole(c.seed, 0, UINT32):
        problems.append("the seed must be a whole number 0..4294967295")
    if problems:
        raise ConfigError("playground: " + "; ".join(problems))


def _clean_point(dataset: str, label: int, classes: int, rng: Mulberry32) -> tuple[float, float]:
    """One point of class `label` before noise; each branch draws a fixed count of numbers."""
    if dataset == "xor":  # class 1 (XOR true) where exactly one of x1, x2 is positive
        sign = 1.0 if rng() < 0.5 else -1.0
        a, b = 0.1 + 0.9 * rng(), 0.1 + 0.9 * rng()
        return sign * a, (sign if label == 0 else -sign) * b
    if dataset == "circles":  # class c on the c-th ring around the centre
        r = (label + 0.1 + 0.8 * rng()) / classes
        angle = 2 * math.pi * rng()
        return r * math.cos(angle), r * math.sin(angle)
    if dataset == "spirals":  # class c on an arm turned by c/classes of a full turn
        t = rng()
        r, angle = 0.1 + 0.9 * t, 2 * math.pi * (label / classes + 1.25 * t)
        return r * math.cos(angle), r * math.sin(angle)
    centre = 2 * math.pi * label / classes + math.pi / 4  # blobs: centres on a circle
    x1 = 0.5 * math.cos(centre) + 0.15 * rng.gaussian()
    x2 = 0.5 * math.sin(centre) + 0.15 * rng.gaussian()
    return x1, x2


def _alarm_point(rng: Mulberry32) -> tuple[float, float, int]:
    """Two pixels 0..255 scaled to 0..1, alarm (1) when their mean is above 127.5, as the lesson's
    perceptron decides for three pixels; pairs within 0.05 of the line are drawn again."""
    while True:
        p1, p2 = math.floor(256 * rng()), math.floor(256 * rng())
        if abs(p1 + p2 - 255) >= ALARM_MARGIN:
            return p1 / 255, p2 / 255, int(p1 + p2 > 255)


def make_points(config: PlaygroundConfig) -> tuple[Tensor, Tensor, Tensor, Tensor]:
    """Training points (N, 2) and labels (N,), then test points (N//2, 2) and labels.

    Point i has class i % classes (alarm: the rule decides); noise is drawn for every point
    even when it is 0, so the noise setting moves the same points more or less.
    """
    rng = Mulberry32(config.seed)
    total = config.points + config.points // 2
    xs, labels = [], []
    for i in range(total):
        if config.dataset == "alarm":
            x1, x2, label = _alarm_point(rng)
        else:
            label = i % config.classes
            x1, x2 = _clean_point(config.dataset, label, config.classes, rng)
            x1 += config.noise * rng.gaussian()
            x2 += config.noise * rng.gaussian()
        xs.append((x1, x2))
        labels.append(label)
    x = torch.tensor(xs, dtype=torch.float64)  # (total, 2)
    y = torch.tensor(labels, dtype=torch.int64)  # (total,)
    n = config.points
    return x[:n], y[:n], x[n:], y[n:]


def build_network(config: PlaygroundConfig) -> nn.Sequential:
    """2 inputs -> hidden layers (Linear + activation) -> Linear to `classes` logits, float64.

    As in the project's MLP, a maxout layer's Linear makes k pieces per unit. Each Linear gets
    weights then biases drawn from mulberry32(seed + 1), row by row, uniform in ±1/√fan_in: the
    range nn.Linear itself uses, drawn from a generator the browser also has.
    """
    factor = activation_width_factor(config.activation, config.maxout_pieces)
    layers: list[nn.Module] = []
    width = 2
    for units in config.hidden:
        layers.append(nn.Linear(width, units * factor, dtype=torch.float64))  # (B, w) -> (B, k*u)
        layers.append(make_activation(config.activation, config.maxout_pieces))  # -> (B, u)
        width = units
    layers.append(nn.Linear(width, config.classes, dtype=torch.float64))  # (B, w) -> logits
    net = nn.Sequential(*layers)
    rng = Mulberry32(config.seed + 1)
    with torch.no_grad():
        for linear in (m for m in net if isinstance(m, nn.Linear)):
            bound = 1 / math.sqrt(linear.in_features)
            for p in (linear.weight, linear.bias):
                values = [bound * (2 * rng() - 1) for _ in range(p.numel())]
                p.copy_(torch.tensor(values, dtype=torch.float64).reshape(p.shape))
    return net


def mini_batches(n: int, batch_size: int, rng: Mulberry32) -> Iterator[list[int]]:
    """Endless mini-batches of indices: each epoch a Fisher-Yates shuffle, then slices of size
    `batch_size` (the last one may be smaller)."""
    while True:
        order = list(range(n))
        for i in range(n - 1, 0, -1):
            j = math.floor(rng() * (i + 1))
            order[i], order[j] = order[j], order[i]
        for start in range(0, n, batch_size):
            yield order[start : start + batch_size]


def evaluate(net: nn.Module, x: Tensor, y: Tensor, loss: str) -> tuple[float, float]:
    """(mean loss, accuracy) of `net` on points x (N, 2) with labels y (N,)."""
    with torch.no_grad():
        logits = net(x)  # (N, classes)
        return COSTS[loss](logits, y).item(), (logits.argmax(dim=1) == y).double().mean().item()


@dataclass
class PlaygroundResult:
    weights: list[list[float]]  # per Linear: its weight (out x in, row by row), then its bias
    batch_losses: list[float]  # the loss of each step's mini-batch, before its update
    train: tuple[float, float]  # (loss, accuracy) on all training points after the last step
    test: tuple[float, float]


def train(config: PlaygroundConfig, steps: int) -> PlaygroundResult:
    """`steps` updates of plain SGD, as the page's step button makes them."""
    x_train, y_train, x_test, y_test = make_points(config)
    net = build_network(config)
    optimizer = torch.optim.SGD(net.parameters(), lr=config.learning_rate)
    batches = mini_batches(config.points, config.batch_size, Mulberry32(config.seed + 2))
    batch_losses = []
    for _ in range(steps):
        index = next(batches)
        logits = net(x_train[index])  # (B, classes)
        loss = COSTS[config.loss](logits, y_train[index])  # the batch's mean loss
        optimizer.zero_grad()
        loss.backward()  # autograd: the chain rule the page writes out by hand
        optimizer.step()  # w <- w - learning_rate * dL/dw
        batch_losses.append(loss.item())
    weights = [p.detach().flatten().tolist() for p in net.parameters()]
    train_metrics = evaluate(net, x_train, y_train, config.loss)
    test_metrics = evaluate(net, x_test, y_test, config.loss)
    return PlaygroundResult(weights, batch_losses, train_metrics, test_metrics)
