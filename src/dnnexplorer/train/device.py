"""Where a run trains, and in which arithmetic: the device, bf16 autocast, waiting for a GPU.

`--device auto` takes a CUDA GPU, then Apple's MPS, then the CPU. On a GPU, `--precision auto`
runs the forward pass in bf16 (autocast) where the GPU supports it natively; the weights stay
fp32. GPUs work asynchronously to Python, so timing their work means waiting for it first.
"""

from __future__ import annotations

import contextlib

import torch

from dnnexplorer.errors import ConfigError
from dnnexplorer.train.distributed import SINGLE, World

DEVICES = ("auto", "cpu", "cuda", "mps")  # the names choose_device takes
PRECISIONS = ("auto", "fp32", "bf16")  # the names resolve_precision takes


def choose_device(name: str, world: World = SINGLE) -> torch.device:
    """'auto' picks cuda, then mps, then cpu; asking for a device that is absent is an error.

    With several processes on one node, process LOCAL_RANK takes GPU number LOCAL_RANK.
    """
    if name in ("auto", "cuda") and torch.cuda.is_available():
        device = torch.device("cuda", world.local_rank if world.distributed else 0)
        torch.cuda.set_device(device)
        return device
    if name == "auto":
        if getattr(torch.backends, "mps", None) and torch.backends.mps.is_available():
            return torch.device("mps")
        return torch.device("cpu")
    if name == "cuda" and not torch.cuda.is_available():
        raise ConfigError("--device cuda: no CUDA GPU is available here (try --device auto)")
    if name == "mps" and not torch.backends.mps.is_available():
        raise ConfigError("--device mps: Apple's MPS backend is not available here")
    return torch.device(name)


def resolve_precision(precision: str, device: torch.device) -> str:
    """The arithmetic a run's forward passes use on `device`: "bf16" or "fp32".

    auto: bf16 autocast on CUDA GPUs that support it (Ampere and newer), fp32 everywhere else:
    on CPUs bf16 is only faster with AMX units (1.25-1.45x for our CNNs on a Xeon with AMX),
    and much slower without them. bf16 asked for by name is used on any device; a GPU without
    bf16 support is an error.
    """
    if precision == "fp32":
        return "fp32"
    # Native bf16 only: older GPUs (a V100) emulate it, slower than fp32.
    gpu_bf16 = device.type == "cuda" and torch.cuda.is_bf16_supported(including_emulation=False)
    if precision == "auto":
        return "bf16" if gpu_bf16 else "fp32"
    if device.type == "cuda" and not gpu_bf16:
        name = torch.cuda.get_device_name(device)
        raise ConfigError(f"--precision bf16: {name} does not support bf16; use fp32")
    return "bf16"


def autocast(precision: str, device: torch.device) -> contextlib.AbstractContextManager:
    """Run the forward pass in bf16 where `precision` (resolved) says so.

    Autocast runs matrix products and convolutions in bf16 and keeps sums (losses, norms) in
    fp32; the weights and their gradients stay fp32, so no loss scaling is needed.
    """
    if precision == "bf16":
        return torch.autocast(device.type, dtype=torch.bfloat16)
    return contextlib.nullcontext()


def wait_for(device: torch.device) -> None:
    """Block until `device` has finished its queued work (GPUs run asynchronously to Python)."""
    if device.type == "cuda":
        torch.cuda.synchronize(device)
