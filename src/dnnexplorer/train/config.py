"""The one object that describes a training run: `TrainConfig`, and each of its settings.

A run is fully described by its config, which is saved as `config.json` in the run folder so
that `--resume`, `eval` and `predict` rebuild exactly the same model and data. Fields left as
None take the model's recipe (its registered default epochs, batch size, learning rate, ...;
a dataset may have its own).

Each setting is defined once, as a field of `TrainConfig`: its type, its default and its
`Setting` (help, choices, allowed values, how to read it from text; see settings.py).
Everything else is made from the fields: `dnnx train`'s flags (cli/train.py), the web lab's
Train form and the choices it offers (serve/forms.py), and the check of every model's recipe
(models/registry.py). A new setting is one new field here, and the code that uses it.
"""

from __future__ import annotations

import dataclasses
import math
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, Literal

from dnnexplorer.errors import ConfigError
from dnnexplorer.train.device import DEVICES, PRECISIONS
from dnnexplorer.train.optim import OPTIMIZERS, SCHEDULES
from dnnexplorer.train.settings import Rule, check_values, setting, settings_of

if TYPE_CHECKING:
    from dnnexplorer.models.registry import Recipe

RECIPES = ("auto", "default", "tuned")  # see TrainConfig.recipe
FULL_BATCH = "full"
MAX_SEED = 2**32 - 1  # the per-epoch seeds (loop.epoch_generator) must fit torch's 64 bits

BatchSize = int | Literal["full"]


def model_names() -> list[str]:
    """The registered models, in the order of the MNIST story: the names --model takes."""
    from dnnexplorer.models import list_models  # not at the top: the models import this module

    return [entry.name for entry in list_models()]


def parse_batch_size(text: str) -> BatchSize:
    """'full' -> 'full' (batch gradient descent), '64' -> 64."""
    if text.strip().lower() == FULL_BATCH:
        return FULL_BATCH
    try:
        value = int(text)
    except ValueError:
        value = 0
    if value < 1:
        raise ConfigError(f"--batch-size must be a positive integer or 'full', got {text!r}")
    return value


def parse_betas(text: str) -> tuple[float, ...]:
    """'0.7,0.9' -> (0.7, 0.9): Adam's two averaging rates (TrainConfig checks them)."""
    try:
        return tuple(float(part) for part in text.split(","))
    except ValueError:
        raise ConfigError(f"--betas takes two numbers like 0.9,0.999; got {text!r}") from None


def _is_betas(value: Any) -> bool:
    pair = isinstance(value, list | tuple) and len(value) == 2  # config.json holds a list
    return pair and all(_is_number(b) and 0 <= b < 1 for b in value)


def _is_number(value: object) -> bool:
    return isinstance(value, int | float) and not isinstance(value, bool)


POSITIVE = Rule(lambda x: x > 0 and math.isfinite(x), "must be positive and finite")
NOT_NEGATIVE = Rule(lambda x: x >= 0 and math.isfinite(x), "must be >= 0 and finite")
AT_LEAST_ONE = Rule(lambda n: n >= 1, "must be at least 1")


