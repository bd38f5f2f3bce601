"""Lesson `backpropagation`: the chain rule by hand through a 2-layer network; unstable gradients.

Gradient descent (chapter 4) needs ∂L/∂w for every weight. Backpropagation gets them all in one
sweep from the loss back to the input, by the chain rule: each step multiplies the gradient it
receives by its own local derivative and passes the product on. Here it is done by hand on a
network small enough to write on paper: 2 inputs -> 2 sigmoid hidden units -> 1 sigmoid output,
one example, fixed weights, in the slides' row convention z = x·W + b (W is (inputs, outputs)).

The loss is binary cross-entropy, L = −[y ln ŷ + (1 − y) ln(1 − ŷ)]: the output is a probability
of "yes", the slides prefer cross-entropy to the quadratic cost for classification, and through
the chain rule the sigmoid's slope cancels, leaving dL/dz2 = ŷ − y (the same ŷ − y that softmax
with cross-entropy gives in chapter 9). Every value is checked against PyTorch's autograd in
float64, then used for one step of gradient descent.

Then the slides' "unstable gradients": the same chain of products in a 10-layer network. With
sigmoid each layer multiplies by a slope <= 1/4 and the gradient vanishes towards the input
(chapter 8); with tanh and weights drawn too large (std 1, what `torch.randn` gives) each layer
multiplies by more than 1 and the gradient explodes. Careful initialisation (Xavier: Glorot and
Bengio 2010) keeps it level, and gradient clipping (`torch.nn.utils.clip_grad_norm_`) caps it.
The deep networks (in `unstable_gradients.py`) see a batch of synthetic seven-segment digits: no
download, and the sizes of the gradients do not depend on the data being MNIST.
"""

from __future__ import annotations

import torch
import torch.nn.functional as F
from torch import Tensor

from dnnexplorer.lessons import unstable_gradients
from dnnexplorer.lessons.base import LessonConfig, LessonResult, new_figure, save

NAME = "backpropagation"
DESCRIPTION = (
    "The chain rule by hand through a 2-2-1 network, checked by autograd; exploding gradients"
)

# The tiny network and its one example (row convention: x is (1, 2), W1 (2, 2), W2 (2, 1)).
EXAMPLE = {
    "x": [[1.0, 0.5]],
    "y": [[1.0]],
    "W1": [[0.5, -0.3], [0.2, 0.8]],
    "b1": [[0.1, 0.2]],
    "W2": [[0.7], [-0.4]],
    "b2": [[0.2]],
}
PARAMETERS = ("W1", "b1", "W2", "b2")
LEARNING_RATE = 1.0
FORWARD = ("z1", "a1", "z2", "y_hat", "loss")
BACKWARD = ("dL/dy_hat", "dL/dz2", "dL/dW2", "dL/db2", "dL/da1", "dL/dz1", "dL/dW1", "dL/db1")

# The formula of each row of the story's tables, in the order they are computed.
FORMULAS = {
    "z1": "x·W1 + b1",
    "a1": "σ(z1) = 1 / (1 + e^−z1)",
    "z2": "a1·W2 + b2",
    "y_hat": "σ(z2)",
    "loss": "−[y ln ŷ + (1 − y) ln(1 − ŷ)]",
    "dL/dy_hat": "−y/ŷ + (1 − y)/(1 − ŷ)",
    "dL/dz2": "∂L/∂ŷ · ŷ(1 − ŷ)   (= ŷ − y)",
    "dL/dW2": "a1ᵀ · ∂L/∂z2",
    "dL/db2": "∂L/∂z2",
    "dL/da1": "∂L/∂z2 · W2ᵀ",
    "dL/dz1": "∂L/∂a1 ⊙ a1(1 − a1)",
    "dL/dW1": "xᵀ · ∂L/∂z1",
    "dL/db1": "∂L/∂z1",
}


def example(dtype: torch.dtype = torch.float64) -> dict[str, Tensor]:
    """The example (x, y) and the network's weights as tensors."""
    return {name: torch.tensor(value, dtype=dtype) for name, value in EXAMPLE.items()}


def sigmoid(z: Tensor) -> Tensor:
    """σ(z) = 1 / (1 + e^−z), written out."""
    return 1 / (1 + torch.exp(-z))


