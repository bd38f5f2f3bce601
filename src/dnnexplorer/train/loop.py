"""The training loop: forward, cross-entropy loss, zero_grad, backward, step — once per mini-batch.

This is the one loop the CLI, the web lab, the lessons and the benchmarks all use. It reports
progress through callbacks (a progress bar, a checkpoint writer, a web stream are listeners),
so the loop itself stays a plain PyTorch loop you can compare with the workshop's slides.

Reproducibility: each epoch's randomness (the permutation, dropout, augmentation) is seeded from
(seed, epoch) alone, so a run resumed after epoch k replays epochs k+1.. exactly.
"""

from __future__ import annotations

import contextlib
import dataclasses
import math
import time
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

import torch
import torch.nn.functional as F
from torch import nn

from dnnexplorer.data.batches import minibatch_indices, normalize, shard_indices
from dnnexplorer.data.registry import Augmentation
from dnnexplorer.errors import TrainingDiverged
from dnnexplorer.train.augment import random_shift_rotate
from dnnexplorer.train.config import TrainConfig
from dnnexplorer.train.device import autocast, wait_for
from dnnexplorer.train.distributed import SINGLE, World, broadcast_flag, sum_across, wrap_model

# Larger steps (full-batch gradient descent) are computed in chunks whose gradients add up to
# the gradient of the whole batch, so memory stays bounded whatever the batch size.
MAX_CHUNK = 8192
# Evaluation batches: large enough to amortize Python overhead, small enough to stay in a CPU's
# cache (512 was 2.4x faster than 4096 on a 2-core CPU); GPUs prefer bigger ones.
EVAL_BATCH = {"cpu": 512}
EVAL_BATCH_DEFAULT = 4096


@dataclass
class TrainData:
    """The tensors a run trains and evaluates on, resident on the training device (uint8)."""

    train_images: torch.Tensor  # (N, 28, 28) uint8
    train_labels: torch.Tensor  # (N,) int64
    test_images: torch.Tensor
    test_labels: torch.Tensor
    mean: float
    std: float
    val_images: torch.Tensor | None = None
    val_labels: torch.Tensor | None = None
    augmentation: Augmentation = field(default_factory=Augmentation)  # what keeps its classes


@dataclass
class EpochMetrics:
    """One line of metrics.jsonl."""

    epoch: int
    train_loss: float
    train_accuracy: float
    test_loss: float | None  # None with a validation split: the test set waits for the end
    test_accuracy: float | None
    seconds: float  # training time of this epoch (evaluation excluded)
    examples_per_second: float
    lr: float
    val_loss: float | None = None
    val_accuracy: float | None = None

    def to_dict(self) -> dict[str, Any]:
        return {k: v for k, v in dataclasses.asdict(self).items() if v is not None}

    @classmethod
    def from_dict(cls, values: dict[str, Any]) -> EpochMetrics:
        """The inverse of `to_dict` (which leaves out the test figures of a validated run)."""
        return cls(**{"test_loss": None, "test_accuracy": None, **values})


@dataclass
class TrainingState:
    """What a checkpoint holds: the model, the optimizer and its schedule, and the history."""

    model: nn.Module
    optimizer: torch.optim.Optimizer
    scheduler: torch.optim.lr_scheduler.LRScheduler | None
    epoch: int = 0  # epochs completed
    history: list[EpochMetrics] = field(default_factory=list)
    stop_requested: bool = False  # set by a listener (a Stop button) to end after this step
    # With a validation split: the weights of the epoch with the best validation accuracy so
    # far, the model the run keeps (model.safetensors) and tests once at the end.
    best: dict[str, torch.Tensor] | None = None
    # The CPU threads it trains with: a resumed run keeps them, since the last bits of a
    # convolution's sums depend on how many threads share them (see train/threads.py).
    threads: int | None = None

    def kept_weights(self) -> dict[str, torch.Tensor]:
        """The weights the run keeps: the best validation epoch's, else the latest."""
        return self.best if self.best is not None else self.model.state_dict()


class Callback:
    """A listener to the loop; override what you need. Must not change the training math."""

    def on_train_start(self, state: TrainingState) -> None: ...

    def on_epoch_start(self, epoch: int, num_steps: int) -> None: ...

    def on_step_end(self, epoch: int, step: int, loss: float, correct: int, size: int) -> None: ...

    def on_epoch_end(self, state: TrainingState, metrics: EpochMetrics) -> None: ...


