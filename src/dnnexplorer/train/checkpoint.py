"""Checkpoints and weights as safetensors: tensors plus JSON metadata, never pickle.

A checkpoint holds the model's weights, the optimizer's state (e.g. Adam's moment estimates),
the learning-rate schedule's position and the metrics history: all that `--resume` needs.
Loading a safetensors file cannot run code, unlike unpickling a `torch.save` file.
Both files are written to a temporary file and renamed, so a crash mid-write leaves the
previous checkpoint intact and loadable. Both carry a SHA-256 checksum of their tensors and
metadata, checked on load: a bit flipped on disk is an error, not a silently different model.
(Files written before the checksum existed load unchecked.)
"""

from __future__ import annotations

import hashlib
import json
from pathlib import Path
from typing import Any

import torch
from safetensors import safe_open
from safetensors.torch import save
from torch import nn

from dnnexplorer.errors import RunError
from dnnexplorer.fileio import write_bytes_atomic
from dnnexplorer.train.loop import EpochMetrics, TrainingState

FORMAT = "dnnexplorer-checkpoint-1"
CHECKSUM = "sha256"  # the metadata key holding the checksum


def checksum(tensors: dict[str, torch.Tensor], metadata: dict[str, str]) -> str:
    """SHA-256 of every tensor (name, dtype, shape, bytes) and of the other metadata."""
    h = hashlib.sha256()
    for key in sorted(k for k in metadata if k != CHECKSUM):
        h.update(json.dumps([key, metadata[key]]).encode())
    for name in sorted(tensors):
        t = tensors[name]
        h.update(json.dumps([name, str(t.dtype), list(t.shape)]).encode())
        h.update(t.detach().cpu().contiguous().reshape(-1).view(torch.uint8).numpy())
    return h.hexdigest()


def _write(tensors: dict[str, torch.Tensor], metadata: dict[str, str], path: Path) -> None:
    """Serialize to safetensors in memory, then write atomically (our temp file, our errors)."""
    metadata = {**metadata, CHECKSUM: checksum(tensors, metadata)}
    write_bytes_atomic(path, save(tensors, metadata=metadata))


def _read(path: Path, missing: str, damaged: str) -> tuple[dict[str, torch.Tensor], dict[str, str]]:
    """The tensors and metadata of `path`; a missing, damaged or altered file is a RunError."""
    try:
        with safe_open(str(path), framework="pt") as f:
            metadata = f.metadata() or {}
            tensors = {name: f.get_tensor(name) for name in f.keys()}  # noqa: SIM118 (no __iter__)
    except FileNotFoundError:
        raise RunError(f"{path}: {missing}") from None
    except Exception as e:  # safetensors raises its own error types for damaged headers
        raise RunError(f"{path}: {damaged} ({type(e).__name__}: {e})") from None
    if CHECKSUM in metadata and metadata[CHECKSUM] != checksum(tensors, metadata):
        changed = "its bytes no longer match the checksum written with them: changed on disk"
        raise RunError(f"{path}: {damaged} ({changed})")
    return tensors, metadata


def save_weights(weights: nn.Module | dict[str, torch.Tensor], path: Path) -> None:
    """Write a model's weights (its state dict, or a state dict) to `path` as safetensors."""
    state_dict = weights.state_dict() if isinstance(weights, nn.Module) else weights
    tensors = {k: v.detach().contiguous().cpu() for k, v in state_dict.items()}
    _write(tensors, {"format": "dnnexplorer-weights-1"}, path)


def load_weights(model: nn.Module, path: Path) -> None:
    """Load weights saved by `save_weights` into `model` (shapes must match)."""
    tensors, _ = _read(path, "weights file not found", "cannot load weights")
    try:
        model.load_state_dict(tensors)
    except RuntimeError as e:  # other names or shapes: weights of another model
        detail = " ".join(str(e).split())  # torch puts each mismatch on a line of its own
        raise RunError(f"{path}: cannot load weights ({type(e).__name__}: {detail})") from None


def save_checkpoint(state: TrainingState, path: Path) -> None:
    """Write model + optimizer + schedule + history to `path` atomically."""
    tensors: dict[str, torch.Tensor] = {
        f"model/{k}": v.detach().contiguous().cpu() for k, v in state.model.state_dict().items()
    }
    if state.best is not None:  # the best validation epoch's weights (see loop.TrainingState)
        tensors.update({f"best/{k}": v.detach().contiguous().cpu() for k, v in state.best.items()})
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
        "threads": state.threads,
    }
    _write(tensors, {"dnnexplorer": json.dumps(meta)}, path)


def _split_decay_groups(
    state: TrainingState, optim_state: dict[int, dict[str, Any]], old: dict[str, Any]
) -> tuple[dict[int, dict[str, Any]], list[dict[str, Any]]]:
    """A checkpoint from before weight decay spared biases (one parameter group, see
    optim.parameter_groups), resumed by today's optimizer (two groups: decayed, not decayed).

    The old group numbered the trained parameters in model order; the new groups number them
    group after group. Each parameter keeps its state (e.g. Adam's moments), and both groups
    keep the old group's settings (learning rate, betas, ...) with their own weight decay.
    """
    model_order = [id(p) for p in state.model.parameters() if p.requires_grad]
    new_groups = state.optimizer.param_groups
    new_id = {id(p): i for i, p in enumerate(p for g in new_groups for p in g["params"])}
    moved = {new_id[model_order[old_id]]: values for old_id, values in optim_state.items()}
    groups, first = [], 0
    for group in new_groups:
        ids = list(range(first, first + len(group["params"])))
        groups.append({**old, "weight_decay": group["weight_decay"], "params": ids})
        first += len(ids)
    return moved, groups


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
    missing = "no checkpoint (the run never finished an epoch)"
    tensors, metadata = _read(path, missing, "damaged checkpoint")
    try:
        meta = json.loads(metadata["dnnexplorer"])
    except (KeyError, json.JSONDecodeError):
        raise RunError(f"{path}: not a dnnexplorer checkpoint") from None
    if meta.get("format") != FORMAT:
        raise RunError(f"{path}: not a dnnexplorer checkpoint")

    model_state = {k[len("model/") :]: v for k, v in tensors.items() if k.startswith("model/")}
    try:
        state.model.load_state_dict(model_state)
    except RuntimeError:  # other names or shapes: torch's message lists every one of them
        raise RunError(
            f"{path}: holds weights for a different model than the run's config.json describes"
        ) from None
    optim_state: dict[int, dict[str, Any]] = {}
    for key, value in tensors.items():
        if key.startswith("optimizer/"):
            _, param_id, name = key.split("/", 2)
            optim_state.setdefault(int(param_id), {})[name] = value
    for param_id, values in meta["optimizer_scalars"].items():
        optim_state.setdefault(int(param_id), {}).update(values)
    groups = meta["param_groups"]
    if len(groups) == 1 and len(state.optimizer.param_groups) == 2:
        optim_state, groups = _split_decay_groups(state, optim_state, groups[0])
    state.optimizer.load_state_dict({"state": optim_state, "param_groups": groups})
    _match_parameter_layouts(state.optimizer)
    if state.scheduler is not None and meta["scheduler"] is not None:
        state.scheduler.load_state_dict(meta["scheduler"])
    state.epoch = int(meta["epoch"])
    threads = meta.get("threads")  # None in checkpoints written before it was recorded
    state.threads = threads if isinstance(threads, int) and threads >= 1 else None
    state.history = [EpochMetrics.from_dict(m) for m in meta["history"]]
    best = {k[len("best/") :]: v for k, v in tensors.items() if k.startswith("best/")}
    state.best = best or None