def forward(t: dict[str, Tensor]) -> dict[str, Tensor]:
    """The forward pass, formula by formula; keeps every intermediate value."""
    z1 = t["x"] @ t["W1"] + t["b1"]  # (1, 2) @ (2, 2) + (1, 2) -> (1, 2)
    a1 = sigmoid(z1)  # (1, 2)
    z2 = a1 @ t["W2"] + t["b2"]  # (1, 2) @ (2, 1) + (1, 1) -> (1, 1)
    y_hat = sigmoid(z2)  # (1, 1): the probability of "yes"
    y = t["y"]
    loss = -(y * torch.log(y_hat) + (1 - y) * torch.log(1 - y_hat)).sum()  # binary cross-entropy
    return {"z1": z1, "a1": a1, "z2": z2, "y_hat": y_hat, "loss": loss}


def backward(t: dict[str, Tensor], f: dict[str, Tensor]) -> dict[str, Tensor]:
    """The backward pass by hand: the chain rule, one local derivative at a time."""
    y, y_hat, a1 = t["y"], f["y_hat"], f["a1"]
    g = {"dL/dy_hat": -y / y_hat + (1 - y) / (1 - y_hat)}  # (1, 1)
    g["dL/dz2"] = g["dL/dy_hat"] * y_hat * (1 - y_hat)  # σ'(z2) = ŷ(1 − ŷ); equals ŷ − y
    g["dL/dW2"] = a1.T @ g["dL/dz2"]  # (2, 1) @ (1, 1) -> (2, 1)
    g["dL/db2"] = g["dL/dz2"]  # (1, 1)
    g["dL/da1"] = g["dL/dz2"] @ t["W2"].T  # (1, 1) @ (1, 2) -> (1, 2)
    g["dL/dz1"] = g["dL/da1"] * a1 * (1 - a1)  # (1, 2), elementwise: σ'(z1) = a1(1 − a1)
    g["dL/dW1"] = t["x"].T @ g["dL/dz1"]  # (2, 1) @ (1, 2) -> (2, 2)
    g["dL/db1"] = g["dL/dz1"]  # (1, 2)
    return g


def autograd(t: dict[str, Tensor]) -> dict[str, Tensor]:
    """The same eight gradients from `loss.backward()`, with torch's own sigmoid and loss.

    Weights are leaves (`requires_grad=True`): `.backward()` fills their `.grad`. The
    intermediate tensors keep theirs only when asked to, with `.retain_grad()`.
    """
    p = {name: t[name].clone().requires_grad_(True) for name in PARAMETERS}
    z1 = t["x"] @ p["W1"] + p["b1"]
    a1 = torch.sigmoid(z1)
    z2 = a1 @ p["W2"] + p["b2"]
    y_hat = torch.sigmoid(z2)
    for inner in (z1, a1, z2, y_hat):
        inner.retain_grad()
    F.binary_cross_entropy(y_hat, t["y"]).backward()
    inner = {"dL/dy_hat": y_hat, "dL/dz2": z2, "dL/da1": a1, "dL/dz1": z1}
    grads = {key: tensor.grad for key, tensor in inner.items()}
    grads |= {f"dL/d{name}": p[name].grad for name in PARAMETERS}
    return {key: grads[key] for key in BACKWARD}


def gradient_step(t: dict[str, Tensor], g: dict[str, Tensor], lr: float) -> dict[str, Tensor]:
    """One step of gradient descent: w ← w − lr · dL/dw for every weight and bias."""
    return t | {name: t[name] - lr * g[f"dL/d{name}"] for name in PARAMETERS}


def _plot_network(config: LessonConfig, t: dict, f: dict, g: dict, figures: list) -> None:
    """`network.png`: the 2-2-1 network, forward values in black, gradients ∂L/∂· in red."""
    fig = new_figure(9, 4.5)
    ax = fig.add_subplot()
    inputs, hidden, output = [(0, 0.85), (0, 0.15)], [(1, 0.85), (1, 0.15)], (2, 0.5)
    edges = [
        (inputs[i], hidden[j], t["W1"][i, j], g["dL/dW1"][i, j]) for i in (0, 1) for j in (0, 1)
    ]
    edges += [(hidden[j], output, t["W2"][j, 0], g["dL/dW2"][j, 0]) for j in (0, 1)]
    white = {"facecolor": "white", "edgecolor": "none", "pad": 1}
    small = {"ha": "center", "fontsize": 8, "bbox": white}
    red = small | {"color": "C3"}
    for (x0, y0), (x1, y1), w, dw in edges:
        ax.plot([x0, x1], [y0, y1], color="0.6", zorder=1)
        at = 0.3 if y0 != y1 and x0 == 0 else 0.5  # the crossing edges: labels before they cross
        xm, ym = x0 + at * (x1 - x0), y0 + at * (y1 - y0)
        ax.text(xm, ym, f"w={float(w):+.2f}", va="bottom", **small)
        ax.text(xm, ym, f"∂L/∂w={float(dw):+.4f}", va="top", **red)
    z1, a1, dz1 = f["z1"][0], f["a1"][0], g["dL/dz1"][0]
    nodes = [(inputs[i], f"x{i + 1}={float(t['x'][0, i]):.2f}", "") for i in (0, 1)]
    nodes += [
        (hidden[j], f"z={float(z1[j]):.3f}\na={float(a1[j]):.3f}", f"∂L/∂z={float(dz1[j]):+.4f}")
        for j in (0, 1)
    ]
    nodes.append(
        (
            output,
            f"ŷ={float(f['y_hat']):.3f}\nL={float(f['loss']):.3f}",
            f"∂L/∂z={float(g['dL/dz2']):+.4f}",
        )
    )
    circle = {"boxstyle": "circle", "facecolor": "white", "edgecolor": "0.3"}
    for (x, y), text, grad in nodes:
        ax.text(x, y, text, ha="center", va="center", fontsize=9, bbox=circle)
        ax.text(x, y - 0.17, grad, va="top", **red)
    title = "Forward values (black) and backpropagated gradients (red), y = 1"
    ax.set(xlim=(-0.25, 2.25), ylim=(-0.15, 1.0), title=title)
    ax.axis("off")
    save(fig, config, "network", figures)


