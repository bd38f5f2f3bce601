"""`dnnx train`: train one model and write its run folder."""

from __future__ import annotations

import functools
import json
from pathlib import Path
from typing import Any

import click

from dnnexplorer.cli.data import load_with_progress
from dnnexplorer.cli.progress import make_progress
from dnnexplorer.errors import ConfigError
from dnnexplorer.models import list_models
from dnnexplorer.models.registry import ADAM_BETAS
from dnnexplorer.train import TrainConfig, distributed, resume_training, run_training
from dnnexplorer.train.config import (
    OPTIMIZERS,
    PRECISIONS,
    RECIPES,
    SCHEDULES,
    parse_batch_size,
    parse_betas,
)
from dnnexplorer.train.distributed import world_from_env
from dnnexplorer.train.runs import RunFolder, default_run_dir
from dnnexplorer.train.session import check_settings


def _model_options(
    hidden: str | None,
    activation: str | None,
    variant: str | None,
    pieces: int | None,
    options: tuple[str, ...],
) -> dict[str, Any]:
    """Model-specific flags -> the options passed to create_model (checked by the model)."""
    found: dict[str, Any] = {}
    if hidden is not None:
        try:
            found["hidden"] = [int(h) for h in hidden.split(",") if h.strip()]
        except ValueError:
            raise ConfigError(f"--hidden takes sizes like 200,100; got {hidden!r}") from None
    if activation is not None:
        found["activation"] = activation
    if variant is not None:
        found["variant"] = variant
    if pieces is not None:
        found["maxout_pieces"] = pieces
    for item in options:
        key, sep, value = item.partition("=")
        if not sep or not key:
            raise ConfigError(f"--option takes KEY=VALUE (JSON value); got {item!r}")
        try:
            found[key] = json.loads(value)
        except json.JSONDecodeError:
            found[key] = value
    return found


def _refuse_changes_on_resume() -> None:
    """A resumed run keeps its saved config, so that it ends as the uninterrupted run would."""
    source = click.get_current_context().get_parameter_source
    flags = (
        "model",
        "epochs",
        "batch_size",
        "lr",
        "optimizer",
        "betas",
        "schedule",
        "seed",
        "target_acc",
        "recipe",
        "out",
    )
    given = [f for f in flags if source(f) == click.core.ParameterSource.COMMANDLINE]
    if given:
        names = ", ".join("--" + f.replace("_", "-") for f in given)
        raise ConfigError(f"--resume continues a run with its saved config; drop {names}")


def _batch_size(ctx: click.Context, param: click.Parameter, value: str | None) -> Any:
    return None if value is None else parse_batch_size(value)


def _betas(ctx: click.Context, param: click.Parameter, value: str | None) -> Any:
    return None if value is None else parse_betas(value)


model_names = [entry.name for entry in list_models()]


