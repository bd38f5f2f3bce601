"""The one object that describes a training run: `TrainConfig`.

A run is fully described by its config, which is saved as `config.json` in the run folder so
that `--resume`, `eval` and `predict` rebuild exactly the same model and data. Fields left as
None take the model's recipe (its registered default epochs, batch size, learning rate, ...).
"""

from __future__ import annotations

import dataclasses
import math
import types
import typing
from dataclasses import dataclass, field
from typing import Any, Literal

from dnnexplorer.errors import ConfigError
from dnnexplorer.models.registry import (
    OPTIMIZERS,
    RECIPES,
    SCHEDULES,
    Recipe,
    check_betas,
)

DEVICES = ("auto", "cpu", "cuda", "mps")
PRECISIONS = ("auto", "fp32", "bf16")
FULL_BATCH = "full"
MAX_SEED = 2**32 - 1  # the per-epoch seeds (loop.epoch_generator) must fit torch's 64 bits

BatchSize = int | Literal["full"]


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

    model: str = "softmax"
    model_options: dict[str, Any] = field(default_factory=dict)
    dataset: str = "mnist"
    epochs: int | None = None
    batch_size: BatchSize | None = None
    lr: float | None = None
    optimizer: str | None = None
    betas: tuple[float, float] | None = None  # Adam's averaging rates (beta1, beta2)
    schedule: str | None = None
    weight_decay: float | None = None
    label_smoothing: float | None = None
    augment: bool | None = None
    seed: int = 0
    val_size: int = 0
    target_acc: float | None = None
    device: str = "auto"
    precision: str = "auto"
    compile: bool = False
    threads: int | None = None  # CPU threads; None: measured for the model and batch (threads.py)
    recipe: str = "auto"
    tensorboard: bool = False  # also write TensorBoard event files into the run's tb/ folder

    def __post_init__(self) -> None:
        _check_types(self)  # config.json may hold anything: "epochs": "three", "seed": null
        _check_choice("optimizer", self.optimizer, OPTIMIZERS)
        _check_choice("recipe", self.recipe, RECIPES)
        if self.betas is not None:
            # config.json stores a list; the config always holds a tuple
            object.__setattr__(self, "betas", check_betas(self.betas, "--betas"))
        _check_choice("schedule", self.schedule, SCHEDULES)
        _check_choice("device", self.device, DEVICES)
        _check_choice("precision", self.precision, PRECISIONS)
        if self.epochs is not None and self.epochs < 1:
            raise ConfigError(f"--epochs must be at least 1, got {self.epochs}")
        bs = self.batch_size
        if bs is not None and bs != FULL_BATCH and (not isinstance(bs, int) or bs < 1):
            raise ConfigError(f"--batch-size must be a positive integer or 'full', got {bs!r}")
        # `not x > 0` rather than `x <= 0`: nan fails every comparison, so it is refused too
        if self.lr is not None and not (self.lr > 0 and math.isfinite(self.lr)):
            raise ConfigError(f"--lr must be positive and finite, got {self.lr}")
        wd = self.weight_decay
        if wd is not None and not (wd >= 0 and math.isfinite(wd)):
            raise ConfigError(f"--weight-decay must be >= 0 and finite, got {wd}")
        if self.label_smoothing is not None and not 0 <= self.label_smoothing < 1:
            raise ConfigError(f"--label-smoothing must be in [0, 1), got {self.label_smoothing}")
        if self.threads is not None and (
            isinstance(self.threads, bool) or not isinstance(self.threads, int) or self.threads < 1
        ):
            raise ConfigError(f"--threads must be a whole number >= 1, got {self.threads!r}")
        if self.val_size < 0:
            raise ConfigError(f"--val-size must be >= 0, got {self.val_size}")
        if not 0 <= self.seed <= MAX_SEED:
            raise ConfigError(f"--seed must be between 0 and {MAX_SEED}, got {self.seed}")
        if self.target_acc is not None and not 0 < self.target_acc <= 1:
            raise ConfigError(f"--target-acc is a fraction in (0, 1], got {self.target_acc}")

    def resolved(self) -> TrainConfig:
        """This config with every None field filled in from its recipe (see `recipe` above).

        With a tuned recipe, the epochs asked for cap the tuned schedule: `--epochs 10` with a
        recipe tuned to reach the target in 2 epochs trains (at most) 2.
        """
        from dnnexplorer.models import get_entry

        entry = get_entry(self.model)
        if self.recipe == "default":
            return self._filled_from(entry.recipe)
        tuned = entry.tuned_recipe(self.dataset, self.target_acc)
        if tuned is None:
            if self.recipe == "tuned":
                raise ConfigError(entry.no_tuned_recipe_message(self.dataset, self.target_acc))
            return dataclasses.replace(self._filled_from(entry.recipe), recipe="default")
        capped = dataclasses.replace(
            self, epochs=min(tuned.epochs, self.epochs or tuned.epochs), recipe="tuned"
        )
        return capped._filled_from(tuned)

    def _filled_from(self, recipe: Recipe) -> TrainConfig:
        values = dataclasses.asdict(recipe)
        filled = {k: values[k] for k, v in self.to_dict().items() if v is None and k in values}
        return dataclasses.replace(self, **filled)

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


