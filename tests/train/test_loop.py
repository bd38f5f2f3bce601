"""The training loop: loss formulation, batch-size semantics, determinism, divergence."""

from __future__ import annotations

import pytest
import torch
import torch.nn.functional as F

from dnnexplorer.errors import ConfigError, TrainingDiverged
from dnnexplorer.train import Callback, TrainConfig, run_training
from dnnexplorer.train import loop as loop_module
from dnnexplorer.train.config import parse_batch_size


class StepCounter(Callback):
    def __init__(self) -> None:
        self.steps: dict[int, int] = {}
        self.sizes: list[int] = []

    def on_step_end(self, epoch: int, step: int, loss: float, correct: int, size: int) -> None:
        self.steps[epoch] = step
        self.sizes.append(size)


def config(**overrides) -> TrainConfig:
    base = dict(
        model="softmax",
        epochs=2,
        batch_size=64,
        lr=0.01,
        optimizer="adam",
        schedule="constant",
        device="cpu",
        seed=0,
    )
    base.update(overrides)
    return TrainConfig(**base)


def test_integer_label_cross_entropy_equals_one_hot_formulation() -> None:
    # The workshop writes cross-entropy with one-hot labels: -sum_i y_i log(softmax(z)_i).
    g = torch.Generator().manual_seed(0)
    logits = torch.randn(32, 10, generator=g)
    labels = torch.randint(0, 10, (32,), generator=g)
    one_hot = F.one_hot(labels, 10).float()
    by_hand = -(one_hot * logits.softmax(dim=1).log()).sum(dim=1).mean()
    assert torch.allclose(F.cross_entropy(logits, labels), by_hand, atol=1e-6)
    assert torch.allclose(F.cross_entropy(logits, one_hot), by_hand, atol=1e-6)


@pytest.mark.parametrize(("batch_size", "steps"), [(1, 512), (100, 6), ("full", 1)])
def test_batch_size_means_sgd_minibatch_or_full_batch(tiny_dataset, batch_size, steps) -> None:
    counter = StepCounter()
    run_training(
        config(epochs=1, batch_size=batch_size, optimizer="sgd"),
        dataset=tiny_dataset,
        callbacks=[counter],
    )
    assert counter.steps[1] == steps
    assert sum(counter.sizes) == 512  # every example once per epoch


def test_parse_batch_size() -> None:
    assert parse_batch_size("full") == "full"
    assert parse_batch_size("32") == 32
    for bad in ("0", "-3", "big"):
        with pytest.raises(ConfigError, match="--batch-size"):
            parse_batch_size(bad)


def test_full_batch_in_chunks_gives_the_same_step(tiny_dataset, monkeypatch) -> None:
    # Gradient descent on the whole set, computed in chunks, must equal the one-piece gradient.
    one_piece = run_training(
        config(epochs=1, batch_size="full", optimizer="sgd", lr=0.5), dataset=tiny_dataset
    ).model
    monkeypatch.setattr(loop_module, "MAX_CHUNK", 100)
    chunked = run_training(
        config(epochs=1, batch_size="full", optimizer="sgd", lr=0.5), dataset=tiny_dataset
    ).model
    for a, b in zip(one_piece.parameters(), chunked.parameters(), strict=True):
        assert torch.allclose(a, b, atol=1e-6)


def test_same_seed_same_metrics_and_weights(tiny_dataset) -> None:
    a = run_training(config(model="cnn", epochs=2), dataset=tiny_dataset)
    b = run_training(config(model="cnn", epochs=2), dataset=tiny_dataset)
    assert _same_numbers(a.history, b.history)
    for p, q in zip(a.model.parameters(), b.model.parameters(), strict=True):
        assert torch.equal(p, q)
    c = run_training(config(model="cnn", epochs=2, seed=1), dataset=tiny_dataset)
    assert not torch.equal(next(a.model.parameters()), next(c.model.parameters()))


def _same_numbers(h1: list[dict], h2: list[dict]) -> bool:
    timing = {"seconds", "examples_per_second"}
    return [{k: v for k, v in h.items() if k not in timing} for h in h1] == [
        {k: v for k, v in h.items() if k not in timing} for h in h2
    ]


def test_training_learns_and_target_acc_stops_early(tiny_dataset) -> None:
    result = run_training(config(epochs=20, target_acc=0.9), dataset=tiny_dataset)
    assert result.history[-1]["test_accuracy"] >= 0.9
    assert len(result.history) < 20
    assert result.summary["target_reached"] and result.summary["complete"]


def test_diverging_loss_stops_with_a_clear_message(tiny_dataset) -> None:
    with pytest.raises(TrainingDiverged, match=r"loss diverged at epoch 1 step \d+; try a smaller"):
        run_training(config(optimizer="sgd", lr=1e38, epochs=1), dataset=tiny_dataset)


def test_validation_split_is_reported(tiny_dataset) -> None:
    result = run_training(config(epochs=1, val_size=100), dataset=tiny_dataset)
    assert 0 <= result.history[0]["val_accuracy"] <= 1
    assert result.history[0]["examples_per_second"] > 0
