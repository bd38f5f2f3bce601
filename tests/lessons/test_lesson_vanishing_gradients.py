"""The vanishing-gradients lesson: a 10-layer MLP, sigmoid vs ReLU, gradient norm per layer.

Offline runs (seven-segment digits) always; the MNIST run needs the real data (DNNX_DATA).
"""

from __future__ import annotations

import pytest

from dnnexplorer.lessons import LessonConfig, run_lesson, vanishing_gradients


@pytest.fixture(scope="module")
def vanishing(lesson_run):
    return lesson_run("vanishing-gradients")[0].numbers


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
