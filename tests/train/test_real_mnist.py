"""Integration: the recipes reach the workshop's quality bars on the real MNIST test set."""

from __future__ import annotations

import pytest

from dnnexplorer.data import load_dataset
from dnnexplorer.train import TrainConfig, run_training


@pytest.fixture(scope="module")
def mnist(data_root):
    return load_dataset("mnist", data_root)


def test_softmax_regression_reaches_92_percent(mnist) -> None:
    result = run_training(TrainConfig(model="softmax", device="cpu"), dataset=mnist)
    assert result.summary["test_accuracy"] >= 0.92


def test_lenet5_modern_reaches_99_percent(mnist) -> None:
    config = TrainConfig(
        model="lenet5", model_options={"variant": "modern"}, device="cpu", target_acc=0.99
    )
    result = run_training(config, dataset=mnist)
    assert result.summary["test_accuracy"] >= 0.99, result.history


def test_the_cnn_recipe_tuned_for_99_percent_needs_one_epoch(mnist) -> None:
    """`dnnx train --model cnn --target-acc 0.99`: the tuned one-epoch recipe, not 4 epochs."""
    config = TrainConfig(model="cnn", device="cpu", target_acc=0.99, epochs=10)
    result = run_training(config, dataset=mnist)
    assert result.summary["recipe"] == "tuned" and result.summary["epochs"] == 1
    assert result.summary["test_accuracy"] >= 0.99, result.history
