"""Each setting is defined once, as a field of TrainConfig: `dnnx train`'s flags, the web lab's
form and choices, and the check of every model's recipe are all made from the fields."""

from __future__ import annotations

import json
from dataclasses import dataclass

import click
import pytest
import torch
from click.testing import CliRunner

from dnnexplorer.errors import ConfigError
from dnnexplorer.models import Recipe, create_model
from dnnexplorer.train import TrainConfig, device, optim
from dnnexplorer.train.settings import Rule, setting, settings_of


@dataclass(frozen=True)
class WithLoss(TrainConfig):
    """TrainConfig and two new settings, each written in one place: its field."""

    loss: str = setting(
        "cross_entropy", "The cost to minimize.", choices=("cross_entropy", "mse"), lab=True
    )
    warmup_epochs: int = setting(
        0, "Epochs of warm-up.", rule=Rule(lambda n: n >= 0, "must be >= 0"), lab=True
    )


def test_a_new_field_is_a_flag_of_dnnx_train(capsys) -> None:
    from dnnexplorer.cli.train import config_options

    @click.command()
    @config_options(WithLoss)  # as `dnnx train` is made from TrainConfig
    def train(**values) -> None:
        click.echo(json.dumps(WithLoss(**values).to_dict()))

    runner = CliRunner()
    help_text = runner.invoke(train, ["--help"], terminal_width=200, max_content_width=200).output
    assert "--loss [cross_entropy|mse]" in help_text
    assert "The cost to minimize.  [default: cross_entropy]" in help_text
    assert "--warmup-epochs INTEGER" in help_text and "--lr FLOAT" in help_text
    given = json.loads(runner.invoke(train, ["--loss", "mse", "--warmup-epochs", "2"]).output)
    assert (given["loss"], given["warmup_epochs"], given["epochs"]) == ("mse", 2, None)
    assert "'hinge' is not one of" in runner.invoke(train, ["--loss", "hinge"]).output
    refused = runner.invoke(train, ["--warmup-epochs", "-1"]).exception
    assert isinstance(refused, ConfigError)
    assert str(refused) == "--warmup-epochs must be >= 0, got -1"


def test_a_new_field_is_offered_and_checked_by_the_web_lab(monkeypatch, tmp_path) -> None:
    from fastapi.testclient import TestClient

    from dnnexplorer.serve import create_app, forms

    monkeypatch.setattr(forms, "TrainConfig", WithLoss)  # the lab's config, one field more
    with TestClient(create_app(tmp_path), base_url="http://127.0.0.1:8000") as client:
        offered = {s["name"]: s for s in client.get("/api/choices").json()["settings"]}
    assert offered["loss"]["choices"] == ["cross_entropy", "mse"]
    assert offered["loss"]["default"] == "cross_entropy"
    assert offered["warmup_epochs"]["help"] == "Epochs of warm-up."
    config, _ = forms.config_from_form({"loss": "mse", "warmup_epochs": "2", "epochs": 1})
    assert isinstance(config, WithLoss) and (config.loss, config.warmup_epochs) == ("mse", 2)
    for form, message in (
        ({"loss": "hinge"}, "--loss must be one of cross_entropy, mse, got 'hinge'"),
        ({"warmup_epochs": "two"}, "warmup epochs must be a whole number, got 'two'"),
        ({"warmup_epochs": -1}, "--warmup-epochs must be >= 0, got -1"),
    ):
        with pytest.raises(ConfigError, match=message):
            forms.config_from_form(form)


def test_every_setting_is_a_flag_of_dnnx_train_with_its_help_and_default() -> None:
    from dnnexplorer.cli.train import train

    options = {p.name: p for p in train.params}
    for name, s in settings_of(TrainConfig).items():
        option = options[name]
        assert s.flag in option.opts and option.help == s.help, name
        assert option.default == s.default and option.show_default == (s.default is not None)
    assert list(options["model"].type.choices) == ["softmax", "mlp", "cnn", "lenet5", "best"]
    assert options["augment"].secondary_opts == ["--no-augment"]  # None: the recipe decides


def test_the_names_a_setting_takes_are_those_its_implementation_builds() -> None:
    assert settings_of(TrainConfig)["optimizer"].names() == optim.OPTIMIZERS
    assert settings_of(TrainConfig)["schedule"].names() == optim.SCHEDULES
    assert settings_of(TrainConfig)["device"].names() == device.DEVICES
    assert settings_of(TrainConfig)["precision"].names() == device.PRECISIONS
    built = set()
    for name in optim.OPTIMIZERS:
        config = TrainConfig(optimizer=name).resolved()
        optimizer = optim.make_optimizer(create_model("softmax"), config)
        built.add((type(optimizer).__name__, optimizer.param_groups[0].get("momentum")))
    assert len(built) == len(optim.OPTIMIZERS)  # each name its own optimizer
    schedules = set()
    for name in optim.SCHEDULES:
        config = TrainConfig(schedule=name, epochs=2).resolved()
        sgd = torch.optim.SGD(create_model("softmax").parameters(), lr=0.1)
        schedules.add(type(optim.make_scheduler(sgd, config, steps_per_epoch=10)).__name__)
    assert len(schedules) == len(optim.SCHEDULES)  # constant: None, the others their own


@pytest.mark.parametrize(
    ("field", "value"),
    [
        ("epochs", 0),
        ("lr", 0.0),
        ("lr", float("nan")),
        ("optimizer", "rmsprop"),
        ("schedule", "linear"),
        ("weight_decay", -1e-4),
        ("label_smoothing", 1.0),
        ("betas", (0.9, 1.0)),
    ],
)
def test_a_recipe_is_checked_by_the_rules_of_the_settings_it_fills(field, value) -> None:
    """A recipe is refused with the very words `dnnx train` refuses the same value with."""
    with pytest.raises(ConfigError) as by_config:
        TrainConfig(**{field: value})
    with pytest.raises(ConfigError) as by_recipe:
        Recipe(**{"epochs": 1, "batch_size": 128, "lr": 1e-3, field: value})
    flag = "--" + field.replace("_", "-")
    assert str(by_recipe.value) == str(by_config.value).replace(flag, f"recipe: {field}", 1)


def test_full_batch_is_read_in_one_place_and_means_the_whole_training_set() -> None:
    batch_size = settings_of(TrainConfig)["batch_size"]
    assert batch_size.parse("FULL") == "full" and batch_size.read(" full") == "full"
    assert batch_size.read(64) == 64
    assert TrainConfig(batch_size="full").examples_per_step(60000) == 60000
    assert TrainConfig(batch_size=64).examples_per_step(60000) == 64
