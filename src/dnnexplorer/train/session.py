"""One training run from start to finish: data + model + optimizer -> fit -> run folder.

`run_training` is what `dnnx train`, the web lab, the lessons and the benchmarks call;
`resume_training` continues a run folder where a killed run stopped.
"""

from __future__ import annotations

import dataclasses
import json
import platform
import time
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import torch
from torch import nn

from dnnexplorer import __version__
from dnnexplorer.data import Dataset, get_dataset, load_dataset
from dnnexplorer.data.batches import check_val_size, normalize, split_validation
from dnnexplorer.data.locate import user_cache_root
from dnnexplorer.errors import RunError
from dnnexplorer.models import count_parameters, create_model
from dnnexplorer.train.checkpoint import load_checkpoint
from dnnexplorer.train.config import TrainConfig
from dnnexplorer.train.device import choose_device, resolve_precision
from dnnexplorer.train.distributed import SINGLE, World, init_process_group
from dnnexplorer.train.loop import (
    MAX_CHUNK,
    Callback,
    Evaluation,
    TrainData,
    TrainingState,
    evaluate,
    fit,
    reached_target,
    selected_epoch,
)
from dnnexplorer.train.optim import make_optimizer, make_scheduler
from dnnexplorer.train.runs import CheckpointWriter, ModelSpec, RunFolder
from dnnexplorer.train.tensorboard import TensorBoardWriter, check_tensorboard
from dnnexplorer.train.threads import (
    MEASURE_BATCH,
    ThreadChoice,
    available_cores,
    choose_threads,
    threads_from_environment,
)


@dataclass
class TrainingResult:
    model: nn.Module  # trained, on the CPU, in eval mode
    history: list[dict[str, Any]]  # one dict per epoch, as in metrics.jsonl
    summary: dict[str, Any]  # as in summary.json
    dataset: Dataset
    run_dir: Path | None = None


def prepare_data(dataset: Dataset, config: TrainConfig, device: torch.device) -> TrainData:
    """Move the uint8 dataset to the device once; carve the validation split if asked."""
    train_x, train_y = dataset.train_images, dataset.train_labels
    val_x = val_y = None
    if config.val_size:
        train_x, train_y, val_x, val_y = split_validation(train_x, train_y, config.val_size)
        val_x, val_y = val_x.to(device), val_y.to(device)
    return TrainData(
        train_images=train_x.to(device),
        train_labels=train_y.to(device),
        test_images=dataset.test_images.to(device),
        test_labels=dataset.test_labels.to(device),
        mean=dataset.mean,
        std=dataset.std,
        val_images=val_x,
        val_labels=val_y,
        augmentation=dataset.augmentation,
    )


def check_settings(
    config: TrainConfig, world: World = SINGLE, dataset: Dataset | None = None
) -> None:
    """ConfigError for a setting that would only fail once training starts: the device, its
    precision, the model's options, the validation split's size.

    Called before a run folder is made, so that a bad setting leaves nothing behind.
    """
    device = choose_device(config.device, world)
    resolve_precision(config.precision, device)
    classes = dataset.classes if dataset is not None else get_dataset(config.dataset).classes
    with torch.device("meta"):  # the model's layers and shapes, without memory for weights
        create_model(config.model, num_classes=len(classes), **config.model_options)
    if dataset is not None:
        check_val_size(config.val_size, len(dataset.train_labels))
    if config.tensorboard:
        check_tensorboard()


def _new_state(config: TrainConfig, num_classes: int, steps_per_epoch: int) -> TrainingState:
    torch.manual_seed(config.seed)  # the initial weights depend on the seed alone
    model = create_model(config.model, num_classes=num_classes, **config.model_options)
    optimizer = make_optimizer(model, config)
    scheduler = make_scheduler(optimizer, config, steps_per_epoch)
    return TrainingState(model=model, optimizer=optimizer, scheduler=scheduler)


def _has_convolutions(model: nn.Module) -> bool:
    return any(isinstance(m, nn.Conv2d) for m in model.modules())