@click.command()
@click.option(
    "--model",
    "-m",
    type=click.Choice(model_names),
    default="softmax",
    show_default=True,
    help="Which model of the ladder to train.",
)
@click.option("--dataset", "-d", default="mnist", show_default=True, help="mnist or fashion-mnist.")
@click.option(
    "--epochs", type=int, help="Passes over the training set (default: the model's recipe)."
)
@click.option(
    "--batch-size",
    callback=_batch_size,
    help="Examples per step: 1 = stochastic GD, 'full' = batch GD, else mini-batch.",
)
@click.option("--lr", type=float, help="Learning rate (peak rate for onecycle).")
@click.option("--optimizer", type=click.Choice(OPTIMIZERS), help="sgd, momentum (0.9) or adam.")
@click.option(
    "--betas",
    callback=_betas,
    metavar="B1,B2",
    help="Adam's averaging rates, e.g. 0.9,0.999 (torch's); lower forgets faster.",
)
@click.option("--schedule", type=click.Choice(SCHEDULES), help="Learning-rate schedule.")
@click.option("--weight-decay", type=float, help="L2 penalty (AdamW's decoupled form for adam).")
@click.option("--label-smoothing", type=float, help="Cross-entropy label smoothing, e.g. 0.1.")
@click.option("--augment/--no-augment", default=None, help="Random shifts/rotations of batches.")
@click.option("--hidden", help="MLP hidden sizes, e.g. 200,100.")
@click.option("--activation", help="sigmoid, tanh, relu, leaky_relu, elu or maxout.")
@click.option("--maxout-pieces", type=int, help="k, the number of linear pieces of maxout.")
@click.option("--variant", help="lenet5: classic (1998: tanh, average pooling) or modern.")
@click.option(
    "--option",
    "options",
    multiple=True,
    metavar="KEY=VALUE",
    help="Any other model option, e.g. --option channels=[16,32].",
)
@click.option(
    "--target-acc",
    type=float,
    help="Reach this test accuracy as fast as possible: stop at the first epoch reaching it, "
    "with the recipe tuned for it where the model has one (then --epochs only caps it).",
)
@click.option(
    "--recipe",
    type=click.Choice(RECIPES),
    default="auto",
    show_default=True,
    help="Where unset knobs come from. auto: the recipe tuned for --target-acc if the model has "
    "one, else the model's default; default: the model's everyday recipe, its schedule spread "
    "over --epochs; tuned: the tuned one, or an error.",
)
@click.option(
    "--val-size",
    type=int,
    default=0,
    show_default=True,
    help="Examples carved from the training set for validation.",
)
@click.option("--seed", type=int, default=0, show_default=True)
@click.option(
    "--device", type=click.Choice(["auto", "cpu", "cuda", "mps"]), default="auto", show_default=True
)
@click.option(
    "--precision",
    type=click.Choice(PRECISIONS),
    default="auto",
    show_default=True,
    help="auto: bf16 autocast on GPUs that support it, fp32 elsewhere; bf16 by name works on "
    "CPUs too (faster only on CPUs with AMX).",
)
@click.option(
    "--compile",
    "compile_model",
    is_flag=True,
    help="torch.compile the model (slower start, faster steps).",
)
@click.option(
    "--threads",
    type=click.IntRange(min=1),
    default=None,
    help="CPU threads [default: measured: 1 or all cores, whichever trains this model and "
    "batch faster on this machine; see summary.json].",
)
@click.option(
    "--out", type=click.Path(path_type=Path), help="Run folder (default runs/MODEL-DATASET-TIME)."
)
@click.option("--overwrite", is_flag=True, help="Replace the run folder if it exists.")
@click.option(
    "--resume",
    "resume_dir",
    type=click.Path(path_type=Path),
    help="Continue the run in this folder from its last checkpoint.",
)
@click.option(
    "--data-dir", type=click.Path(path_type=Path), help="Folder holding the dataset files."
)
@click.option(
    "--tensorboard",
    is_flag=True,
    help="Also write TensorBoard event files (scalars, hyper-parameters) into RUN/tb/.",
)
@click.option("--json", "as_json", is_flag=True, help="Print the summary as JSON (last line).")
def train(
    model: str,
    dataset: str,
    epochs: int | None,
    batch_size: Any,
    lr: float | None,
    optimizer: str | None,
    betas: tuple[float, float] | None,
    schedule: str | None,
    weight_decay: float | None,
    label_smoothing: float | None,
    augment: bool | None,
    hidden: str | None,
    activation: str | None,
    maxout_pieces: int | None,
    variant: str | None,
    options: tuple[str, ...],
    target_acc: float | None,
    recipe: str,
    val_size: int,
    seed: int,
    device: str,
    precision: str,
    compile_model: bool,
    threads: int | None,
    out: Path | None,
    overwrite: bool,
    resume_dir: Path | None,
    data_dir: Path | None,
    tensorboard: bool,
    as_json: bool,
) -> None:
    """Train a model and write a run folder (config, metrics, weights, summary).

    Under torchrun (several processes), trains data-parallel; --batch-size is then the global
    batch, shared out among the processes, and only rank 0 prints and writes the run folder.
    """
    world = world_from_env()
    say = functools.partial(click.echo, err=as_json) if world.is_main else _silent
    if resume_dir is not None:
        _refuse_changes_on_resume()
        run = RunFolder.open(resume_dir)
        config = run.read_config().resolved()
        check_settings(config, world)  # before loading data: fail fast, with one line
        say(f"resuming {run.path}")
        data = load_with_progress(config.dataset, data_dir)
        with make_progress(int(config.epochs), err=as_json) as progress:
            result = resume_training(run.path, callbacks=[progress], dataset=data, world=world)
    else:
        config = TrainConfig(
            model=model,
            dataset=dataset,
            epochs=epochs,
            batch_size=batch_size,
            lr=lr,
            optimizer=optimizer,
            betas=betas,
            schedule=schedule,
            weight_decay=weight_decay,
            label_smoothing=label_smoothing,
            augment=augment,
            target_acc=target_acc,
            recipe=recipe,
            val_size=val_size,
            seed=seed,
            device=device,
            precision=precision,
            compile=compile_model,
            threads=threads,
            tensorboard=tensorboard,
            model_options=_model_options(hidden, activation, variant, maxout_pieces, options),
        ).resolved()
        if out is None and world.distributed:
            raise ConfigError("--out is required under torchrun: every process must use it")
        out = out or default_run_dir(config)
        check_settings(config, world)  # before loading data; run_training checks again
        data = load_with_progress(config.dataset, data_dir)
        say(f"training {config.model} on {config.dataset} -> {out}")
        say(describe_recipe(config))
        with make_progress(int(config.epochs), err=as_json) as progress:
            result = run_training(
                config,
                out_dir=out,
                callbacks=[progress],
                overwrite=overwrite,
                dataset=data,
                world=world,
            )
    distributed.shutdown()
    if not world.is_main:
        return
    s = result.summary
    if as_json:
        click.echo(json.dumps(s))
    else:
        click.echo(
            f"{s['model']}: test accuracy {s['test_accuracy']:.2%} after {s['epochs']} epoch(s), "
            f"{s['train_seconds']:.1f}s training, {s['params']:,} parameters -> {result.run_dir}"
        )
        if s["target_acc"] is not None:
            click.echo(describe_target(s))


def describe_recipe(config: TrainConfig) -> str:
    """One line on the knobs a run uses, and where they come from (for the start of a run)."""
    source = (
        f"the recipe tuned to reach {config.target_acc:.2%} fast"
        if config.recipe == "tuned"
        else "the model's recipe, with your changes"
    )
    knobs = f"{config.epochs} epoch(s), batch {config.batch_size}, {config.optimizer}"
    if config.optimizer == "adam" and config.betas != ADAM_BETAS:
        knobs += f" (betas {config.betas[0]:g}, {config.betas[1]:g})"
    knobs += f", {config.schedule} schedule peaking at lr {config.lr:g}"
    return f"recipe: {source}: {knobs}"


def describe_target(s: dict[str, Any]) -> str:
    """Whether the run reached its --target-acc, and what to try if it did not."""
    target, acc = s["target_acc"], s["test_accuracy"]
    if s["target_reached"]:
        return f"target {target:.2%} reached at epoch {s['epochs']}"
    return (
        f"target {target:.2%} not reached: {acc:.2%} when the schedule ended at epoch "
        f"{s['epochs']}; try another --seed, or a longer schedule: --recipe default --epochs N"
    )


def _silent(*args: Any, **kwargs: Any) -> None:
    """Ranks other than 0 print nothing."""
