"""Oracle tests for the activations: each against the workshop's formula, each derivative against
autograd (and gradcheck in float64), maxout against an explicit reshape-and-max."""

from __future__ import annotations

import pytest
import torch
from torch import nn

from dnnexplorer.errors import ConfigError
from dnnexplorer.models.activations import (
    ACTIVATION_DERIVATIVES,
    ACTIVATION_FUNCTIONS,
    ACTIVATION_NAMES,
    Maxout,
    activation_width_factor,
    make_activation,
    maxout,
)

ELEMENTWISE = [name for name in ACTIVATION_NAMES if name != "maxout"]

# The formulas as the workshop's slides write them, in plain tensor arithmetic.
FORMULAS = {
    "sigmoid": lambda x: 1 / (1 + torch.exp(-x)),
    "tanh": lambda x: (torch.exp(x) - torch.exp(-x)) / (torch.exp(x) + torch.exp(-x)),
    "relu": lambda x: torch.maximum(torch.zeros_like(x), x),
    "leaky_relu": lambda x: torch.maximum(0.1 * x, x),
    "elu": lambda x: torch.where(x >= 0, x, torch.exp(x) - 1),
}


def _points() -> torch.Tensor:
    """float64 points over [-6, 6], avoiding 0 where relu and leaky relu have a kink."""
    torch.manual_seed(0)
    grid = torch.linspace(-6, 6, 121, dtype=torch.float64)
    x = torch.cat([grid, 3 * torch.randn(200, dtype=torch.float64)])
    return x[x.abs() > 1e-3]


def test_every_name_has_a_function_and_a_module() -> None:
    assert ACTIVATION_NAMES == ("sigmoid", "tanh", "relu", "leaky_relu", "elu", "maxout")
    assert set(ACTIVATION_FUNCTIONS) == set(ACTIVATION_NAMES)
    assert set(ACTIVATION_DERIVATIVES) == set(ELEMENTWISE)


@pytest.mark.parametrize("name", ELEMENTWISE)
def test_function_matches_the_formula(name: str) -> None:
    x = _points()
    torch.testing.assert_close(ACTIVATION_FUNCTIONS[name](x), FORMULAS[name](x))


@pytest.mark.parametrize("name", ELEMENTWISE)
def test_module_matches_the_function(name: str) -> None:
    x = _points()
    module = make_activation(name)
    assert isinstance(module, nn.Module)
    torch.testing.assert_close(module(x), ACTIVATION_FUNCTIONS[name](x))


@pytest.mark.parametrize("name", ELEMENTWISE)
def test_derivative_matches_autograd(name: str) -> None:
    x = _points().requires_grad_(True)
    (autograd_slope,) = torch.autograd.grad(ACTIVATION_FUNCTIONS[name](x).sum(), x)
    torch.testing.assert_close(ACTIVATION_DERIVATIVES[name](x.detach()), autograd_slope)


@pytest.mark.parametrize("name", ELEMENTWISE)
def test_gradcheck_in_float64(name: str) -> None:
    x = _points()[:40].clone().requires_grad_(True)
    assert torch.autograd.gradcheck(ACTIVATION_FUNCTIONS[name], (x,))


@pytest.mark.parametrize(
    ("name", "x", "slope"),
    [
        ("sigmoid", 0.0, 0.25),  # the sigmoid's steepest slope: why deep sigmoid nets stall
        ("tanh", 0.0, 1.0),
        ("relu", 2.0, 1.0),
        ("relu", -2.0, 0.0),
        ("leaky_relu", -2.0, 0.1),
        ("elu", -1.0, torch.exp(torch.tensor(-1.0)).item()),
    ],
)
def test_known_slopes(name: str, x: float, slope: float) -> None:
    value = ACTIVATION_DERIVATIVES[name](torch.tensor([x], dtype=torch.float64))
    assert value.item() == pytest.approx(slope)


def test_elu_derivative_has_no_overflow_for_large_inputs() -> None:
    x = torch.tensor([1000.0, -1000.0])
    assert torch.equal(ACTIVATION_DERIVATIVES["elu"](x), torch.tensor([1.0, 0.0]))


@pytest.mark.parametrize("pieces", [2, 3, 4])
def test_maxout_on_features_is_reshape_and_max(pieces: int) -> None:
    torch.manual_seed(0)
    x = torch.randn(5, 6 * pieces)  # (B, k*C) with C = 6
    expected = torch.empty(5, 6)
    for c in range(6):  # unit c is the max of its k pieces c*k ... c*k + k - 1
        expected[:, c] = x[:, c * pieces : (c + 1) * pieces].max(dim=1).values
    torch.testing.assert_close(maxout(x, pieces), expected)
    torch.testing.assert_close(Maxout(pieces)(x), x.reshape(5, 6, pieces).max(dim=2).values)


def test_maxout_on_channels_is_reshape_and_max() -> None:
    torch.manual_seed(0)
    x = torch.randn(2, 3 * 4, 5, 5)  # (B, k*C, H, W) with k = 3, C = 4
    expected = x.reshape(2, 4, 3, 5, 5).max(dim=2).values  # (B, C, H, W)
    torch.testing.assert_close(Maxout(3)(x), expected)


def test_maxout_gradcheck_in_float64() -> None:
    torch.manual_seed(0)
    x = torch.randn(3, 8, 2, 2, dtype=torch.float64, requires_grad=True)
    assert torch.autograd.gradcheck(lambda t: maxout(t, 2), (x,))


def test_maxout_of_two_pieces_is_the_workshop_formula() -> None:
    """max(w1·x + b1, w2·x + b2): a Linear making 2 pieces per unit, then Maxout."""
    torch.manual_seed(0)
    x = torch.randn(4, 3)
    linear = nn.Linear(3, 2)  # two pieces of one unit
    (w1, w2), (b1, b2) = linear.weight, linear.bias
    expected = torch.maximum(x @ w1 + b1, x @ w2 + b2).unsqueeze(1)  # (B, 1)
    torch.testing.assert_close(Maxout(2)(linear(x)), expected)


def test_maxout_rejects_bad_pieces() -> None:
    with pytest.raises(ValueError, match="cannot be split into 2 pieces"):
        maxout(torch.randn(2, 5), 2)
    with pytest.raises(ConfigError, match="at least 2 pieces"):
        Maxout(1)


@pytest.mark.parametrize("name", ACTIVATION_NAMES)
def test_width_factor(name: str) -> None:
    expected = 3 if name == "maxout" else 1
    assert activation_width_factor(name, pieces=3) == expected


def test_unknown_activation_lists_the_names() -> None:
    with pytest.raises(ConfigError, match="unknown activation 'gelu'; choose one of: sigmoid"):
        make_activation("gelu")
    with pytest.raises(ConfigError, match="unknown activation"):
        activation_width_factor("Relu")
