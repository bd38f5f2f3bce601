"""Lesson `perceptron`: the alarm perceptron, the sigmoid neuron, XOR and a hidden layer.

The workshop's perceptron watches three pixels x1, x2, x3 and raises an alarm when
h(x) = sign(w1·x1 + w2·x2 + w3·x3 + b) > 0: a weighted vote of the pixels against a threshold.
The slides label b "threshold"; precisely, the bias is minus the threshold θ:
Σ w_i·x_i > θ is the same test as Σ w_i·x_i + b > 0 with b = −θ. Everything here uses b.
Replacing sign by the sigmoid σ(z) = 1 / (1 + e^−z) turns the perceptron into the sigmoid neuron:
the same weighted sum, but an answer between 0 and 1 that changes smoothly with w and b.

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
GATES = {  # logic gates on the inputs above, +1 for "true", −1 for "false"
    "AND": np.array([-1, -1, -1, 1]),
    "OR": np.array([-1, 1, 1, 1]),
    "NAND": np.array([1, 1, 1, -1]),
    "XOR": np.array([-1, 1, 1, -1]),
}
XOR_LABELS = GATES["XOR"]
HIDDEN = 4  # two hidden neurons can solve XOR, but training often stalls; four rarely do
XOR_STEPS, XOR_LR = 1000, 2.0


def alarm_data(n: int, rng: np.random.Generator) -> tuple[np.ndarray, np.ndarray]:
    """Pixel triples scaled to [0, 1] (k, 3) and labels ±1 (k,), k <= n after the margin cut."""
    pixels = rng.integers(0, 256, size=(n, 3)) / 255.0
    brightness = pixels.mean(axis=1) - 0.5
    keep = np.abs(brightness) > MARGIN
    return pixels[keep], np.where(brightness[keep] > 0, 1, -1)


def bias_from_threshold(threshold: float) -> float:
    """b = −θ: "Σ w_i·x_i > θ" and "Σ w_i·x_i + b > 0" are the same test."""
    return -threshold


def predict(w: np.ndarray, b: float, x: np.ndarray) -> np.ndarray:
    """h(x) = sign(w·x + b), with sign(0) counted as −1 (no alarm)."""
    return np.where(x @ w + b > 0, 1, -1)


def sigmoid_neuron(w: np.ndarray, b: float, x: np.ndarray) -> np.ndarray:
    """h(x) = σ(w·x + b) = 1 / (1 + e^−(w·x + b)): the perceptron with sign replaced by sigmoid."""
    return 1.0 / (1.0 + np.exp(-(x @ w + b)))


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


def xor_network(seed: int, hidden: int = HIDDEN) -> tuple[nn.Module, list[float]]:
    """A 2-hidden-1 network of sigmoid neurons trained on XOR by backpropagation (full batch)."""
    with seeded_torch(seed):
        net = nn.Sequential(nn.Linear(2, hidden), nn.Sigmoid(), nn.Linear(hidden, 1))
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


def _plot_sign_vs_sigmoid(
    config: LessonConfig, alarm: dict, x: np.ndarray, y: np.ndarray, figures: list
) -> None:
    """Both neurons against the weighted sum Σ w_i·x_i, with the threshold θ = −b marked."""
    w, b = alarm["w"], alarm["b"]
    sums = np.linspace(0.0, float(w.sum()), 400)[:, None]  # (400, 1): all sums of 0..1 pixels
    pixels = np.array(WORKSHOP_PIXELS) / 255.0
    fig = new_figure(10, 3.8)
    panels = (("perceptron: sign", predict), ("sigmoid neuron: σ", sigmoid_neuron))
    for i, (title, neuron) in enumerate(panels):
        ax = fig.add_subplot(1, 2, i + 1)
        ax.plot(sums, neuron(np.ones(1), b, sums), color="k", linewidth=1.5)  # h(Σ wᵢxᵢ + b)
        outputs = neuron(w, b, x)
        for label, colour, name in ((1, "C3", "alarm"), (-1, "C0", "quiet")):
            ax.scatter(x[y == label] @ w, outputs[y == label], s=10, color=colour, label=name)
        star = {"s": 90, "marker": "*", "color": "gold", "edgecolors": "k", "zorder": 3}
        ax.scatter(pixels @ w, neuron(w, b, pixels), label="slides' pixels", **star)
        ax.axvline(-b, color="0.5", linestyle="--", label=f"θ = −b = {-b:.2f}")
        ax.set(xlabel="weighted sum Σ wᵢxᵢ", ylabel="output", title=f"{title}(Σ wᵢxᵢ + b)")
        ax.legend(fontsize=8, loc="upper left")
    fig.axes[0].set_yticks([-1, 0, 1], ["−1: quiet", "0", "+1: alert"])
    fig.tight_layout()
    save(fig, config, "perceptron_vs_sigmoid", figures)


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
        "sigmoid": float(sigmoid_neuron(alarm["w"], alarm["b"], example)),
    }
    alarm["threshold"] = -alarm["b"]  # θ = −b: the weighted sum above which the alarm rings
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
    _plot_sign_vs_sigmoid(config, alarm, x, y, figures)
    _plot_xor(config, net, figures)
    numbers = {"alarm": alarm, "xor_perceptron": xor, "xor_network": network}
    return LessonResult(NAME, config.seed, numbers, _summary(numbers), figures, _story(numbers))


def _summary(n: dict) -> list[str]:
    a, xp, xn = n["alarm"], n["xor_perceptron"], n["xor_network"]
    w = ", ".join(f"{v:.2f}" for v in a["w"])
    ex = a["workshop_example"]
    return [
        f"Alarm perceptron on {a['n_examples']} pixel triples (alarm = mean brightness > half):",
        f"  no mistakes after {a['epochs']} epochs ({a['updates']} updates): "
        f"w = [{w}], b = {a['b']:.2f}, accuracy {a['accuracy']:.0%}.",
        f"  Alarm when Σ wᵢxᵢ > θ = −b = {a['threshold']:.2f}.",
        f"  The slide's pixels {tuple(ex['pixels'])}: z = {ex['z']:.2f} -> "
        f"{'alarm' if ex['alarm'] else 'no alarm'}; the sigmoid neuron says {ex['sigmoid']:.2f}.",
        f"The same rule on XOR, {xp['epochs']} epochs: still {xp['mistakes_per_epoch'][-1]} "
        f"mistakes per epoch, accuracy {xp['accuracy']:.0%}. No line separates XOR.",
        f"A 2-{xn['hidden_units']}-1 sigmoid network trained by backpropagation: outputs "
        + ", ".join(f"{p:.2f}" for p in xn["outputs"])
        + f" for (0,0), (0,1), (1,0), (1,1); accuracy {xn['accuracy']:.0%}.",
    ]


def _story(n: dict) -> list[str]:
    a, xp, xn = n["alarm"], n["xor_perceptron"], n["xor_network"]
    ex = a["workshop_example"]
    w = ", ".join(f"{v:.2f}" for v in a["w"])
    outputs = ", ".join(f"{p:.2f}" for p in xn["outputs"])
    return [
        "A perceptron is the simplest artificial neuron. The slides' one watches three pixels "
        "x1, x2, x3 (0, 120 and 255 in their example), weighs each by a weight wᵢ, adds a bias "
        "b and raises an alert when h(x) = sign(w1·x1 + w2·x2 + w3·x3 + b) = sign(wᵀx + b) is "
        "positive. The slides label b the threshold; precisely, the bias is the negative of the "
        "threshold θ: Σ wᵢxᵢ > θ is the same test as Σ wᵢxᵢ + b > 0 with b = −θ (the code "
        "uses b throughout). The lesson learns w and b from examples, replaces sign by the "
        "sigmoid, and meets the problem one perceptron cannot solve: XOR.",
        "The perceptron rule (Rosenblatt, 1958) learns from labelled examples (y = +1 alarm, "
        "−1 quiet): after each mistake, w ← w + y·x and b ← b + y; a right answer changes "
        f"nothing. On {a['n_examples']} random pixel triples, scaled from 0..255 to 0..1 and "
        "labelled alarm when their mean brightness is above one half, it makes no mistake "
        f"after {a['epochs']} epochs ({a['updates']} updates): w = [{w}], b = {a['b']:.2f}. "
        f"So the alarm rings when the weighted sum exceeds θ = −b = {a['threshold']:.2f}. "
        "Every weight is positive: each brighter pixel pushes towards the alarm. "
        "perceptron_mistakes.png shows the mistakes per epoch falling to zero.",
        f"The slides' pixels (0, 120, 255) give z = wᵀx + b = {ex['z']:.2f}: "
        f"{'an alert' if ex['alarm'] else 'no alert'} (their mean, 125, is just under half "
        "of 255). Replace sign by the sigmoid σ(z) = 1 / (1 + e^−z) and the same weights make "
        f"a sigmoid neuron, which answers {ex['sigmoid']:.2f} instead of a hard no: a degree "
        "of belief that changes smoothly when w or b change. Gradient descent (chapter 4) needs "
        "exactly that; the sign's slope is 0 everywhere except at its jump, so it gives no "
        "direction to improve. perceptron_vs_sigmoid.png draws both neurons against the "
        "weighted sum, with θ marked.",
        "XOR (true when exactly one input is 1) is where the perceptron fails: after "
        f"{xp['epochs']} epochs the rule still makes {xp['mistakes_per_epoch'][-1]} mistakes "
        f"per epoch (accuracy {xp['accuracy']:.0%}), because no straight line puts (0, 1) and "
        "(1, 0) on one side and (0, 0), (1, 1) on the other. Minsky and Papert made this limit "
        "famous in their 1969 book Perceptrons; interest and funding for neural networks fell "
        "away for more than a decade, the fall in the slides' 'rise and fall of neural "
        "networks'.",
        f"A hidden layer fixes it. A 2-{xn['hidden_units']}-1 network of sigmoid neurons "
        "trained by backpropagation (made popular by Rumelhart, Hinton and Williams in 1986, "
        f"the rise again) outputs {outputs} for (0, 0), (0, 1), (1, 0), (1, 1): accuracy "
        f"{xn['accuracy']:.0%}. Each hidden neuron draws one line; the output neuron combines "
        "them into the band of xor_network.png, two borders with the 'yes' corners between "
        "them: a shape no single line can draw.",
        "Take-away: a neuron is a weighted sum plus a bias, passed through an activation "
        "function. One neuron draws one straight line; layers of neurons draw curves. Sigmoid "
        "is one activation among several: chapter 6 compares sigmoid, tanh, ReLU and others, "
        "and shows why their slopes matter for learning.",
    ]