@dataclass(frozen=True)
class TrainConfig:
    """Everything that decides a training run's result.

    batch_size: 1 is stochastic gradient descent, "full" is batch gradient descent (the whole
    training set per step), anything between is mini-batch gradient descent.

    recipe: where the fields left as None come from. "default" is the model's everyday recipe,
    its schedule spread over `epochs`. "tuned" is the recipe tuned (and benchmarked over many
    seeds) to reach `target_acc` as fast as possible; `epochs` then only caps its schedule.
    "auto" (the default) is "tuned" when a target is given and the model has a recipe tuned for
    it on this dataset, else "default". A resolved config says which one it used.
    """

    model: str = setting(
        "softmax",
        "Which model of the ladder to train.",
        choices=model_names,
        short="-m",
        lab=True,
    )
    # The model's own options ({"hidden": [200, 100]}), given by the model's flags (--hidden,
    # --option KEY=VALUE) and form fields: their names are the model's (models/registry.py).
    model_options: dict[str, Any] = field(default_factory=dict)
    dataset: str = setting("mnist", "mnist or fashion-mnist.", short="-d", lab=True)
    epochs: int | None = setting(
        None,
        "Passes over the training set (default: the model's recipe).",
        rule=AT_LEAST_ONE,
        lab=True,
    )
    batch_size: BatchSize | None = setting(
        None,
        "Examples per step: 1 = stochastic GD, 'full' = batch GD, else mini-batch.",
        parse=parse_batch_size,
        rule=Rule(lambda b: b == FULL_BATCH or b >= 1, "must be a positive integer or 'full'"),
        lab=True,
    )
    lr: float | None = setting(
        None, "Learning rate (peak rate for onecycle).", rule=POSITIVE, lab=True
    )
    optimizer: str | None = setting(
        None, "sgd, momentum (0.9) or adam.", choices=OPTIMIZERS, lab=True
    )
    betas: tuple[float, float] | None = setting(
        None,
        "Adam's averaging rates, e.g. 0.9,0.999 (torch's); lower forgets faster. With "
        "--schedule onecycle, beta1 follows the cycle (0.95 -> 0.85 -> 0.95).",
        parse=parse_betas,
        metavar="B1,B2",
        rule=Rule(_is_betas, "must be two numbers in [0, 1), like 0.9,0.999"),
    )
    schedule: str | None = setting(None, "Learning-rate schedule.", choices=SCHEDULES)
    weight_decay: float | None = setting(
        None, "L2 penalty (AdamW's decoupled form for adam).", rule=NOT_NEGATIVE
    )
    label_smoothing: float | None = setting(
        None,
        "Cross-entropy label smoothing, e.g. 0.1.",
        rule=Rule(lambda x: 0 <= x < 1, "must be in [0, 1)"),
    )
    augment: bool | None = setting(
        None,
        "Random changes that keep each image's class: shifts and tilts for digits, mirrorings "
        "for clothes (the dataset's own).",
    )
    seed: int = setting(
        0,
        "Seeds the initial weights and each epoch's shuffling, dropout and augmentation.",
        rule=Rule(lambda n: 0 <= n <= MAX_SEED, f"must be between 0 and {MAX_SEED}"),
        lab=True,
    )
    val_size: int = setting(
        0,
        "Examples carved from the training set for validation: then each epoch is evaluated on "
        "them (not the test set), they choose the epoch kept and decide --target-acc, and the "
        "test set is evaluated once, at the end.",
        rule=Rule(lambda n: n >= 0, "must be >= 0"),
    )
    target_acc: float | None = setting(
        None,
        "Reach this test accuracy (validation accuracy with --val-size) as fast as possible: "
        "stop at the first epoch reaching it, "
        "with the recipe tuned for it where the model has one (then --epochs only caps it).",
        rule=Rule(lambda x: 0 < x <= 1, "is a fraction in (0, 1]"),
    )
    device: str = setting(
        "auto",
        "Where to train: auto takes a CUDA GPU, then Apple's MPS, then the CPU.",
        choices=DEVICES,
    )
    precision: str = setting(
        "auto",
        "auto: bf16 autocast on GPUs that support it, fp32 elsewhere; bf16 by name works on "
        "CPUs too (faster only on CPUs with AMX).",
        choices=PRECISIONS,
    )
    compile: bool = setting(False, "torch.compile the model (slower start, faster steps).")
    threads: int | None = setting(
        None,
        "CPU threads [default: measured: 1 or all cores, whichever trains this model and "
        "batch faster on this machine; see summary.json].",
        rule=AT_LEAST_ONE,
    )
    recipe: str = setting(
        "auto",
        "Where unset knobs come from. auto: the recipe tuned for --target-acc if the model has "
        "one, else the model's default; default: the model's everyday recipe for the dataset, "
        "its schedule "
        "spread over --epochs; tuned: the tuned one, or an error.",
        choices=RECIPES,
    )
    tensorboard: bool = setting(
        False,
        "Also write TensorBoard event files (scalars, hyper-parameters) into RUN/tb/.",
    )

    def __post_init__(self) -> None:
        # config.json may hold anything: "epochs": "three", "seed": null
        check_values(self, settings_of(type(self)))
        if self.betas is not None:  # config.json stores a list; the config always holds a tuple
            object.__setattr__(self, "betas", tuple(float(b) for b in self.betas))

    def resolved(self) -> TrainConfig:
        """This config with every None field filled in from its recipe (see `recipe` above).

        With a tuned recipe, the epochs asked for cap the tuned schedule: `--epochs 10` with a
        recipe tuned to reach the target in 2 epochs trains (at most) 2; the model options it
        was tuned with fill in those the config leaves unset. Without one, the model's everyday
        recipe for the dataset fills them (with its model options, as a tuned one does).
        """
        from dnnexplorer.models import get_entry

        entry = get_entry(self.model)
        tuned = (
            None if self.recipe == "default" else entry.tuned_recipe(self.dataset, self.target_acc)
        )
        if tuned is None:
            if self.recipe == "tuned":
                raise ConfigError(entry.no_tuned_recipe_message(self.dataset, self.target_acc))
            everyday = entry.everyday_recipe(self.dataset)  # the dataset's own, or the model's
            return self._filled_from(everyday.recipe, everyday.options, "default")
        capped = dataclasses.replace(
            self, epochs=min(tuned.recipe.epochs, self.epochs or tuned.recipe.epochs)
        )
        return capped._filled_from(tuned.recipe, tuned.options, "tuned")

    def _filled_from(self, recipe: Recipe, options: Mapping[str, Any], source: str) -> TrainConfig:
        """Unset settings from `recipe`, model `options` under yours (yours win), `source` named."""
        values = dataclasses.asdict(recipe)
        filled = {k: values[k] for k, v in self.to_dict().items() if v is None and k in values}
        merged = {**options, **self.model_options}
        return dataclasses.replace(self, **filled, model_options=merged, recipe=source)

    def examples_per_step(self, train_size: int) -> int:
        """The mini-batch as a number of examples ("full": the whole training set)."""
        return train_size if self.batch_size == FULL_BATCH else int(self.batch_size)

    def to_dict(self) -> dict[str, Any]:
        return dataclasses.asdict(self)

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> TrainConfig:
        """Rebuild a config from `config.json`; unknown keys are an error, not silently dropped."""
        if not isinstance(data, dict):
            raise ConfigError(f"a config is a JSON object of settings, got {data!r:.60}")
        known = {f.name for f in dataclasses.fields(cls)}
        unknown = sorted(set(data) - known)
        if unknown:
            raise ConfigError(f"unknown config field(s): {', '.join(unknown)}")
        return cls(**data)


def check_recipe(recipe: Recipe) -> None:
    """ConfigError unless each value of a model's recipe is one its setting allows: a recipe is
    checked by the very rules that check `dnnx train`'s flags and config.json."""
    check_values(recipe, settings_of(TrainConfig), where="recipe")