@dataclass
class Evaluation:
    loss: float
    accuracy: float
    predictions: torch.Tensor  # (N,) predicted class per example
    probabilities: torch.Tensor | None = None  # (N, C), when asked for


def epoch_generator(seed: int, epoch: int) -> torch.Generator:
    """Seed torch (dropout) and return the generator for this epoch's permutation/augmentation."""
    epoch_seed = seed * 1_000_003 + epoch
    torch.manual_seed(epoch_seed)
    return torch.Generator().manual_seed(epoch_seed)


@torch.inference_mode()
def evaluate(
    model: nn.Module,
    images: torch.Tensor,
    labels: torch.Tensor,
    mean: float,
    std: float,
    keep_probabilities: bool = False,
) -> Evaluation:
    """Mean cross-entropy and accuracy over a whole split, in large batches, without gradients.

    Always in fp32, even for runs trained in bf16: the accuracy reported is the fp32 weights'.
    """
    was_training = model.training
    model.eval()
    total_loss, predictions, probabilities = 0.0, [], []
    batch = EVAL_BATCH.get(labels.device.type, EVAL_BATCH_DEFAULT)
    for part in torch.arange(len(labels), device=labels.device).split(batch):
        logits = model(normalize(images.index_select(0, part), mean, std)).float()  # (B, C)
        total_loss += F.cross_entropy(logits, labels[part], reduction="sum").item()
        predictions.append(logits.argmax(dim=1))
        if keep_probabilities:
            probabilities.append(logits.softmax(dim=1))
    model.train(was_training)
    predicted = torch.cat(predictions)
    n = max(len(labels), 1)
    return Evaluation(
        loss=total_loss / n,
        accuracy=(predicted == labels).sum().item() / n,
        predictions=predicted,
        probabilities=torch.cat(probabilities) if keep_probabilities else None,
    )


def train_one_epoch(
    state: TrainingState,
    data: TrainData,
    config: TrainConfig,
    epoch: int,
    callbacks: Sequence[Callback] = (),
    net: nn.Module | None = None,
    world: World = SINGLE,
) -> tuple[float, float, int]:
    """One pass over the training set. Returns (mean loss, accuracy, examples seen).

    `net` computes forward/backward (the DDP wrapper of state.model when distributed); each
    process then takes its own share of every mini-batch. `config` is resolved, its precision
    too: "fp32" or "bf16" for this device (session.py resolves it, once per run).
    """
    model, optimizer = state.model, state.optimizer
    net = net if net is not None else model
    device = data.train_labels.device
    n = len(data.train_labels)
    batch_size = config.examples_per_step(n)
    generator = epoch_generator(config.seed, epoch)
    batches = list(minibatch_indices(n, batch_size, generator, device))
    for cb in callbacks:
        cb.on_epoch_start(epoch, len(batches))

    model.train()
    total_loss, total_correct, seen = 0.0, 0, 0
    for step, global_batch in enumerate(batches, start=1):
        batch = shard_indices(global_batch, world.rank, world.size)
        optimizer.zero_grad(set_to_none=True)
        batch_loss, batch_correct = 0.0, 0
        parts = batch.split(MAX_CHUNK)
        for i, part in enumerate(parts):
            # index_select: the same rows as train_images[part], without fancy-indexing overhead
            x = normalize(data.train_images.index_select(0, part), data.mean, data.std)
            if config.augment:
                change = data.augmentation
                x = random_shift_rotate(
                    x, generator, change.max_shift, change.max_degrees, change.mirror
                )
            y = data.train_labels.index_select(0, part)  # (B,)
            last_part = i == len(parts) - 1
            # DDP averages gradients across processes once, after the batch's last chunk.
            sync = contextlib.nullcontext() if last_part or not world.distributed else net.no_sync()
            with sync:
                with autocast(config.precision, device):  # resolved: fp32 or bf16
                    logits = net(x)  # (B, C)
                loss = F.cross_entropy(logits.float(), y, label_smoothing=config.label_smoothing)
                # Weight each chunk by its share: the chunks' gradients sum to the batch mean.
                (loss * (len(part) / len(batch))).backward()
            batch_loss += loss.item() * len(part)
            batch_correct += (logits.argmax(dim=1) == y).sum().item()
        if not math.isfinite(batch_loss):
            raise TrainingDiverged(
                f"loss diverged at epoch {epoch} step {step}; try a smaller --lr "
                f"(now {config.lr}); the last good checkpoint is kept"
            )
        optimizer.step()
        if state.scheduler is not None:
            state.scheduler.step()
        total_loss += batch_loss
        total_correct += batch_correct
        seen += len(batch)
        for cb in callbacks:
            cb.on_step_end(epoch, step, batch_loss / len(batch), batch_correct, len(batch))
        if state.stop_requested:
            break
    total_loss, total_correct, seen = sum_across([total_loss, total_correct, seen], world, device)
    return total_loss / max(seen, 1), total_correct / max(seen, 1), int(seen)