def parse_batch_size(text: str) -> BatchSize:
    """'full' -> 'full' (batch gradient descent), '64' -> 64."""
    if text.strip().lower() == FULL_BATCH:
        return FULL_BATCH
    try:
        value = int(text)
    except ValueError:
        raise ConfigError(
            f"--batch-size must be a positive integer or 'full', got {text!r}"
        ) from None
    if value < 1:
        raise ConfigError(f"--batch-size must be a positive integer or 'full', got {text!r}")
    return value


def parse_betas(text: str) -> tuple[float, float]:
    """'0.7,0.9' -> (0.7, 0.9): Adam's two averaging rates, each in [0, 1)."""
    try:
        values = [float(part) for part in text.split(",")]
    except ValueError:
        raise ConfigError(f"--betas takes two numbers like 0.9,0.999; got {text!r}") from None
    return check_betas(values, "--betas")


def _check_types(config: TrainConfig) -> None:
    """ConfigError unless each field holds a value of its annotated type (the CLI's flags are
    typed already; this catches a config.json edited by hand, so it names the JSON field)."""
    for name, hint in typing.get_type_hints(TrainConfig).items():
        value = getattr(config, name)
        if not _is_a(value, hint):
            raise ConfigError(f"{name} must be {_describe(hint)}, got {value!r}")


def _is_a(value: object, hint: Any) -> bool:
    origin, args = typing.get_origin(hint), typing.get_args(hint)
    if origin in (typing.Union, types.UnionType):
        return any(_is_a(value, h) for h in args)
    if origin is Literal:
        return value in args
    if hint is Any:
        return True
    if isinstance(value, bool):  # bool is an int to Python, but True is no epoch count
        return hint is bool
    if hint is float:
        return isinstance(value, int | float)
    if origin is tuple:
        return True  # betas: check_betas says what it takes (JSON has lists, not tuples)
    return isinstance(value, origin or hint)


_DESCRIPTIONS = {
    int: "a whole number",
    float: "a number",
    str: "a string",
    bool: "true or false",
    dict: "an object",
    type(None): "null",
}


def _describe(hint: Any) -> str:
    origin, args = typing.get_origin(hint), typing.get_args(hint)
    if origin in (typing.Union, types.UnionType):
        return " or ".join(_describe(h) for h in args)
    if origin is Literal:
        return " or ".join(repr(a) for a in args)
    return _DESCRIPTIONS.get(origin or hint, str(hint))


def _check_choice(name: str, value: str | None, choices: tuple[str, ...]) -> None:
    if value is not None and value not in choices:
        raise ConfigError(f"--{name} must be one of {', '.join(choices)}; got {value!r}")
