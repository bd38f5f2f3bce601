"""The model registry: every architecture registers itself by name, tools build models by name.

As in timm, each family file decorates a builder function with `@register_model(...)`, and the
CLI, the web lab, the lessons and the benchmarks only ever call `create_model("cnn", ...)` or
`list_models()`: they never import a model class, so a new model shows up everywhere at once.

A model is rebuilt from three JSON values saved in its run folder: its name, `num_classes` and its
options (ints, floats, strings, lists). Each entry also carries a default training `Recipe`, the
first guess at how to train it well on a CPU, which a dataset may replace with its own
(`DatasetRecipe`: clothes need wider layers than digits), and may carry recipes tuned to reach a
given test accuracy as fast as possible (`TunedRecipe`): what `dnnx train --target-acc` and
`dnnx bench` use.
"""

from __future__ import annotations

import inspect
import json
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any, TypeVar

from torch import nn

from dnnexplorer.errors import ConfigError

ADAM_BETAS = (0.9, 0.999)  # torch's defaults
# Adam that forgets faster: in runs of 1-3 epochs its averages follow the one-cycle rate's swings
# (+0.1% on the CNN after one epoch, measured over seeds; see BENCHMARKS.md). Tuned recipes use it.
# Under the one-cycle schedule (every tuned recipe's) beta1 follows the cycle, 0.95 -> 0.85 ->
# 0.95 (train/optim.py), so the gain measured is beta2's, 0.9 instead of 0.999.
FAST_BETAS = (0.7, 0.9)

Builder = TypeVar("Builder", bound=Callable[..., nn.Module])


@dataclass(frozen=True)
class Recipe:
    """How to train a model by default: values for the TrainConfig settings of the same names.

    Checked on construction by those settings' own rules (train/config.py), so a recipe can
    hold nothing that `dnnx train` would refuse.
    """

    epochs: int
    batch_size: int
    lr: float
    optimizer: str = "adam"
    schedule: str = "onecycle"
    weight_decay: float = 0.0
    augment: bool = False
    label_smoothing: float = 0.0
    betas: tuple[float, float] = ADAM_BETAS

    def __post_init__(self) -> None:
        # Imported here: train/ imports the models, whose modules build recipes as they load.
        from dnnexplorer.train.config import check_recipe

        check_recipe(self)


@dataclass(frozen=True)
class DatasetRecipe:
    """A model's everyday recipe for one dataset, where the default one does not suit it.

    What `dnnx train` and `dnnx ladder` train on `dataset` when no --target-acc asks for a
    tuned recipe; `options` are model options it needs (options the user gives win over them).
    """

    dataset: str
    recipe: Recipe
    options: Mapping[str, Any] = field(default_factory=dict)


@dataclass(frozen=True)
class TunedRecipe:
    """A recipe tuned to reach `target` test accuracy on `dataset` in as little time as possible.

    Its `epochs` is the length of its schedule: a one-cycle run is most accurate at its end, so
    the schedule is as long as the target needs and no longer. `options` are model options the
    target needs (wider layers for a harder dataset); options the user gives win over them.
    How each was measured (seeds, mean accuracy, share of seeds reaching the target) is in
    BENCHMARKS.md.
    """

    dataset: str
    target: float
    recipe: Recipe
    options: Mapping[str, Any] = field(default_factory=dict)


@dataclass(frozen=True)
class ModelEntry:
    """One registered model: its name, a one-line description, its builder and its recipes."""

    name: str
    description: str
    recipe: Recipe
    builder: Callable[..., nn.Module]
    tuned: tuple[TunedRecipe, ...] = ()
    dataset_recipes: tuple[DatasetRecipe, ...] = ()

    def everyday_recipe(self, dataset: str) -> DatasetRecipe:
        """The recipe (and model options) to train on `dataset` without a target."""
        for own in self.dataset_recipes:
            if own.dataset == dataset:
                return own
        return DatasetRecipe(dataset, self.recipe)

    def tuned_recipe(self, dataset: str, target: float | None) -> TunedRecipe | None:
        """The fastest recipe tuned for `dataset` whose target is at least `target`, or None.

        A lower target than any tuned one takes the lowest tuned recipe above it (training
        stops as soon as the lower target is reached); a higher one has none.
        """
        if target is None:
            return None
        fitting = [t for t in self.tuned if t.dataset == dataset and t.target >= target]
        return min(fitting, key=lambda t: t.target) if fitting else None

    def no_tuned_recipe_message(self, dataset: str, target: float | None) -> str:
        tuned = [f"{t.target:.1%} on {t.dataset}" for t in self.tuned]
        have = f"it has recipes tuned for {', '.join(tuned)}" if tuned else "it has none"
        wanted = f"{target:.1%} on {dataset}" if target is not None else "no --target-acc"
        return f"--recipe tuned: model '{self.name}' has no recipe tuned for {wanted}; {have}"

    @property
    def default_options(self) -> dict[str, Any]:
        """The builder's options and their defaults, as JSON values (tuples become lists)."""
        return {
            name: list(param.default) if isinstance(param.default, tuple) else param.default
            for name, param in _option_parameters(self.builder).items()
        }


# The one table of models; filled once, when dnnexplorer.models imports its family modules.
_REGISTRY: dict[str, ModelEntry] = {}


