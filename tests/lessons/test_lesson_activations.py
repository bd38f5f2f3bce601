"""The activations lesson: hand-written derivatives agree with autograd; the slopes it teaches."""

from __future__ import annotations

import pytest
import torch

from dnnexplorer.lessons import activations

NAMES = ["sigmoid", "tanh", "relu", "leaky_relu", "elu", "maxout"]


@pytest.fixture(scope="module")
def numbers(lesson_run):
    return lesson_run("activations")[0].numbers


def test_all_six_workshop_activations_are_covered(numbers):
    assert list(numbers["functions"]) == NAMES


@pytest.mark.parametrize("name", NAMES)
def test_hand_written_derivative_matches_autograd(numbers, name):
    assert numbers["functions"][name]["max_abs_error_vs_autograd"] < 1e-12


def test_slopes(numbers):
    f = numbers["functions"]
    assert f["sigmoid"]["max_slope"] == pytest.approx(0.25, abs=1e-4)
    assert f["sigmoid"]["slope_at_minus_5_and_5"][1] < 0.01  # saturated
    assert f["relu"]["slope_at_minus_5_and_5"] == [0.0, 1.0]
    assert f["leaky_relu"]["slope_at_minus_5_and_5"] == pytest.approx([0.1, 1.0])
    assert f["maxout"]["slope_at_minus_5_and_5"] == pytest.approx([-0.5, 1.0])
    assert f["tanh"]["output_range"][0] == pytest.approx(-1, abs=1e-3)


def test_maxout_contains_relu_and_leaky_relu(numbers):
    assert numbers["maxout_with_x_and_0_is_relu"]
    assert numbers["maxout_with_x_and_0.1x_is_leaky_relu"]


def test_maxout_1d_passes_gradcheck_away_from_its_kink():
    x = torch.tensor([-2.0, -0.3, 0.4, 3.0], dtype=torch.float64, requires_grad=True)
    assert torch.autograd.gradcheck(activations.maxout_1d, (x,))


def test_a_gradient_through_ten_sigmoid_layers_shrinks_a_millionfold(numbers):
    f = numbers["functions"]
    key = f"best_gradient_factor_through_{activations.LAYERS}_layers"
    assert f["sigmoid"][key] == pytest.approx(0.25**activations.LAYERS, rel=1e-4)  # grid misses 0
    assert f["sigmoid"][key] < 1e-6
    for name in ("relu", "leaky_relu", "elu", "maxout"):
        assert f[name][key] == pytest.approx(1.0)  # an active unit passes the gradient on


def test_story_names_the_six_and_why_slopes_matter(lesson_run):
    result = lesson_run("activations")[0]
    story = " ".join(result.story)
    for formula in ("1 / (1 + e^−x)", "max(0, x)", "max(0.1x, x)", "α(e^x − 1)", "w1ᵀx + b1"):
        assert formula in story
    assert "backpropagation" in story and "0.25^10" in story and "activations.png" in story
