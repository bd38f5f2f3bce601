"""The backpropagation lesson: the chain rule by hand vs autograd, one step, unstable gradients.

Oracle tests: the hand-written backward pass is compared with torch's autograd computed here
independently (float64, `binary_cross_entropy_with_logits`, `torch.autograd.grad`) and with
finite differences, on the lesson's example and on other weights and labels.
"""

from __future__ import annotations

import itertools
import math

import pytest
import torch
import torch.nn.functional as F

from dnnexplorer.lessons import backpropagation as bp
from dnnexplorer.lessons import unstable_gradients


@pytest.fixture(scope="module")
def result(lesson_run):
    return lesson_run("backpropagation")[0]


@pytest.fixture(scope="module")
def numbers(result):
    return result.numbers


def oracle(t: dict[str, torch.Tensor]) -> dict[str, torch.Tensor]:
    """Every gradient of the backward table from torch alone, by another route than the lesson."""
    p = {name: t[name].clone().requires_grad_(True) for name in bp.PARAMETERS}
    z1 = t["x"] @ p["W1"] + p["b1"]
    a1 = torch.sigmoid(z1)
    z2 = a1 @ p["W2"] + p["b2"]
    loss = F.binary_cross_entropy_with_logits(z2, t["y"])  # the loss straight from the logit z2
    keys = ["dL/dz2", "dL/da1", "dL/dz1", *(f"dL/d{n}" for n in bp.PARAMETERS)]
    grads = torch.autograd.grad(loss, [z2, a1, z1, *(p[n] for n in bp.PARAMETERS)])
    y_hat = torch.sigmoid(z2).detach().requires_grad_(True)
    (d_y_hat,) = torch.autograd.grad(F.binary_cross_entropy(y_hat, t["y"]), [y_hat])
    return {"dL/dy_hat": d_y_hat, **dict(zip(keys, grads, strict=True))}


def random_example(seed: int, y: float) -> dict[str, torch.Tensor]:
    generator = torch.Generator().manual_seed(seed)
    t = {
        k: torch.randn(v.shape, generator=generator, dtype=torch.float64)
        for k, v in bp.example().items()
    }
    t["y"] = torch.tensor([[y]], dtype=torch.float64)
    return t


def test_forward_pass_matches_torch(numbers):
    t = bp.example()
    z2 = torch.sigmoid(t["x"] @ t["W1"] + t["b1"]) @ t["W2"] + t["b2"]
    f = numbers["forward"]
    assert torch.allclose(f["y_hat"], torch.sigmoid(z2), atol=1e-14)
    loss = F.binary_cross_entropy_with_logits(z2, t["y"])
    assert math.isclose(float(f["loss"]), float(loss), abs_tol=1e-12)
    assert math.isclose(float(f["loss"]), -math.log(float(f["y_hat"])))  # y = 1: L = −ln ŷ


def test_every_hand_gradient_matches_autograd(numbers):
    expected = oracle(bp.example())
    assert list(numbers["backward"]) == list(bp.BACKWARD)
    for key in bp.BACKWARD:
        hand = numbers["backward"][key]
        assert hand.dtype == torch.float64 and hand.shape == expected[key].shape, key
        assert torch.allclose(hand, expected[key], atol=1e-12), key
        assert torch.allclose(numbers["autograd"][key], expected[key], atol=1e-12), key
    assert numbers["max_abs_difference"] < 1e-12


@pytest.mark.parametrize(("seed", "y"), [(1, 0.0), (2, 1.0), (3, 0.0)])
def test_hand_formulas_hold_for_any_weights_and_label(seed, y):
    t = random_example(seed, y)
    hand, expected = bp.backward(t, bp.forward(t)), oracle(t)
    for key in bp.BACKWARD:
        assert torch.allclose(hand[key], expected[key], atol=1e-12), key


def nudged(t: dict[str, torch.Tensor], name: str, index: int, eps: float) -> dict:
    """`t` with entry `index` of weight `name` moved by `eps`."""
    weight = t[name].clone()
    weight.view(-1)[index] += eps
    return t | {name: weight}


def test_hand_weight_gradients_match_finite_differences():
    t, eps = bp.example(), 1e-6
    g = bp.backward(t, bp.forward(t))
    for name in bp.PARAMETERS:
        for index in range(t[name].numel()):
            up = bp.forward(nudged(t, name, index, eps))["loss"]
            down = bp.forward(nudged(t, name, index, -eps))["loss"]
            slope = float(up - down) / (2 * eps)  # central difference
            assert math.isclose(slope, float(g[f"dL/d{name}"].view(-1)[index]), abs_tol=1e-8)


