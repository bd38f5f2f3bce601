"""Optimizers: weight decay shrinks weight matrices and filters, never biases or norm layers."""

from __future__ import annotations

import pytest
import torch

from dnnexplorer.models.registry import create_model
from dnnexplorer.train.config import TrainConfig
from dnnexplorer.train.optim import make_optimizer, parameter_groups


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
