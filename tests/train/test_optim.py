"""Optimizers: weight decay shrinks weight matrices and filters, never biases or norm layers."""

from __future__ import annotations

import dataclasses

import pytest
import torch

from dnnexplorer.models.registry import create_model
from dnnexplorer.train.config import TrainConfig
from dnnexplorer.train.optim import make_optimizer, make_scheduler, parameter_groups


def test_groups_split_weights_from_biases_and_norm_layers() -> None:
    model = create_model("best")
    decayed, plain = parameter_groups(model, 1e-4)
    assert decayed["weight_decay"] == 1e-4 and plain["weight_decay"] == 0.0
    names = {id(p): n for n, p in model.named_parameters()}
    assert decayed["params"] and all(p.ndim >= 2 for p in decayed["params"])
    no_decay = {names[id(p)] for p in plain["params"]}
    norm_layers = [
        m for m in model.modules() if isinstance(m, torch.nn.modules.batchnorm._NormBase)
    ]
    assert norm_layers  # the best model normalizes its batches
    assert {id(p) for m in norm_layers for p in m.parameters()} <= {id(p) for p in plain["params"]}
    assert any(n.endswith("bias") for n in no_decay)
    assert len(decayed["params"]) + len(plain["params"]) == len(list(model.parameters()))
    assert len(parameter_groups(model, 0.0)) == 1  # no decay: one group, as before


@pytest.mark.parametrize("optimizer", ["sgd", "momentum", "adam"])
def test_a_step_with_decay_alone_shrinks_weights_but_not_biases(optimizer: str) -> None:
    """With a zero gradient only the decay moves parameters: weights shrink, biases stay."""
    torch.manual_seed(0)
    model = create_model("mlp", hidden=[8])
    config = TrainConfig(model="mlp", optimizer=optimizer, lr=0.1, weight_decay=0.5).resolved()
    opt = make_optimizer(model, config)
    before = {n: p.detach().clone() for n, p in model.named_parameters()}
    (0.0 * sum(p.sum() for p in model.parameters())).backward()
    opt.step()
    for name, p in model.named_parameters():
        if name.endswith("bias"):
            assert torch.equal(p, before[name]), name
        else:
            assert p.norm() < before[name].norm(), name


def test_a_checkpoint_from_before_the_split_resumes_with_its_moments(tmp_path) -> None:
    """Checkpoints written when every parameter was in one decayed group still resume: each
    parameter keeps its own Adam moments in the new two-group layout."""
    from dnnexplorer.train.checkpoint import load_checkpoint, save_checkpoint
    from dnnexplorer.train.loop import TrainingState

    config = TrainConfig(model="mlp", optimizer="adam", lr=0.01, weight_decay=0.1).resolved()
    torch.manual_seed(0)
    old_model = create_model("mlp", hidden=[8])
    old_optimizer = torch.optim.AdamW(old_model.parameters(), lr=0.01, weight_decay=0.1)
    old_model(torch.rand(4, 1, 28, 28)).sum().backward()
    old_optimizer.step()
    old = TrainingState(model=old_model, optimizer=old_optimizer, scheduler=None)
    save_checkpoint(old, tmp_path / "checkpoint.safetensors")

    model = create_model("mlp", hidden=[8])
    new = TrainingState(model=model, optimizer=make_optimizer(model, config), scheduler=None)
    load_checkpoint(new, tmp_path / "checkpoint.safetensors")
    assert [g["weight_decay"] for g in new.optimizer.param_groups] == [0.1, 0.0]
    for (name, p_old), p_new in zip(old_model.named_parameters(), model.parameters(), strict=True):
        assert torch.equal(p_old, p_new), name
        moments = old_optimizer.state[p_old]["exp_avg"], new.optimizer.state[p_new]["exp_avg"]
        assert torch.equal(*moments), name
    model(torch.rand(4, 1, 28, 28)).sum().backward()
    new.optimizer.step()  # and training goes on


def _steps_to_the_peak(optimizer_name: str, betas: tuple[float, float] | None = None):
    """An optimizer and its one-cycle schedule of 40 steps, stepped to the peak rate (9 steps:
    the warm-up is a quarter of them); the momentum it started with, and its settings there."""
    config = TrainConfig(
        model="softmax", optimizer=optimizer_name, schedule="onecycle", lr=0.1, epochs=1
    ).resolved()
    config = dataclasses.replace(config, betas=betas or config.betas)
    optimizer = make_optimizer(create_model("softmax"), config)
    scheduler = make_scheduler(optimizer, config, steps_per_epoch=40)
    group = optimizer.param_groups[0]
    start = group["betas"][0] if "betas" in group else group["momentum"]
    for _ in range(9):
        optimizer.step()
        scheduler.step()
    return group, start


def test_onecycle_moves_adams_beta1_against_the_rate_and_keeps_beta2() -> None:
    group, start = _steps_to_the_peak("adam", betas=(0.7, 0.9))
    assert group["lr"] == pytest.approx(0.1)
    assert start == pytest.approx(0.95) and group["betas"][0] == pytest.approx(0.85)
    assert group["betas"][1] == 0.9  # beta2 is the one asked for


def test_onecycle_gives_plain_gradient_descent_no_momentum() -> None:
    group, start = _steps_to_the_peak("sgd")
    assert start == 0 and group["momentum"] == 0  # w <- w - lr * dE/dw, all the way
    group, start = _steps_to_the_peak("momentum")
    assert start == pytest.approx(0.95) and group["momentum"] == pytest.approx(0.85)