def test_output_gradient_is_prediction_minus_label(numbers):
    f, g = numbers["forward"], numbers["backward"]
    assert torch.allclose(
        g["dL/dz2"], f["y_hat"] - torch.tensor(bp.EXAMPLE["y"], dtype=torch.float64)
    )
    assert float(g["dL/dz2"]) < 0  # ŷ < y = 1: raising z2 lowers the loss


def test_hidden_layer_receives_less_gradient_than_the_output(numbers):
    g = numbers["backward"]
    assert g["dL/dz1"].abs().max() < g["dL/dz2"].abs().min() / 4  # slope <= 1/4, |w| < 1


def test_one_gradient_descent_step_lowers_the_loss(numbers):
    t = bp.example()
    g = oracle(t)
    stepped = {
        name: t[name] - numbers["learning_rate"] * g[f"dL/d{name}"] for name in bp.PARAMETERS
    }
    loss = F.binary_cross_entropy_with_logits(
        torch.sigmoid(t["x"] @ stepped["W1"] + stepped["b1"]) @ stepped["W2"] + stepped["b2"],
        t["y"],
    )
    assert math.isclose(numbers["loss_after_step"], float(loss), abs_tol=1e-12)
    assert numbers["loss_after_step"] < float(numbers["forward"]["loss"]) - 0.1
    drop = float(numbers["forward"]["loss"]) - numbers["loss_after_step"]
    assert 0.5 * numbers["predicted_drop"] < drop < numbers["predicted_drop"]


def test_gradient_vanishes_with_sigmoid_and_explodes_with_large_tanh_weights(numbers):
    deep = numbers["deep"]
    norms = deep["grad_norms"]
    assert len(norms) == 3 and all(len(n) == 10 for n in norms.values())
    exploding = norms["tanh, std 1"]
    assert all(a > b for a, b in itertools.pairwise(exploding))  # grows towards the input
    assert deep["first_over_last"]["tanh, std 1"] > 100
    assert deep["per_layer_factor"]["tanh, std 1"] > 1.5
    vanishing = norms["sigmoid, He"]
    assert all(a < b for a, b in itertools.pairwise(vanishing[1:]))  # shrinks towards the input
    assert deep["first_over_last"]["sigmoid, He"] < 1e-2
    assert deep["per_layer_factor"]["sigmoid, He"] < 0.5
    assert 0.8 < deep["per_layer_factor"]["tanh, Xavier"] < 1.25  # careful init: level


def test_clipping_caps_the_total_norm_and_keeps_the_direction(numbers):
    clip, exploding = numbers["deep"]["clip"], numbers["deep"]["grad_norms"]["tanh, std 1"]
    assert clip["total_norm_before"] > 100 * clip["max_norm"]
    assert math.isclose(clip["total_norm_after"], clip["max_norm"], rel_tol=1e-4)
    scale = clip["max_norm"] / clip["total_norm_before"]
    for before, after in zip(exploding, clip["grad_norms_after"], strict=True):
        assert math.isclose(after, before * scale, rel_tol=1e-3)  # one factor for every layer
    assert clip["first_layer_step_over_weights"] > 0.1
    assert clip["first_layer_step_over_weights_clipped"] < 1e-2


def test_clipping_matches_torchs_total_norm():
    images, labels = unstable_gradients.digit_batch(0)
    model = unstable_gradients.deep_network("tanh, std 1", 0)
    F.cross_entropy(model(images), labels).backward()
    total = torch.linalg.vector_norm(torch.cat([p.grad.flatten() for p in model.parameters()]))
    clip = unstable_gradients.clipped_gradients(
        unstable_gradients.deep_network("tanh, std 1", 0), images, labels
    )
    assert math.isclose(clip["total_norm_before"], float(total), rel_tol=1e-5)


def test_story_prints_every_intermediate_value_in_tables(result):
    tables = [p for p in result.story if "\n" in p]
    assert len(tables) == 3
    assert all(len(line) <= 99 for table in tables for line in table.split("\n"))
    backward = tables[2]
    for symbol in ("∂L/∂ŷ", "∂L/∂z2", "∂L/∂W2", "∂L/∂b2", "∂L/∂a1", "∂L/∂z1", "∂L/∂W1", "∂L/∂b1"):
        assert symbol in backward
    assert f"{float(result.numbers['backward']['dL/dz2']):+.4f}" in backward
    assert all(f.name in " ".join(result.story) for f in result.figures)
    assert [f.name for f in result.figures] == ["network.png", "unstable_gradients.png"]
