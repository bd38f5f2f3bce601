"""Tensor-resident mini-batches: the whole dataset is one uint8 tensor, a batch is an index slice.

Instead of a per-sample `Dataset.__getitem__` and DataLoader workers (Python work for every
example), each epoch draws one random permutation of the example indices and cuts it into
mini-batches. Converting a batch to float and normalizing it is one bulk tensor operation.

Batch size means what the workshop teaches: 1 is stochastic gradient descent (one example per
update), the full training set is batch gradient descent, anything between is mini-batch.
"""

from __future__ import annotations

from collections.abc import Iterator

import torch

from dnnexplorer.errors import ConfigError


def normalize(images: torch.Tensor, mean: float, std: float) -> torch.Tensor:
    """uint8 (N, H, W) in 0..255 -> float32 (N, 1, H, W), standardized: (x/255 - mean) / std."""
    x = images.to(torch.float32).unsqueeze(1)  # (N, H, W) -> (N, 1, H, W)
    return x.mul_(1.0 / (255.0 * std)).sub_(mean / std)


def check_val_size(val_size: int, n_train: int) -> None:
    """ConfigError unless `val_size` examples can be carved from `n_train`, leaving some."""
    if not 0 <= val_size < n_train:
        raise ConfigError(f"--val-size must be between 0 and {n_train - 1}, got {val_size}")


def split_validation(
    images: torch.Tensor, labels: torch.Tensor, val_size: int, seed: int = 0
) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor, torch.Tensor]:
    """Carve `val_size` examples out of the training set, the same ones for a given seed.

    Returns (train_images, train_labels, val_images, val_labels).
    """
    n = len(labels)
    check_val_size(val_size, n)
    order = torch.randperm(n, generator=torch.Generator().manual_seed(seed))
    val_idx, train_idx = order[:val_size], order[val_size:]
    return images[train_idx], labels[train_idx], images[val_idx], labels[val_idx]


def minibatch_indices(
    n: int, batch_size: int, generator: torch.Generator, device: torch.device | str = "cpu"
) -> Iterator[torch.Tensor]:
    """Yield index tensors covering a fresh random permutation of range(n), batch_size at a time.

    The last batch may be smaller: every example is seen exactly once per epoch.
    """
    order = torch.randperm(n, generator=generator).to(device)
    yield from order.split(batch_size)


def shard_indices(indices: torch.Tensor, rank: int, world_size: int) -> torch.Tensor:
    """The share of a global mini-batch that process `rank` of `world_size` computes."""
    return indices[rank::world_size]