def run(config: LessonConfig) -> LessonResult:
    """Backpropagate by hand through the tiny network, check autograd, step; measure deep ones."""
    t = example()
    f = forward(t)
    g = backward(t, f)
    auto = autograd(t)
    after = forward(gradient_step(t, g, LEARNING_RATE))
    gradient_squared = sum(float((g[f"dL/d{name}"] ** 2).sum()) for name in PARAMETERS)
    deep = unstable_gradients.measure(config.seed)
    figures: list = []
    _plot_network(config, t, f, g, figures)
    unstable_gradients.plot(config, deep, figures)
    numbers = {
        "example": EXAMPLE,
        "forward": {key: f[key] for key in FORWARD},
        "backward": g,
        "autograd": auto,
        "max_abs_difference": max(float((g[k] - auto[k]).abs().max()) for k in BACKWARD),
        "learning_rate": LEARNING_RATE,
        "loss_after_step": float(after["loss"]),
        "predicted_drop": LEARNING_RATE * gradient_squared,  # first order: lr · ||∇L||²
        "deep": deep,
    }
    return LessonResult(NAME, config.seed, numbers, _summary(numbers), figures, _story(numbers))


def _symbol(key: str) -> str:
    return key.replace("d", "∂", 1).replace("/d", "/∂").replace("y_hat", "ŷ").replace("loss", "L")


def _fmt(value: object) -> str:
    """A number, a row or a small matrix with 4 decimals, written as Python prints lists."""
    if isinstance(value, list):
        return "[" + ", ".join(_fmt(v) for v in value) + "]"
    return f"{float(value):+.4f}"


def _tables(n: dict) -> list[str]:
    """The example, the forward and the backward pass, preformatted (lines <= 99 characters)."""
    e = n["example"]
    example = [
        f"x  = {e['x'][0]}   y = {e['y'][0][0]:g}   (one example)",
        f"W1 = {e['W1']}   b1 = {e['b1'][0]}   (rows: inputs, columns: hidden units)",
        f"W2 = {e['W2']}   b2 = {e['b2'][0]}",
    ]
    forward = [f"{'forward':9}{'formula':34}value"]
    for key in FORWARD:
        value = n["forward"][key]
        forward.append(f"{_symbol(key):9}{FORMULAS[key]:34}{_fmt(value.tolist())}")
    backward = [f"{'backward':9}{'chain rule':34}{'by hand':42}|hand−auto|"]
    for key in BACKWARD:
        hand, auto = n["backward"][key], n["autograd"][key]
        diff = float((hand - auto).abs().max())
        backward.append(f"{_symbol(key):9}{FORMULAS[key]:34}{_fmt(hand.tolist()):42}{diff:.1e}")
    return ["\n".join(example), "\n".join(forward), "\n".join(backward)]


