"""The Train page's form -> a `TrainConfig`, checked as strictly as `dnnx train`'s flags.

The form sends JSON such as {"model": "mlp", "hidden": "200,100", "activation": "relu",
"epochs": 1}. Fields left empty take the model's recipe, as flags left out do on the command
line. Every mistake becomes a `ConfigError` whose message names the field, and so does a form
asking for more than the lab allows (`limits.py`: epochs, hidden sizes, parameters).

The model a form asks for is sized on PyTorch's "meta" device: its layers are built with
shapes but no numbers, so counting 200 million parameters takes no memory and no time. The
training job builds the real model, on its own thread.
"""

from __future__ import annotations

import math
import time
from typing import Any

import torch

from dnnexplorer.data import get_dataset
from dnnexplorer.errors import ConfigError
from dnnexplorer.models import count_parameters, create_model, get_entry
from dnnexplorer.serve.limits import LIMITS, Limits
from dnnexplorer.train import TrainConfig
from dnnexplorer.train.config import parse_batch_size

FIELDS = (
    "dataset",
    "model",
    "activation",
    "hidden",
    "optimizer",
    "lr",
    "batch_size",
    "epochs",
    "seed",
    "name",
)
MAX_SEED = 2**32 - 1  # PyTorch takes larger seeds; a form has no use for them


def config_from_form(form: Any, limits: Limits = LIMITS) -> tuple[TrainConfig, str]:
    """(resolved config, run name) from the Train form's JSON; ConfigError for bad fields.

    The model is sized, not built (see above): this takes milliseconds, and app.py still
    calls it on a worker thread, never on the event loop that answers every other request.
    """
    if not isinstance(form, dict):
        raise ConfigError("the training form must be a JSON object")
    unknown = sorted(set(form) - set(FIELDS))
    if unknown:
        raise ConfigError(f"unknown field(s): {', '.join(map(str, unknown))}")
    # An empty form field means 'the model's recipe', as a flag left out does.
    form = {k: v for k, v in form.items() if v is not None and v != ""}
    model = _text(form, "model", "softmax")
    dataset = _text(form, "dataset", "mnist")
    get_dataset(dataset)  # unknown dataset: ConfigError listing the known ones
    options = model_options(model, form.get("activation"), form.get("hidden"))
    config = TrainConfig(
        model=model,
        dataset=dataset,
        model_options=options,
        optimizer=form.get("optimizer"),
        lr=_number(form, "lr"),
        batch_size=_batch_size(form.get("batch_size")),
        epochs=_integer(form, "epochs"),
        seed=_seed(form),
    ).resolved()
    # Size the model now, so a bad option or too large a model is a 4xx answer, not a failed job.
    limits.check_training(config)
    limits.check_parameters(parameter_count(config, len(get_dataset(dataset).classes)))
    name = _text(form, "name", f"{model}-{dataset}-{time.strftime('%Y%m%d-%H%M%S')}")
    return config, name


def parameter_count(config: TrainConfig, num_classes: int) -> int:
    """The parameters of the model `config` describes, counted without allocating them.

    Building it also checks its options: a bad one is a ConfigError here, not a failed job.
    """
    with torch.device("meta"):  # shapes only: no memory, no random initialisation
        model = create_model(config.model, num_classes=num_classes, **config.model_options)
    return count_parameters(model)


def model_options(model: str, activation: Any, hidden: Any) -> dict[str, Any]:
    """The form's activation and hidden sizes as options of `model` (only those it has)."""
    defaults = get_entry(model).default_options
    options: dict[str, Any] = {}
    if activation is not None:
        if "activation" not in defaults:
            raise ConfigError(f"model '{model}' has no activation to choose")
        options["activation"] = str(activation)
    if hidden is not None:
        if "hidden" not in defaults:
            raise ConfigError(f"model '{model}' has no hidden sizes to choose")
        sizes = _sizes(hidden)
        if isinstance(defaults["hidden"], list):
            options["hidden"] = sizes  # an MLP: one size per hidden layer
        elif len(sizes) == 1:
            options["hidden"] = sizes[0]  # a CNN: one fully connected hidden layer
        else:
            raise ConfigError(f"model '{model}' has one hidden layer: give one size, not {hidden}")
    return options


def _sizes(value: Any) -> list[int]:
    items = value.split(",") if isinstance(value, str) else value
    try:
        sizes = [_as_int(v) for v in items if str(v).strip()]
    except (TypeError, ValueError):
        sizes = []
    if not sizes or any(s < 1 for s in sizes):
        raise ConfigError(f"hidden sizes are positive integers like 200,100; got {value!r}")
    return sizes


def _as_int(value: Any) -> int:
    if isinstance(value, bool) or (isinstance(value, float) and not value.is_integer()):
        raise ValueError(value)
    return int(str(value).strip()) if isinstance(value, str) else int(value)


def _text(form: dict[str, Any], key: str, default: str) -> str:
    value = form.get(key, default)
    if not isinstance(value, str):
        raise ConfigError(f"{key} must be text, got {value!r}")
    return value


def _integer(form: dict[str, Any], key: str) -> int | None:
    if key not in form:
        return None
    try:
        return _as_int(form[key])
    except (TypeError, ValueError):
        raise ConfigError(f"{key} must be a whole number, got {form[key]!r}") from None


def _seed(form: dict[str, Any]) -> int:
    seed = _integer(form, "seed") or 0
    if not 0 <= seed <= MAX_SEED:
        raise ConfigError(f"seed must be between 0 and {MAX_SEED}, got {seed}")
    return seed


def _number(form: dict[str, Any], key: str) -> float | None:
    if key not in form:
        return None
    value = form[key]
    try:
        number = float(value) if not isinstance(value, bool) else math.nan
    except (TypeError, ValueError):
        number = math.nan
    if not math.isfinite(number):
        raise ConfigError(f"{key} must be a number, got {value!r}")
    return number


def _batch_size(value: Any) -> int | str | None:
    if value is None:
        return None
    if isinstance(value, bool):
        raise ConfigError(f"batch size must be a positive integer or 'full', got {value!r}")
    return parse_batch_size(str(value))
