"""The arithmetic floor: how fast training could be if the CPU did nothing but multiply-adds.

A forward pass costs 2 FLOPs (one multiply, one add) per multiply-accumulate (MAC) of its Linear
and Conv2d layers; the backward pass costs about twice the forward (one product for the gradient
of the layer's input, one for the gradient of its weights), so training one example costs about
3 x 2 x MACs. Dividing an epoch's FLOPs by the throughput this CPU reaches on a large float32
matrix product gives a lower bound on the epoch's time: activations, pooling, normalization, the
optimizer and Python are all left out, so a real epoch is always slower. How much slower is the
question the benchmark answers.
"""

from __future__ import annotations

import copy
import statistics
import time
from dataclasses import dataclass

import torch
from torch import nn

from dnnexplorer.train.device import wait_for

FORWARD_FLOPS_PER_MAC = 2  # one multiply + one add
TRAINING_PASSES = 3  # forward + backward (gradients of inputs and of weights: about 2x forward)
MATMUL_SIZE = 1024


def count_macs(model: nn.Module, input_shape: tuple[int, ...] = (2, 1, 28, 28)) -> int:
    """Multiply-accumulates of one training forward pass per example, over Linear and Conv2d.

    Counted with forward hooks on a real batch, so it follows whatever shape each layer sees.
    The pass runs in training mode, on a copy (its batch norm statistics stay untouched): in
    evaluation a model may answer from several views of each image (`best`'s `tta`), work that
    training never does.
    """
    macs = 0

    def count(module: nn.Module, inputs: tuple[torch.Tensor, ...], output: torch.Tensor) -> None:
        nonlocal macs
        if isinstance(module, nn.Linear):
            macs += output.numel() * module.in_features  # each output: in_features MACs
        elif isinstance(module, nn.Conv2d):
            kh, kw = module.kernel_size
            fan_in = module.in_channels // module.groups * kh * kw
            macs += output.numel() * fan_in  # each output pixel of each map: one filter

    training = copy.deepcopy(model).train()
    for layer in training.modules():
        if isinstance(layer, nn.Linear | nn.Conv2d):
            layer.register_forward_hook(count)
    with torch.no_grad():
        training(torch.zeros(input_shape))
    return macs // input_shape[0]


def training_flops_per_example(model: nn.Module) -> int:
    """About 3 x 2 x MACs: forward, then a backward twice as costly."""
    return TRAINING_PASSES * FORWARD_FLOPS_PER_MAC * count_macs(model)


def matmul_flops_per_second(
    seconds: float = 1.0,
    size: int = MATMUL_SIZE,
    threads: int | None = None,
    device: torch.device | str = "cpu",
    dtype: torch.dtype = torch.float32,
) -> float:
    """The median FLOP/s of a `size` x `size` torch.mm on `device` in `dtype`, for ~`seconds`.

    `threads` sets torch's CPU thread count while measuring (None: leave it as it is). On a GPU
    each product is timed to its end (GPUs run asynchronously to Python).
    """
    device = torch.device(device)
    previous = torch.get_num_threads()
    if threads is not None:
        torch.set_num_threads(threads)
    try:
        a = torch.randn(size, size, device=device, dtype=dtype)
        b = torch.randn(size, size, device=device, dtype=dtype)
        for _ in range(3):
            torch.mm(a, b)  # warm up: page in the buffers, let the library pick its kernels
        wait_for(device)
        times: list[float] = []
        deadline = time.perf_counter() + seconds
        while time.perf_counter() < deadline or len(times) < 5:
            start = time.perf_counter()
            torch.mm(a, b)
            wait_for(device)
            times.append(time.perf_counter() - start)
    finally:
        torch.set_num_threads(previous)
    return 2 * size**3 / statistics.median(times)


@dataclass(frozen=True)
class Floor:
    """Seconds a run would take at the matmul throughput, against the seconds it took."""

    flops_per_example: int
    examples_per_epoch: int
    epochs: float
    flops_per_second: float

    @property
    def flops_per_epoch(self) -> float:
        return self.flops_per_example * self.examples_per_epoch

    @property
    def seconds(self) -> float:
        return self.epochs * self.flops_per_epoch / self.flops_per_second

    def to_dict(self, actual_seconds: float | None) -> dict[str, float | None]:
        """The floor for the JSON report, with actual/floor when the actual time is known."""
        return {
            "train_flops_per_example": self.flops_per_example,
            "train_gflops_per_epoch": round(self.flops_per_epoch / 1e9, 3),
            "floor_seconds": round(self.seconds, 4),
            "actual_over_floor": (
                round(actual_seconds / self.seconds, 2)
                if actual_seconds is not None and self.seconds > 0
                else None
            ),
        }
