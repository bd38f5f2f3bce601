"""Data-parallel training on many processes with PyTorch's own engine (DDP).

`torchrun --nproc-per-node N -m dnnexplorer train ...` starts N copies of the same command and
tells each its RANK, LOCAL_RANK and WORLD_SIZE through environment variables. Every process
holds a full copy of the model and the whole (tensor-resident) dataset; each epoch they all draw
the same permutation, and process r takes its own disjoint share r, r+N, r+2N, ... of every
global mini-batch. DistributedDataParallel averages the gradients across processes during
`backward()`, so each step is the step a single process would take on the global batch.

Backends: gloo on CPUs, nccl on CUDA GPUs. Only rank 0 prints, evaluates and writes the run
folder; the others follow its decisions (stop early or not) through a broadcast.
"""

from __future__ import annotations

import os
from dataclasses import dataclass

import torch
import torch.distributed as dist
from torch import nn


@dataclass(frozen=True)
class World:
    """Where this process stands among the processes of a data-parallel run."""

    rank: int = 0
    size: int = 1
    local_rank: int = 0

    @property
    def is_main(self) -> bool:
        return self.rank == 0

    @property
    def distributed(self) -> bool:
        return self.size > 1


SINGLE = World()


def world_from_env(env: dict[str, str] | None = None) -> World:
    """The World that torchrun (or srun + torchrun) describes in RANK/WORLD_SIZE/LOCAL_RANK."""
    env = os.environ if env is None else env
    size = int(env.get("WORLD_SIZE", "1"))
    if size <= 1:
        return SINGLE
    return World(rank=int(env["RANK"]), size=size, local_rank=int(env.get("LOCAL_RANK", "0")))


def init_process_group(world: World, device: torch.device) -> None:
    """Join the process group (gloo on CPU, nccl on CUDA); a no-op for a single process."""
    if not world.distributed or dist.is_initialized():
        return
    backend = "nccl" if device.type == "cuda" else "gloo"
    dist.init_process_group(backend=backend, rank=world.rank, world_size=world.size)


def shutdown() -> None:
    """Leave the process group once every process is done with it (then each can exit)."""
    if dist.is_initialized():
        dist.barrier()  # rank 0 may still be writing the summary: nobody hangs up before it ends
        dist.destroy_process_group()


def wrap_model(model: nn.Module, world: World, device: torch.device) -> nn.Module:
    """The model that computes the forward/backward pass: DDP-wrapped when distributed."""
    if not world.distributed:
        return model
    device_ids = [device.index] if device.type == "cuda" else None
    return nn.parallel.DistributedDataParallel(model, device_ids=device_ids)


def sum_across(values: list[float], world: World, device: torch.device) -> list[float]:
    """Sum numbers (losses, counts) over all processes; every process gets the totals."""
    if not world.distributed:
        return values
    t = torch.tensor(values, dtype=torch.float64, device=device)
    dist.all_reduce(t, op=dist.ReduceOp.SUM)
    return t.tolist()


def broadcast_flag(flag: bool, world: World, device: torch.device) -> bool:
    """Rank 0's decision (e.g. 'stop now'), given to every process."""
    if not world.distributed:
        return flag
    t = torch.tensor([1 if flag else 0], device=device)
    dist.broadcast(t, src=0)
    return bool(t.item())