def _steps_per_epoch(config: TrainConfig, n: int) -> int:
    return -(-n // config.examples_per_step(n))


def run_training(
    config: TrainConfig,
    data_dir: str | Path | None = None,
    out_dir: str | Path | None = None,
    callbacks: Sequence[Callback] = (),
    overwrite: bool = False,
    dataset: Dataset | None = None,
    world: World = SINGLE,
) -> TrainingResult:
    """Train `config` from scratch. With `out_dir`, write a run folder (checkpoint every epoch).

    `world` describes this process in a torchrun launch (see distributed.py); only rank 0
    creates and writes the run folder.
    """
    config = config.resolved()
    dataset = dataset if dataset is not None else load_dataset(config.dataset, data_dir)
    check_settings(config, world, dataset)
    if out_dir is None or not world.is_main:
        run = RunFolder(out_dir) if out_dir is not None else None
        return _train(config, run, callbacks, False, dataset, world)
    with RunFolder.create(out_dir, overwrite) as run:  # locked until training ends
        run.write_config(config)
        run.write_model_spec(ModelSpec.of(config, dataset))  # classes, mean, std: for its users
        return _train(config, run, callbacks, False, dataset, world)


def resume_training(
    run_dir: str | Path,
    data_dir: str | Path | None = None,
    callbacks: Sequence[Callback] = (),
    dataset: Dataset | None = None,
    world: World = SINGLE,
) -> TrainingResult:
    """Continue the run in `run_dir` from its last checkpoint, with its saved config."""
    with RunFolder.open(run_dir, write=world.is_main) as run:  # locked until training ends
        config = run.read_resumable_config()
        summary = run.read_summary()
        if summary is not None and summary.get("complete"):
            raise RunError(f"{run.path}: this run is already complete ({summary['epochs']} epochs)")
        dataset = dataset if dataset is not None else load_dataset(config.dataset, data_dir)
        check_settings(config, world, dataset)
        return _train(config, run, callbacks, True, dataset, world)


def _train(
    config: TrainConfig,
    run: RunFolder | None,
    callbacks: Sequence[Callback],
    resume: bool,
    dataset: Dataset,
    world: World,
) -> TrainingResult:
    wall_start = time.perf_counter()
    device = choose_device(config.device, world)
    # "auto" becomes what this device runs (bf16 or fp32), once (check_settings has already
    # refused an unsupported one). config.json keeps "auto", so a resume elsewhere re-decides.
    config = dataclasses.replace(config, precision=resolve_precision(config.precision, device))
    init_process_group(world, device)
    data = prepare_data(dataset, config, device)
    state = _new_state(
        config, len(dataset.classes), _steps_per_epoch(config, len(data.train_labels))
    )
    state.model.to(device)
    if _has_convolutions(state.model):
        # Convolutions run fastest in NHWC ("channels last") layout, on GPUs (tensor cores)
        # and on CPUs (oneDNN): 1.1-1.45x per epoch for our CNNs on a 2-core CPU.
        state.model.to(memory_format=torch.channels_last)
    if resume and run is not None:
        if run.checkpoint_path.is_file():  # none: the kill came before epoch 1 was saved
            load_checkpoint(state, run.checkpoint_path)
        if world.is_main:
            run.agree_with_checkpoint(state)
    listeners = list(callbacks) if world.is_main else []
    tensorboard = None
    if run is not None and world.is_main:
        listeners.append(CheckpointWriter(run))
        if config.tensorboard:
            tensorboard = TensorBoardWriter(run.path, config)
            listeners.append(tensorboard)
    threads = _threads_for(config, state, data, device, world)
    state.threads = threads.threads  # the checkpoints record them, for a resume
    previous_threads = torch.get_num_threads()
    torch.set_num_threads(threads.threads)
    try:
        fit(state, data, config, listeners, world)
    finally:
        torch.set_num_threads(previous_threads)  # a library call leaves the process as it was
        if tensorboard is not None:
            tensorboard.close()

    final_test = None
    if state.best is not None and world.is_main:
        # Held-out validation chose the epoch; the test set, untouched until now, measures the
        # chosen weights once: an honest estimate of how the kept model does on new data.
        state.model.load_state_dict(state.best)
        final_test = evaluate(state.model, data.test_images, data.test_labels, data.mean, data.std)
    history = [m.to_dict() for m in state.history]
    wall_seconds = time.perf_counter() - wall_start
    summary = make_summary(config, state, device, wall_seconds, world, threads, final_test)
    if run is not None and world.is_main:
        run.write_summary(summary)
    model = state.model.cpu().eval()
    return TrainingResult(model, history, summary, dataset, run.path if run else None)


def _threads_for(
    config: TrainConfig, state: TrainingState, data: TrainData, device: torch.device, world: World
) -> ThreadChoice:
    """The CPU threads this run trains with: asked for, those a resumed run trained with, or
    measured for this model and batch."""
    if device.type != "cpu" or world.distributed:
        source = "device" if device.type != "cpu" else "processes"
        return ThreadChoice(config.threads or torch.get_num_threads(), source)
    requested = config.threads or threads_from_environment()
    if requested is None and state.threads in range(1, available_cores() + 1):
        return ThreadChoice(state.threads, "resumed")  # the same sums as before the stop
    n = len(data.train_labels)
    size = min(config.examples_per_step(n), MAX_CHUNK)
    part = min(size, MEASURE_BATCH)

    def first_batch() -> tuple[torch.Tensor, torch.Tensor]:
        return normalize(data.train_images[:part], data.mean, data.std), data.train_labels[:part]

    options = json.dumps(config.model_options, sort_keys=True)
    key = f"{config.model} {options} | batch {size} | {config.precision}"
    cache = user_cache_root()
    return choose_threads(requested, state.model, first_batch, config.precision, key, cache)


def make_summary(
    config: TrainConfig,
    state: TrainingState,
    device: torch.device,
    wall_seconds: float,
    world: World = SINGLE,
    threads: ThreadChoice | None = None,
    final_test: Evaluation | None = None,
) -> dict[str, Any]:
    """The numbers a reader wants first (also the last line of `dnnx train --json`).

    The test figures are the last epoch's, or with a validation split `final_test`: the test
    set's one evaluation of the weights kept, those of `selected_epoch` (the best validation
    accuracy)."""
    history = state.history
    last = history[-1] if history else None
    train_seconds = sum(m.seconds for m in history)
    examples = sum(m.examples_per_second * m.seconds for m in history)
    reached = last is not None and reached_target(last, config)
    chosen = selected_epoch(history)
    kept = history[chosen - 1] if chosen else last
    if final_test is not None:
        test_accuracy, test_loss = final_test.accuracy, final_test.loss
    else:
        test_accuracy, test_loss = (last.test_accuracy, last.test_loss) if last else (None, None)
    return {
        "model": config.model,
        "model_options": config.model_options,
        "dataset": config.dataset,
        "params": count_parameters(state.model),
        "epochs": state.epoch,
        "test_accuracy": test_accuracy,
        "test_loss": test_loss,
        "val_accuracy": kept.val_accuracy if kept else None,
        "selected_epoch": chosen,  # with --val-size: the epoch whose weights the run keeps
        "target_acc": config.target_acc,
        "target_reached": reached,
        "recipe": config.recipe,
        "complete": not state.stop_requested and (state.epoch >= int(config.epochs) or reached),
        "train_seconds": round(train_seconds, 3),
        "wall_seconds": round(wall_seconds, 3),
        "examples_per_second": round(examples / train_seconds, 1) if train_seconds else None,
        "device": str(device),
        "precision": config.precision,
        "threads": threads.threads if threads else torch.get_num_threads(),
        "threads_chosen": threads.to_dict() if threads else None,
        "world_size": world.size,
        "seed": config.seed,
        "torch": torch.__version__,
        "dnnexplorer": __version__,
        "machine": platform.machine(),
        "finished": time.strftime("%Y-%m-%dT%H:%M:%S%z"),
    }
