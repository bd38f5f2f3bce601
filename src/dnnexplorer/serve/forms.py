"""The Train page's form -> a `TrainConfig`, checked as strictly as `dnnx train`'s flags.

The form sends JSON such as {"model": "mlp", "hidden": "200,100", "activation": "relu",
"epochs": 1}: the settings TrainConfig marks for the lab (train/config.py), read and checked as
it defines them, two model options read as `dnnx train --hidden/--activation` read them, and a
run name. Fields left empty take the model's recipe, as flags left out do on the command line.
Every mistake becomes a `ConfigError` whose message names the field, and so does a form asking
for more than the lab allows (`limits.py`: epochs, hidden sizes, parameters). What the form
offers (GET /api/choices) comes from the same settings.

The model a form asks for is sized on PyTorch's "meta" device: its layers are built with
shapes but no numbers, so counting 200 million parameters takes no memory and no time. The
training job builds the real model, on its own thread.
"""

from __future__ import annotations

import dataclasses
import time
from typing import Any

import torch

from dnnexplorer.data import dataset_names, get_dataset
from dnnexplorer.errors import ConfigError
from dnnexplorer.models import ACTIVATION_NAMES, count_parameters, create_model, list_models
from dnnexplorer.models.registry import read_options
from dnnexplorer.serve.limits import LIMITS, Limits
from dnnexplorer.train import TrainConfig
from dnnexplorer.train.settings import Setting, settings_of

MODEL_OPTIONS = ("activation", "hidden")  # the model options the Train form offers


def lab_settings() -> dict[str, Setting]:
    """The settings of TrainConfig that the Train form offers (marked lab=True there)."""
    return {name: s for name, s in settings_of(TrainConfig).items() if s.lab}


def config_from_form(form: Any, limits: Limits = LIMITS) -> tuple[TrainConfig, str]:
    """(resolved config, run name) from the Train form's JSON; ConfigError for bad fields.

    Each setting is read and checked as TrainConfig defines it, as `dnnx train`'s flags are.
    The model is sized, not built (see above): this takes milliseconds, and app.py still
    calls it on a worker thread, never on the event loop that answers every other request.
    """
    if not isinstance(form, dict):
        raise ConfigError("the training form must be a JSON object")
    offered = lab_settings()
    unknown = sorted(set(form) - {*offered, *MODEL_OPTIONS, "name"})
    if unknown:
        raise ConfigError(f"unknown field(s): {', '.join(map(str, unknown))}")
    # An empty form field means 'the model's recipe', as a flag left out does.
    form = {k: v for k, v in form.items() if v is not None and v != ""}
    config = TrainConfig(**{k: s.read(form[k]) for k, s in offered.items() if k in form})
    get_dataset(config.dataset)  # unknown dataset: ConfigError listing the known ones
    options = read_options(config.model, {k: form[k] for k in MODEL_OPTIONS if k in form})
    config = dataclasses.replace(config, model_options=options).resolved()
    # Size the model now, so a bad option or too large a model is a 4xx answer, not a failed job.
    limits.check_training(config)
    limits.check_parameters(parameter_count(config, len(get_dataset(config.dataset).classes)))
    name = form.get("name", f"{config.model}-{config.dataset}-{time.strftime('%Y%m%d-%H%M%S')}")
    if not isinstance(name, str):
        raise ConfigError(f"name must be text, got {name!r}")
    return config, name


def form_choices(limits: Limits) -> dict[str, Any]:
    """What the Train form offers (GET /api/choices): each model with its options and its
    everyday recipe for each dataset, the datasets, the activations, each setting (help, type,
    default, choices), the limits."""
    models = [
        {
            "name": m.name,
            "description": m.description,
            "options": m.default_options,
            "recipes": {
                d: dataclasses.asdict(m.everyday_recipe(d).recipe) for d in dataset_names()
            },
        }
        for m in list_models()
    ]
    offered = lab_settings()
    return {
        "models": models,
        "datasets": [{"name": n, "classes": list(get_dataset(n).classes)} for n in dataset_names()],
        "activations": list(ACTIVATION_NAMES),
        "optimizers": list(offered["optimizer"].names()),
        "settings": [s.describe() for s in offered.values()],
        "limits": limits.to_dict(),  # the Train form shows them
    }


def parameter_count(config: TrainConfig, num_classes: int) -> int:
    """The parameters of the model `config` describes, counted without allocating them.

    Building it also checks its options: a bad one is a ConfigError here, not a failed job.
    """
    with torch.device("meta"):  # shapes only: no memory, no random initialisation
        model = create_model(config.model, num_classes=num_classes, **config.model_options)
    return count_parameters(model)