def register_model(
    name: str,
    *,
    description: str,
    recipe: Recipe,
    tuned: tuple[TunedRecipe, ...] = (),
    dataset_recipes: tuple[DatasetRecipe, ...] = (),
) -> Callable[[Builder], Builder]:
    """Decorator: register `builder(num_classes=10, **options) -> nn.Module` under `name`."""

    def decorate(builder: Builder) -> Builder:
        if name in _REGISTRY:
            raise ValueError(f"model '{name}' is registered twice")
        if "num_classes" not in inspect.signature(builder).parameters:
            raise TypeError(f"builder of '{name}' must take a num_classes argument")
        options = _option_parameters(builder).values()
        if any(p.default is inspect.Parameter.empty for p in options):
            raise TypeError(f"every option of '{name}' needs a default: the name alone builds it")
        entry = ModelEntry(name, description, recipe, builder, tuned, dataset_recipes)
        datasets = [d.dataset for d in dataset_recipes]
        if len(set(datasets)) != len(datasets):
            raise ValueError(f"model '{name}' has two everyday recipes for one dataset")
        for t in (*tuned, *dataset_recipes):  # their options are checked as yours are
            _check_options(name, entry.default_options, t.options)
        _REGISTRY[name] = entry
        return builder

    return decorate


def list_models() -> list[ModelEntry]:
    """Every registered model, in the order of the MNIST story (softmax ... best)."""
    return list(_REGISTRY.values())


def get_entry(name: str) -> ModelEntry:
    """The registry entry for `name`; ConfigError listing the known names if there is none."""
    if name not in _REGISTRY:
        raise ConfigError(f"unknown model '{name}'; choose one of: {', '.join(_REGISTRY)}")
    return _REGISTRY[name]


def create_model(name: str, num_classes: int = 10, **options: Any) -> nn.Module:
    """Build model `name` for inputs (B, 1, 28, 28) and outputs logits (B, num_classes).

    Raises ConfigError for an unknown name, an unknown option or a value of the wrong kind.
    """
    entry = get_entry(name)
    _require_int("num_classes", num_classes, minimum=2)
    _check_options(name, entry.default_options, options)
    return entry.builder(num_classes=num_classes, **options)


def read_options(name: str, given: Mapping[str, Any]) -> dict[str, Any]:
    """Options of model `name` as a flag or a form field gives them -> the values it is built from.

    Each is read by the kind of its default: "200,100" is a list of sizes where the default is
    a list ([200, 100]), and "[16,32]" too; "128" is a number where the default is one. Text
    options ("relu") stay text. `dnnx train`'s model flags and the web lab's Train form both
    read their options here; the model checks the values when it is built.
    """
    defaults = get_entry(name).default_options
    options: dict[str, Any] = {}
    for option, value in given.items():
        _check_known(name, option, defaults)
        text = value if isinstance(value, str) else json.dumps(value)
        options[option] = _read_option(name, option, text, defaults[option])
    return options


def _read_option(model: str, option: str, text: str, default: object) -> object:
    if isinstance(default, str):
        return text
    try:
        if isinstance(default, list) and not text.lstrip().startswith("["):
            return [int(size) for size in text.split(",") if size.strip()]
        return json.loads(text)  # a number, true/false, a [list]
    except ValueError:
        raise ConfigError(
            f"model '{model}': option '{option}' must be like {default!r}, got {text!r}"
        ) from None


def count_parameters(model: nn.Module) -> int:
    """The number of trainable parameters (weights and biases) of `model`."""
    return sum(p.numel() for p in model.parameters() if p.requires_grad)


def _option_parameters(builder: Callable[..., nn.Module]) -> dict[str, inspect.Parameter]:
    params = inspect.signature(builder).parameters
    return {name: p for name, p in params.items() if name != "num_classes"}


def _is_number(value: object) -> bool:
    return isinstance(value, int | float) and not isinstance(value, bool)


def _require_int(what: str, value: object, minimum: int) -> None:
    if not isinstance(value, int) or isinstance(value, bool) or value < minimum:
        raise ConfigError(f"{what} must be an integer >= {minimum}, got {value!r}")


def _check_known(model: str, option: str, defaults: Mapping[str, Any]) -> None:
    if option not in defaults:
        known = ", ".join(defaults) or "none"
        raise ConfigError(f"model '{model}' has no option '{option}'; its options: {known}")


def _check_options(model: str, defaults: Mapping[str, Any], options: Mapping[str, Any]) -> None:
    """ConfigError unless each option is one of the model's, of its default's kind."""
    for option, value in options.items():
        _check_known(model, option, defaults)
        _check_option_type(model, option, value, defaults[option])


def _check_option_type(model: str, option: str, value: object, default: object) -> None:
    """Accept a value of the default's JSON kind: int, number, string or list of the same items."""
    if isinstance(default, list):
        ok = isinstance(value, list | tuple) and (
            not default or all(_same_kind(item, default[0]) for item in value)
        )
    else:
        ok = _same_kind(value, default)
    if not ok:
        raise ConfigError(
            f"model '{model}': option '{option}' must be like {default!r}, got {value!r}"
        )


def _same_kind(value: object, default: object) -> bool:
    if isinstance(default, bool):
        return isinstance(value, bool)
    if isinstance(default, int):
        return isinstance(value, int) and not isinstance(value, bool)
    if isinstance(default, float):
        return _is_number(value)
    return isinstance(value, type(default))