def _summary(n: dict) -> list[str]:
    f, g, deep = n["forward"], n["backward"], n["deep"]
    ratios = "; ".join(f"{init}: {r:.1e}" for init, r in deep["first_over_last"].items())
    clip = deep["clip"]
    return [
        f"2-2-1 sigmoid network, one example (y = 1): ŷ = {float(f['y_hat']):.4f}, "
        f"loss {float(f['loss']):.4f}",
        f"dL/dz2 = {_fmt(g['dL/dz2'].tolist())}, dL/dz1 = {_fmt(g['dL/dz1'].tolist())}; "
        f"autograd differs by at most {n['max_abs_difference']:.1e}",
        f"One gradient-descent step (learning rate {n['learning_rate']:g}): loss "
        f"{float(f['loss']):.4f} -> {n['loss_after_step']:.4f}",
        f"10 layers, gradient norm of layer 1 / layer 10: {ratios}",
        f"clip_grad_norm_(max_norm={clip['max_norm']:g}): total norm "
        f"{clip['total_norm_before']:.1f} -> {clip['total_norm_after']:.2f}",
    ]


def _story(n: dict) -> list[str]:
    f, g, deep = n["forward"], n["backward"], n["deep"]
    y_hat, loss = float(f["y_hat"]), float(f["loss"])
    dz1 = g["dL/dz1"].tolist()[0]
    drop, diff = loss - n["loss_after_step"], n["max_abs_difference"]
    example_table, forward_table, backward_table = _tables(n)
    unit2_weight = n["example"]["W2"][1][0]
    return [
        "Backpropagation is how a network finds out which way to turn each of its weights. "
        "Gradient descent (chapter 4) needs the slope ∂L/∂w of the loss for every weight w; "
        "backpropagation gets all of them in one sweep backwards from the loss, by the chain "
        "rule: if L depends on ŷ, ŷ on z2 and z2 on w, then ∂L/∂w = ∂L/∂ŷ · ∂ŷ/∂z2 · ∂z2/∂w. "
        "Here it is done by hand, number by number, on a network small enough for paper: "
        "2 inputs -> 2 sigmoid hidden units -> 1 sigmoid output, z1 = x·W1 + b1, a1 = σ(z1), "
        "z2 = a1·W2 + b2, ŷ = σ(z2) with σ(z) = 1 / (1 + e^−z), as the slides write y = x·W + b. "
        "The loss is binary cross-entropy, L = −[y ln ŷ + (1 − y) ln(1 − ŷ)]: the output is a "
        "probability of 'yes', the slides prefer cross-entropy to the quadratic cost for "
        "classification, and it makes the first step backwards remarkably simple.",
        example_table,
        forward_table,
        f"Forward: the network says ŷ = {y_hat:.3f}, a {y_hat:.0%} chance of 'yes' for an "
        f"example whose answer is yes, so the loss is −ln {y_hat:.3f} = {loss:.3f}. Every "
        "intermediate value is kept, because the backward pass needs a1 and ŷ again.",
        backward_table,
        "Backward: read the table from the top; each row multiplies a row above by one local "
        f"derivative. ∂L/∂z2 = ŷ − y = {float(g['dL/dz2']):+.3f}: the sigmoid's slope "
        "ŷ(1 − ŷ) cancels against the cross-entropy's 1/ŷ, and the minus sign says that raising "
        "z2 lowers the loss. A weight's gradient is the signal arriving at its layer times the "
        "input it multiplies (a1ᵀ·∂L/∂z2, xᵀ·∂L/∂z1). The hidden units get much less: "
        f"∂L/∂z1 = ({dz1[0]:+.4f}, {dz1[1]:+.4f}), because the signal passed through W2 and the "
        "sigmoid's slope a(1 − a) <= 1/4, the first sign of chapter 8's vanishing gradients. "
        f"Unit 2 feeds the output with a negative weight ({unit2_weight:+g}), so its "
        "gradient has the other sign: the loss wants it quieter. PyTorch's loss.backward() "
        f"computes the same eight values (largest difference {diff:.1e} in float64): autograd "
        "is this chain rule, done for us. network.png draws the values on the network.",
        f"One gradient-descent step, w ← w − η·∂L/∂w with η = {n['learning_rate']:g} on all "
        f"9 numbers (6 weights, 3 biases), takes the loss from {loss:.3f} to "
        f"{n['loss_after_step']:.3f}. The first-order estimate of the drop, η·Σ(∂L/∂w)² = "
        f"{n['predicted_drop']:.3f}, is a little more than the real {drop:.3f}: "
        "the slope flattens during the step, which is why steps must stay small.",
        *unstable_gradients.story(deep),
        "Take-away: backpropagation is the chain rule applied from the loss backwards, reusing "
        "the forward pass's values; autograd does exactly this for any network. In a deep "
        "network the gradient is a product of one factor per layer, so it vanishes or explodes "
        "unless those factors stay near 1. Next, chapter 8 trains the deep sigmoid and ReLU "
        "networks on MNIST and shows what a vanishing gradient does to learning.",
    ]
