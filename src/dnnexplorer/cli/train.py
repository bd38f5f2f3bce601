"""`dnnx train`: train one model and write its run folder.

Its flags are made from TrainConfig's fields (train/config.py): one flag per setting, with the
field's type, default, choices and help, so a new setting needs no new line here. The flags for
the model's own options and for the run folder are written out below.
"""

from __future__ import annotations

import functools
import json
from collections.abc import Callable
from pathlib import Path
from typing import Any, TypeVar

import click

from dnnexplorer.cli.data import load_with_progress
from dnnexplorer.cli.progress import make_progress
from dnnexplorer.errors import ConfigError
from dnnexplorer.models.registry import ADAM_BETAS, read_options
from dnnexplorer.train import TrainConfig, distributed, resume_training, run_training
from dnnexplorer.train.distributed import world_from_env
from dnnexplorer.train.runs import RunFolder, default_run_dir
from dnnexplorer.train.session import check_settings
from dnnexplorer.train.settings import Setting, settings_of

Command = TypeVar("Command", bound=Callable[..., Any])


def config_options(config_class: type[TrainConfig] = TrainConfig) -> Callable[[Command], Command]:
    """Decorator: a click option for each setting of `config_class`, in the order of its fields."""

    def add_options(command: Command) -> Command:
        for setting in reversed(settings_of(config_class).values()):  # click lists the last first
            command = _option(setting)(command)
        return command

    return add_options


def _option(setting: Setting) -> Callable[[Command], Command]:
    """One setting as a click option: its flag, its type or choices, its default and help."""
    flags = [setting.flag, setting.short] if setting.short else [setting.flag]
    kind: dict[str, Any] = {}
    if setting.value_type is bool and setting.default is None:  # None: the recipe decides
        flags = [f"{setting.flag}/--no-{setting.flag[2:]}"]
    elif setting.value_type is bool:
        kind = {"is_flag": True}
    elif setting.names():
        kind = {"type": click.Choice(list(setting.names()))}
    elif setting.parse is not None:  # "full", "0.9,0.999": text that the setting reads itself
        kind = {"callback": _parsed_by(setting.parse), "metavar": setting.metavar}
    else:
        kind = {"type": setting.value_type}  # int, float or str
    return click.option(
        *flags,
        setting.name,
        default=setting.default,
        show_default=setting.default is not None,
        help=setting.help,
        **kind,
    )


def _parsed_by(parse: Callable[[str], Any]) -> Callable[..., Any]:
    return lambda ctx, param, text: None if text is None else parse(text)


def _model_options(model: str, flags: dict[str, Any], options: tuple[str, ...]) -> dict[str, Any]:
    """The model's flags that were given, and each --option KEY=VALUE, as options of `model`."""
    given = {name: value for name, value in flags.items() if value is not None}
    for item in options:
        key, sep, value = item.partition("=")
        if not sep or not key:
            raise ConfigError(f"--option takes KEY=VALUE; got {item!r}")
        given[key] = value
    return read_options(model, given)


def _refuse_changes_on_resume() -> None:
    """A resumed run keeps its saved config, so that it ends as the uninterrupted run would."""
    context = click.get_current_context()
    given = [
        max(param.opts, key=len)
        for param in context.command.params
        if param.name not in ("resume_dir", "data_dir", "as_json")
        and context.get_parameter_source(param.name) == click.core.ParameterSource.COMMANDLINE
    ]
    if given:
        raise ConfigError(
            f"--resume continues a run with its saved config; drop {', '.join(given)}"
        )


@click.command()
@config_options()
# The model's own options: each sets the option of the same name, if the model has it.
@click.option("--hidden", help="Hidden sizes: 200,100 for mlp; one size for cnn and best.")
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
# The run folder, and how to report.
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
@click.option("--json", "as_json", is_flag=True, help="Print the summary as JSON (last line).")
def train(
    hidden: str | None,
    activation: str | None,
    maxout_pieces: int | None,
    variant: str | None,
    options: tuple[str, ...],
    out: Path | None,
    overwrite: bool,
    resume_dir: Path | None,
    data_dir: Path | None,
    as_json: bool,
    **values: Any,
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
        config = run.read_resumable_config()
        check_settings(config, world)  # before loading data: fail fast, with one line
        say(f"resuming {run.path}")
        data = load_with_progress(config.dataset, data_dir)
        with make_progress(int(config.epochs), err=as_json) as progress:
            result = resume_training(run.path, callbacks=[progress], dataset=data, world=world)
    else:
        # values: every other flag, the TrainConfig setting of the same name
        model_flags = {
            "hidden": hidden,
            "activation": activation,
            "maxout_pieces": maxout_pieces,
            "variant": variant,
        }
        config = TrainConfig(
            **values, model_options=_model_options(values["model"], model_flags, options)
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
        if s["selected_epoch"] is not None:
            click.echo(
                f"kept epoch {s['selected_epoch']}'s weights (best validation accuracy, "
                f"{s['val_accuracy']:.2%}); the test set was evaluated once, on them"
            )
        if s["target_acc"] is not None:
            click.echo(describe_target(s))


def describe_recipe(config: TrainConfig) -> str:
    """One line on the knobs a run uses, and where they come from (for the start of a run)."""
    source = (
        f"the recipe tuned to reach {config.target_acc:.2%} fast"
        if config.recipe == "tuned"
        else f"the model's recipe for {config.dataset}, with your changes"
    )
    knobs = f"{config.epochs} epoch(s), batch {config.batch_size}, {config.optimizer}"
    if config.optimizer == "adam" and config.betas != ADAM_BETAS:
        knobs += f" (betas {config.betas[0]:g}, {config.betas[1]:g})"
    knobs += f", {config.schedule} schedule peaking at lr {config.lr:g}"
    if config.model_options:
        knobs += "; model " + ", ".join(f"{k}={v}" for k, v in config.model_options.items())
    return f"recipe: {source}: {knobs}"


def describe_target(s: dict[str, Any]) -> str:
    """Whether the run reached its --target-acc, and what to try if it did not."""
    target = s["target_acc"]
    validated = s.get("selected_epoch") is not None  # --val-size: validation decides
    which = "validation accuracy" if validated else "test accuracy"
    if s["target_reached"]:
        return f"target {target:.2%} ({which}) reached at epoch {s['epochs']}"
    best = s["val_accuracy"] if validated else s["test_accuracy"]  # with validation: its best
    return (
        f"target {target:.2%} ({which}) not reached: {best:.2%} when the schedule ended at epoch "
        f"{s['epochs']}; try another --seed, or a longer schedule: --recipe default --epochs N"
    )


def _silent(*args: Any, **kwargs: Any) -> None:
    """Ranks other than 0 print nothing."""
