"""Lesson `perceptron`: the alarm perceptron, its failure on XOR, and backpropagation's answer.

The workshop's perceptron watches three pixels x1, x2, x3 and raises an alarm when
h(x) = sign(w1·x1 + w2·x2 + w3·x3 + b) > 0: a weighted vote of the pixels against a threshold
(the bias b is minus that threshold).

Data (synthetic): 200 random pixel triples (0-255, scaled to 0-1 as the workshop normalises
pixels), labelled "alarm" (+1) when their mean brightness is above 127.5, else "quiet" (−1).
Triples within 0.05 of that boundary are dropped, so the two classes are separated by a margin
and the perceptron rule is guaranteed to stop making mistakes (Rosenblatt's convergence theorem).

The same rule cannot learn XOR (Minsky & Papert, "Perceptrons", 1969): no straight line puts
(0,1) and (1,0) on one side and (0,0), (1,1) on the other. A hidden layer of sigmoid neurons,
trained by backpropagation (Rumelhart, Hinton & Williams, 1986), can.
"""

from __future__ import annotations

import numpy as np
import torch
from torch import nn

from dnnexplorer.lessons.base import LessonConfig, LessonResult, new_figure, save, seeded_torch

NAME = "perceptron"
DESCRIPTION = "The alarm perceptron, the perceptron rule failing on XOR, backprop solving it"

MARGIN = 0.05
MAX_EPOCHS = 100
WORKSHOP_PIXELS = (0, 120, 255)  # the slide's example input
XOR_INPUTS = np.array([[0, 0], [0, 1], [1, 0], [1, 1]], dtype=np.float64)
XOR_LABELS = np.array([-1, 1, 1, -1])
HIDDEN = 4  # two hidden neurons can solve XOR, but training often stalls; four rarely do
XOR_STEPS, XOR_LR = 1000, 2.0


def alarm_data(n: int, rng: np.random.Generator) -> tuple[np.ndarray, np.ndarray]:
    """Pixel triples scaled to [0, 1] (k, 3) and labels ±1 (k,), k <= n after the margin cut."""
    pixels = rng.integers(0, 256, size=(n, 3)) / 255.0
    brightness = pixels.mean(axis=1) - 0.5
    keep = np.abs(brightness) > MARGIN
    return pixels[keep], np.where(brightness[keep] > 0, 1, -1)


def predict(w: np.ndarray, b: float, x: np.ndarray) -> np.ndarray:
    """h(x) = sign(w·x + b), with sign(0) counted as −1 (no alarm)."""
    return np.where(x @ w + b > 0, 1, -1)


def perceptron_rule(x: np.ndarray, y: np.ndarray, max_epochs: int = MAX_EPOCHS) -> dict:
    """Rosenblatt's rule: for each mistake, move the weights towards the right answer.

    If example i is misclassified, w ← w + y_i·x_i and b ← b + y_i; correct examples change
    nothing. Stops after the first epoch without a mistake, or after `max_epochs`.
    """
    w, b = np.zeros(x.shape[1]), 0.0
    mistakes_per_epoch, updates = [], 0
    for _ in range(max_epochs):
        mistakes = 0
        for xi, yi in zip(x, y, strict=True):
            if yi * (xi @ w + b) <= 0:  # wrong side of the line, or on it
                w, b = w + yi * xi, b + yi
                mistakes += 1
        mistakes_per_epoch.append(mistakes)
        updates += mistakes
        if mistakes == 0:
            break
    accuracy = float(np.mean(predict(w, b, x) == y))
    return {
        "w": w,
        "b": b,
        "epochs": len(mistakes_per_epoch),
        "updates": updates,
        "converged": mistakes_per_epoch[-1] == 0,
        "mistakes_per_epoch": mistakes_per_epoch,
        "accuracy": accuracy,
    }


def xor_network(seed: int) -> tuple[nn.Module, list[float]]:
    """A 2-4-1 network of sigmoid neurons trained on XOR by backpropagation (full batch)."""
    with seeded_torch(seed):
        net = nn.Sequential(nn.Linear(2, HIDDEN), nn.Sigmoid(), nn.Linear(HIDDEN, 1))
    x = torch.tensor(XOR_INPUTS, dtype=torch.float32)  # (4, 2)
    target = torch.tensor(XOR_LABELS > 0, dtype=torch.float32).unsqueeze(1)  # (4, 1): 0 or 1
    optimizer = torch.optim.SGD(net.parameters(), lr=XOR_LR)
    losses = []
    for _ in range(XOR_STEPS):
        logits = net(x)  # (4, 1); the output neuron's sigmoid lives inside the loss
        loss = nn.functional.binary_cross_entropy_with_logits(logits, target)
        optimizer.zero_grad()
        loss.backward()  # backpropagation: the chain rule, layer by layer, output to input
        optimizer.step()
        losses.append(loss.item())
    return net.eval(), losses


