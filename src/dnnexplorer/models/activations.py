"""Activation functions of the workshop: sigmoid, tanh, ReLU, leaky ReLU, ELU and maxout.

Each comes three ways, because the lessons need all three:

- `ACTIVATION_FUNCTIONS[name](x)`: the function on a tensor, to plot its curve;
- `ACTIVATION_DERIVATIVES[name](x)`: its derivative written out by hand, to plot the slope that
  backpropagation multiplies by (and to compare with autograd in the tests);
- `make_activation(name)`: an `nn.Module`, usable anywhere a model takes an activation.

Maxout (Goodfellow et al. 2013) is the odd one: `max(w1·x + b1, w2·x + b2)` is the max over k
linear pieces, so the shape of the activation itself is learned. We let the layer before it do
the k linear pieces (it produces k times as many outputs, see `activation_width_factor`) and the
`Maxout` module only takes the max over each group of k. That makes it work after a Linear layer
(groups of features) and after a Conv2d layer (groups of channels) alike.
"""

from __future__ import annotations

from collections.abc import Callable

import torch
import torch.nn.functional as F
from torch import Tensor, nn

from dnnexplorer.errors import ConfigError

LEAKY_SLOPE = 0.1  # the workshop's leaky ReLU is max(0.1x, x)
ELU_ALPHA = 1.0  # ELU: alpha * (e^x - 1) for x < 0
DEFAULT_MAXOUT_PIECES = 2

ACTIVATION_NAMES: tuple[str, ...] = ("sigmoid", "tanh", "relu", "leaky_relu", "elu", "maxout")


def sigmoid(x: Tensor) -> Tensor:
    """sigmoid(x) = 1 / (1 + e^-x): squashes to (0, 1); saturates, so gradients vanish."""
    return torch.sigmoid(x)


def tanh(x: Tensor) -> Tensor:
    """tanh(x): squashes to (-1, 1), zero-centred, but saturates like the sigmoid."""
    return torch.tanh(x)


def relu(x: Tensor) -> Tensor:
    """relu(x) = max(0, x): slope 1 for x > 0, so gradients pass through deep stacks."""
    return F.relu(x)


def leaky_relu(x: Tensor) -> Tensor:
    """leaky_relu(x) = max(0.1x, x): a small slope for x < 0 so no unit dies."""
    return F.leaky_relu(x, LEAKY_SLOPE)


def elu(x: Tensor) -> Tensor:
    """elu(x) = x for x >= 0, alpha (e^x - 1) for x < 0: smooth, mean output near zero."""
    return F.elu(x, ELU_ALPHA)


def maxout(x: Tensor, pieces: int = DEFAULT_MAXOUT_PIECES) -> Tensor:
    """maxout(x) = max over k pieces: dim 1 holds C groups of k, (B, k*C, ...) -> (B, C, ...).

    Features c*k ... c*k + k - 1 are the k linear pieces of output feature c.
    """
    if pieces < 1 or x.shape[1] % pieces != 0:
        raise ValueError(f"maxout: {x.shape[1]} features cannot be split into {pieces} pieces")
    grouped = x.unflatten(1, (x.shape[1] // pieces, pieces))  # (B, k*C, ...) -> (B, C, k, ...)
    return grouped.amax(dim=2)  # (B, C, k, ...) -> (B, C, ...)


def _sigmoid_derivative(x: Tensor) -> Tensor:
    s = torch.sigmoid(x)
    return s * (1 - s)  # at most 0.25: why deep sigmoid nets learn slowly


def _tanh_derivative(x: Tensor) -> Tensor:
    return 1 - torch.tanh(x) ** 2


def _relu_derivative(x: Tensor) -> Tensor:
    return (x > 0).to(x.dtype)  # 0 at x = 0, as autograd chooses


def _leaky_relu_derivative(x: Tensor) -> Tensor:
    return torch.where(x > 0, torch.ones_like(x), torch.full_like(x, LEAKY_SLOPE))


def _elu_derivative(x: Tensor) -> Tensor:
    # clamp before exp so large positive x cannot overflow in the branch we throw away
    return torch.where(x > 0, torch.ones_like(x), ELU_ALPHA * torch.exp(x.clamp(max=0)))


# The functions, for curves and formulas. Maxout is the one that is not elementwise: it reduces
# dim 1 by its k pieces, so it has no entry in ACTIVATION_DERIVATIVES (its gradient is 1 for the
# winning piece and 0 for the others, which autograd handles).
ACTIVATION_FUNCTIONS: dict[str, Callable[[Tensor], Tensor]] = {
    "sigmoid": sigmoid,
    "tanh": tanh,
    "relu": relu,
    "leaky_relu": leaky_relu,
    "elu": elu,
    "maxout": maxout,
}

ACTIVATION_DERIVATIVES: dict[str, Callable[[Tensor], Tensor]] = {
    "sigmoid": _sigmoid_derivative,
    "tanh": _tanh_derivative,
    "relu": _relu_derivative,
    "leaky_relu": _leaky_relu_derivative,
    "elu": _elu_derivative,
}


class Maxout(nn.Module):
    """Max over groups of k features (after Linear) or channels (after Conv2d).

    (B, k*C) -> (B, C) and (B, k*C, H, W) -> (B, C, H, W), with k = `pieces`.
    """

    def __init__(self, pieces: int = DEFAULT_MAXOUT_PIECES) -> None:
        super().__init__()
        if pieces < 2:
            raise ConfigError(f"maxout needs at least 2 pieces, got {pieces}")
        self.pieces = pieces

    def forward(self, x: Tensor) -> Tensor:
        return maxout(x, self.pieces)

    def extra_repr(self) -> str:
        return f"pieces={self.pieces}"


def check_activation(name: str) -> None:
    """Raise ConfigError unless `name` is one of ACTIVATION_NAMES."""
    if name not in ACTIVATION_NAMES:
        raise ConfigError(
            f"unknown activation '{name}'; choose one of: {', '.join(ACTIVATION_NAMES)}"
        )


def activation_width_factor(name: str, pieces: int = DEFAULT_MAXOUT_PIECES) -> int:
    """Outputs per unit that the layer feeding this activation must make: k for maxout, else 1."""
    check_activation(name)
    return pieces if name == "maxout" else 1


def make_activation(name: str, pieces: int = DEFAULT_MAXOUT_PIECES) -> nn.Module:
    """The activation `name` as a module; `pieces` is maxout's k (ignored by the others)."""
    check_activation(name)
    if name == "maxout":
        return Maxout(pieces)
    modules: dict[str, Callable[[], nn.Module]] = {
        "sigmoid": nn.Sigmoid,
        "tanh": nn.Tanh,
        "relu": nn.ReLU,
        "leaky_relu": lambda: nn.LeakyReLU(LEAKY_SLOPE),
        "elu": lambda: nn.ELU(ELU_ALPHA),
    }
    return modules[name]()
