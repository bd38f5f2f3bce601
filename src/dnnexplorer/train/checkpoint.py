"""Checkpoints and weights as safetensors: tensors plus JSON metadata, never pickle.

A checkpoint holds the model's weights, the optimizer's state (e.g. Adam's moment estimates),
the learning-rate schedule's position and the metrics history: all that `--resume` needs.
Loading a safetensors file cannot run code, unlike unpickling a `torch.save` file.
Both files are written to a temporary file and renamed, so a crash mid-write leaves the
previous checkpoint intact and loadable.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import torch
from safetensors import safe_open
from safetensors.torch import load_file, save_file
from torch import nn

from dnnexplorer.errors import RunError
from dnnexplorer.fileio import atomic_path
from dnnexplorer.train.loop import EpochMetrics, TrainingState

FORMAT = "dnnexplorer-checkpoint-1"


def save_weights(model: nn.Module, path: Path) -> None:
    """Write the model's weights (state dict) to `path` as safetensors."""
    tensors = {k: v.detach().contiguous().cpu() for k, v in model.state_dict().items()}
    with atomic_path(path) as tmp:
        save_file(tensors, str(tmp), metadata={"format": "dnnexplorer-weights-1"})


def load_weights(model: nn.Module, path: Path) -> None:
    """Load weights saved by `save_weights` into `model` (shapes must match)."""
    try:
        tensors = load_file(str(path))
        model.load_state_dict(tensors)
    except FileNotFoundError:
        raise RunError(f"{path}: weights file not found") from None
    except Exception as e:  # safetensors raises its own error types for damaged headers
        raise RunError(f"{path}: cannot load weights ({type(e).__name__}: {e})") from None


def save_checkpoint(state: TrainingState, path: Path) -> None:
    """Write model + optimizer + schedule + history to `path` atomically."""
    tensors: dict[str, torch.Tensor] = {
        f"model/{k}": v.detach().contiguous().cpu() for k, v in state.model.state_dict().items()
    }
    optim = state.optimizer.state_dict()
    scalars: dict[str, dict[str, Any]] = {}
    for param_id, param_state in optim["state"].items():
        for key, value in param_state.items():
            if isinstance(value, torch.Tensor):
                tensors[f"optimizer/{param_id}/{key}"] = value.detach().contiguous().cpu()
            else:
                scalars.setdefault(str(param_id), {})[key] = value
    meta = {
        "format": FORMAT,
        "epoch": state.epoch,
        "history": [m.to_dict() for m in state.history],
        "param_groups": optim["param_groups"],
        "optimizer_scalars": scalars,
        "scheduler": state.scheduler.state_dict() if state.scheduler is not None else None,
    }
    with atomic_path(path) as tmp:
        save_file(tensors, str(tmp), metadata={"dnnexplorer": json.dumps(meta)})


def _match_parameter_layouts(optimizer: torch.optim.Optimizer) -> None:
    """Give each per-parameter state tensor (e.g. Adam's moments) its parameter's memory layout.

    Saved tensors come back contiguous, while a convolution's weight may be channels-last; a
    fused optimizer step walks parameter and state memory side by side, so they must match.
    """
    for param, param_state in optimizer.state.items():
        for key, value in param_state.items():
            if isinstance(value, torch.Tensor) and value.shape == param.shape:
                param_state[key] = torch.empty_like(param).copy_(value)


def load_checkpoint(state: TrainingState, path: Path) -> None:
    """Restore `state` (built fresh from the run's config) from the checkpoint at `path`."""
    try:
        with safe_open(str(path), framework="pt") as f:
            meta = json.loads((f.metadata() or {})["dnnexplorer"])
        tensors = load_file(str(path))
    except FileNotFoundError:
        raise RunError(f"{path}: no checkpoint (the run never finished an epoch)") from None
    except Exception as e:
        raise RunError(f"{path}: damaged checkpoint ({type(e).__name__}: {e})") from None
    if meta.get("format") != FORMAT:
        raise RunError(f"{path}: not a dnnexplorer checkpoint")

    model_state = {k[len("model/") :]: v for k, v in tensors.items() if k.startswith("model/")}
    state.model.load_state_dict(model_state)
    optim_state: dict[int, dict[str, Any]] = {}
    for key, value in tensors.items():
        if key.startswith("optimizer/"):
            _, param_id, name = key.split("/", 2)
            optim_state.setdefault(int(param_id), {})[name] = value
    for param_id, values in meta["optimizer_scalars"].items():
        optim_state.setdefault(int(param_id), {}).update(values)
    state.optimizer.load_state_dict({"state": optim_state, "param_groups": meta["param_groups"]})
    _match_parameter_layouts(state.optimizer)
    if state.scheduler is not None and meta["scheduler"] is not None:
        state.scheduler.load_state_dict(meta["scheduler"])
    state.epoch = int(meta["epoch"])
    state.history = [EpochMetrics(**m) for m in meta["history"]]