def reached_target(metrics: EpochMetrics, config: TrainConfig) -> bool:
    """Whether this epoch reached `--target-acc` (never, without one): its validation accuracy
    when the run holds out a validation split, else its test accuracy (the benchmarks' way)."""
    if config.target_acc is None:
        return False
    accuracy = metrics.val_accuracy if metrics.val_accuracy is not None else metrics.test_accuracy
    return accuracy is not None and accuracy >= config.target_acc


def selected_epoch(history: Sequence[EpochMetrics]) -> int | None:
    """The epoch with the best validation accuracy (the first, on a tie); None without one."""
    scored = [m for m in history if m.val_accuracy is not None]
    return max(scored, key=lambda m: (m.val_accuracy, -m.epoch)).epoch if scored else None


def fit(
    state: TrainingState,
    data: TrainData,
    config: TrainConfig,
    callbacks: Sequence[Callback] = (),
    world: World = SINGLE,
) -> list[EpochMetrics]:
    """Train from epoch `state.epoch + 1` to `config.epochs`, evaluating after every epoch.

    Without a validation split, every epoch is evaluated on the test set (the convention of
    the benchmarks and the workshop's slides). With one (`--val-size`), every epoch is evaluated
    on the validation split instead, the best epoch's weights are kept in `state.best`, and the
    test set is left alone until the run is over (see session.py): nothing is chosen by it.

    Stops early at the first epoch that reaches `config.target_acc` (see `reached_target`; a
    resumed run whose last saved epoch reached it trains no further), or when a listener sets
    `state.stop_requested`. Returns the whole history (earlier epochs included).
    When distributed, only rank 0 evaluates; every rank follows its decision to stop.
    """
    device = data.train_labels.device
    net = wrap_model(state.model, world, device)
    if config.compile:
        net = torch.compile(net)  # opt-in: compiling takes a while, then steps run faster
    for cb in callbacks:
        cb.on_train_start(state)
    if state.history and reached_target(state.history[-1], config):
        return state.history
    for epoch in range(state.epoch + 1, int(config.epochs) + 1):
        start = time.perf_counter()
        train_loss, train_acc, seen = train_one_epoch(
            state, data, config, epoch, callbacks, net, world
        )
        wait_for(device)  # the last optimizer step may still be running on a GPU
        seconds = time.perf_counter() - start
        if state.stop_requested:
            break  # an interrupted epoch is not recorded: resume replays it whole
        if not world.is_main:
            state.epoch = epoch
            if broadcast_flag(False, world, device):
                break
            continue
        val = test = None
        if data.val_images is not None and len(data.val_labels) > 0:
            val = evaluate(state.model, data.val_images, data.val_labels, data.mean, data.std)
        else:
            test = evaluate(state.model, data.test_images, data.test_labels, data.mean, data.std)
        metrics = EpochMetrics(
            epoch=epoch,
            train_loss=train_loss,
            train_accuracy=train_acc,
            test_loss=test.loss if test else None,
            test_accuracy=test.accuracy if test else None,
            seconds=seconds,
            examples_per_second=seen / max(seconds, 1e-9),
            lr=state.optimizer.param_groups[0]["lr"],
            val_loss=val.loss if val else None,
            val_accuracy=val.accuracy if val else None,
        )
        state.epoch = epoch
        state.history.append(metrics)
        if val is not None and selected_epoch(state.history) == epoch:  # a new best: keep it
            state.best = {k: v.detach().clone() for k, v in state.model.state_dict().items()}
        for cb in callbacks:
            cb.on_epoch_end(state, metrics)
        if broadcast_flag(reached_target(metrics, config), world, device):
            break
    return state.history