def xor_outputs(net: nn.Module) -> np.ndarray:
    """The network's probability of "1" for the four XOR inputs, shape (4,)."""
    with torch.no_grad():
        return torch.sigmoid(net(torch.tensor(XOR_INPUTS, dtype=torch.float32))).squeeze(1).numpy()


def _plot_mistakes(config: LessonConfig, alarm: dict, xor: dict, figures: list) -> None:
    fig = new_figure()
    ax = fig.add_subplot()
    for label, r in (("alarm (separable)", alarm), ("XOR", xor)):
        epochs = range(1, len(r["mistakes_per_epoch"]) + 1)
        ax.plot(epochs, r["mistakes_per_epoch"], marker=".", label=label)
    ax.set(xlabel="epoch", ylabel="mistakes in the epoch", title="The perceptron rule")
    ax.legend()
    save(fig, config, "perceptron_mistakes", figures)


def _plot_xor(config: LessonConfig, net: nn.Module, figures: list) -> None:
    fig = new_figure(4.5, 4)
    ax = fig.add_subplot()
    grid = np.linspace(-0.25, 1.25, 151)
    gx, gy = np.meshgrid(grid, grid)
    points = torch.tensor(np.stack([gx.ravel(), gy.ravel()], axis=1), dtype=torch.float32)
    with torch.no_grad():
        prob = torch.sigmoid(net(points)).reshape(gx.shape).numpy()  # (151, 151)
    ax.contourf(gx, gy, prob, levels=20, cmap="coolwarm", alpha=0.8)
    ax.contour(gx, gy, prob, levels=[0.5], colors="k")
    for (px, py), label in zip(XOR_INPUTS, XOR_LABELS, strict=True):
        ax.scatter(px, py, s=120, c="red" if label > 0 else "blue", edgecolors="k")
    ax.set(xlabel="x1", ylabel="x2", title="XOR solved by a hidden layer (black: p = 0.5)")
    save(fig, config, "xor_network", figures)


def run(config: LessonConfig) -> LessonResult:
    """Train the alarm perceptron, watch the rule fail on XOR, then solve XOR with backprop."""
    rng = np.random.default_rng(config.seed)
    x, y = alarm_data(200, rng)
    alarm = perceptron_rule(x, y)
    example = np.array(WORKSHOP_PIXELS) / 255.0
    alarm["workshop_example"] = {
        "pixels": list(WORKSHOP_PIXELS),
        "z": float(example @ alarm["w"] + alarm["b"]),
        "alarm": bool(predict(alarm["w"], alarm["b"], example) > 0),
    }
    alarm["n_examples"] = len(y)
    xor = perceptron_rule(XOR_INPUTS, XOR_LABELS)
    net, losses = xor_network(config.seed)
    outputs = xor_outputs(net)
    network = {
        "hidden_units": HIDDEN,
        "steps": XOR_STEPS,
        "learning_rate": XOR_LR,
        "final_loss": losses[-1],
        "outputs": outputs,
        "accuracy": float(np.mean(np.where(outputs > 0.5, 1, -1) == XOR_LABELS)),
    }
    figures: list = []
    _plot_mistakes(config, alarm, xor, figures)
    _plot_xor(config, net, figures)
    numbers = {"alarm": alarm, "xor_perceptron": xor, "xor_network": network}
    return LessonResult(NAME, config.seed, numbers, _explain(numbers), figures)


def _explain(n: dict) -> list[str]:
    a, xp, xn = n["alarm"], n["xor_perceptron"], n["xor_network"]
    w = ", ".join(f"{v:.2f}" for v in a["w"])
    ex = a["workshop_example"]
    return [
        f"Alarm perceptron on {a['n_examples']} pixel triples (alarm = mean brightness > half):",
        f"  no mistakes after {a['epochs']} epochs ({a['updates']} updates): "
        f"w = [{w}], b = {a['b']:.2f}, accuracy {a['accuracy']:.0%}.",
        f"  The slide's pixels {tuple(ex['pixels'])}: z = {ex['z']:.2f} -> "
        f"{'alarm' if ex['alarm'] else 'no alarm'}.",
        f"The same rule on XOR, {xp['epochs']} epochs: still {xp['mistakes_per_epoch'][-1]} "
        f"mistakes per epoch, accuracy {xp['accuracy']:.0%}. No line separates XOR.",
        f"A 2-{xn['hidden_units']}-1 sigmoid network trained by backpropagation: outputs "
        + ", ".join(f"{p:.2f}" for p in xn["outputs"])
        + f" for (0,0), (0,1), (1,0), (1,1); accuracy {xn['accuracy']:.0%}.",
    ]
