"""The vanishing-gradients lesson: a 10-layer MLP, sigmoid vs ReLU, gradient norm per layer.

Offline runs (seven-segment digits) always; the MNIST run needs the real data (DNNX_DATA).
"""

from __future__ import annotations

import pytest
import torch
import torch.nn.functional as F
from torch import nn

from dnnexplorer.lessons import LessonConfig, run_lesson, vanishing_gradients


@pytest.fixture(scope="module")
def vanishing(lesson_run):
    return lesson_run("vanishing-gradients")[0].numbers


@pytest.fixture(scope="module")
def result(lesson_run):
    return lesson_run("vanishing-gradients")[0]


def test_ten_layers_measured(vanishing):
    for r in vanishing["results"].values():
        assert len(r["grad_norms_init"]) == len(r["grad_norms_trained"]) == 10


def test_relu_first_layer_gets_more_gradient_than_sigmoid(vanishing):
    sig, relu = vanishing["results"]["sigmoid"], vanishing["results"]["relu"]
    assert relu["grad_norms_init"][0] > 10 * sig["grad_norms_init"][0]
    assert relu["grad_norms_trained"][0] > sig["grad_norms_trained"][0]


def test_sigmoid_gradient_vanishes_towards_the_input(vanishing):
    sig = vanishing["results"]["sigmoid"]["grad_norms_init"]
    assert sig[0] < sig[-1] / 100
    assert vanishing["results"]["sigmoid"]["first_over_last_init"] < 0.01


def test_relu_network_learns_sigmoid_network_barely(vanishing):
    sig, relu = vanishing["results"]["sigmoid"], vanishing["results"]["relu"]
    assert relu["test_accuracy"] > sig["test_accuracy"] + 0.2


def test_sigmoid_shrinks_the_gradient_by_each_layer_relu_keeps_it(vanishing):
    sig, relu = vanishing["results"]["sigmoid"], vanishing["results"]["relu"]
    norms = sig["grad_norms_init"]
    expected = (norms[1] / norms[-1]) ** (1 / 8)  # geometric mean over layers 10 -> 2
    assert sig["per_layer_factor_init"] == pytest.approx(expected)
    assert sig["per_layer_factor_init"] < 0.5  # below 1/2 per layer: the product vanishes
    assert 0.7 < relu["per_layer_factor_init"] < 1.4


def test_gradient_norms_match_autograd_on_a_fresh_network():
    images = torch.randn(8, 1, 28, 28, generator=torch.Generator().manual_seed(0))
    labels = torch.arange(8) % 10
    model = vanishing_gradients.deep_mlp("sigmoid", seed=0)
    norms = vanishing_gradients.layer_gradient_norms(model, images, labels)
    linears = [m for m in model.modules() if isinstance(m, nn.Linear)]
    loss = F.cross_entropy(model(images), labels)
    grads = torch.autograd.grad(loss, [m.weight for m in linears])
    assert norms == pytest.approx([float(g.norm()) for g in grads], rel=1e-5)


def test_story_explains_the_numbers(result):
    story = " ".join(result.story)
    assert len(result.story) >= 4 and "gradient_norms.png" in story
    sig = result.numbers["results"]["sigmoid"]
    assert f"{sig['first_over_last_init']:.1e}" in story
    assert f"{sig['test_accuracy']:.1%}" in story
    assert "(1/4)^9" in story  # the bound the chain rule gives
    tables = [p for p in result.story if "\n" in p]
    assert tables and all(len(line) <= 99 for t in tables for line in t.split("\n"))
    assert result.summary[0].startswith("Gradient norm per layer")  # the summary as before


def test_both_networks_start_from_the_same_weights():
    sig, relu = (vanishing_gradients.deep_mlp(a, seed=3) for a in ("sigmoid", "relu"))
    for p, q in zip(sig.parameters(), relu.parameters(), strict=True):
        assert p.shape == q.shape and bool((p == q).all())


@pytest.mark.real_data
def test_vanishing_gradients_on_mnist(data_root, tmp_path):
    config = LessonConfig(out_dir=tmp_path, data_dir=data_root)
    numbers = run_lesson("vanishing-gradients", config).numbers
    assert numbers["dataset"] == "mnist"
    sig, relu = numbers["results"]["sigmoid"], numbers["results"]["relu"]
    assert relu["grad_norms_init"][0] > sig["grad_norms_init"][0]
    assert relu["test_accuracy"] > 0.6
