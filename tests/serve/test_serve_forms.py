"""The Train form -> TrainConfig: the same checks as `dnnx train`'s flags, with clear messages."""

from __future__ import annotations

import re

import pytest

from dnnexplorer.errors import ConfigError
from dnnexplorer.models import get_entry
from dnnexplorer.serve.forms import config_from_form


def test_an_empty_form_trains_softmax_on_mnist_with_its_recipe() -> None:
    config, name = config_from_form({})
    recipe = get_entry("softmax").recipe
    assert (config.model, config.dataset, config.model_options) == ("softmax", "mnist", {})
    assert (config.epochs, config.batch_size, config.lr) == (
        recipe.epochs,
        recipe.batch_size,
        recipe.lr,
    )
    assert re.fullmatch(r"softmax-mnist-\d{8}-\d{6}", name)


def test_empty_fields_mean_the_recipe_as_flags_left_out_do() -> None:
    config, _ = config_from_form({"model": "mlp", "lr": "", "epochs": None, "hidden": ""})
    assert config.lr == get_entry("mlp").recipe.lr and config.model_options == {}


def test_the_form_sets_model_options_and_training_knobs() -> None:
    form = {
        "dataset": "fashion-mnist",
        "model": "mlp",
        "activation": "tanh",
        "hidden": "64, 32",
        "optimizer": "sgd",
        "lr": "0.05",
        "batch_size": "32",
        "epochs": "3",
        "seed": 7,
        "name": "my-run",
    }
    config, name = config_from_form(form)
    assert config.model_options == {"activation": "tanh", "hidden": [64, 32]}
    assert (config.optimizer, config.lr, config.batch_size, config.epochs) == ("sgd", 0.05, 32, 3)
    assert (config.dataset, config.seed, name) == ("fashion-mnist", 7, "my-run")


def test_a_cnn_takes_one_hidden_size_and_batch_gradient_descent_is_full() -> None:
    config, _ = config_from_form({"model": "cnn", "hidden": "64", "batch_size": "full"})
    assert config.model_options == {"hidden": 64} and config.batch_size == "full"
    config, _ = config_from_form({"model": "mlp", "hidden": [10], "lr": 0.1, "epochs": 2})
    assert config.model_options == {"hidden": [10]} and config.epochs == 2


@pytest.mark.parametrize(
    ("form", "message"),
    [
        ([1, 2], "JSON object"),
        ({"colour": "red"}, "unknown field(s): colour"),
        ({"dataset": "cifar"}, "unknown dataset 'cifar'"),
        ({"model": "resnet"}, "unknown model 'resnet'"),
        ({"model": 3}, "model must be text"),
        ({"model": "softmax", "activation": "relu"}, "has no option 'activation'"),
        ({"model": "softmax", "hidden": "10"}, "has no option 'hidden'"),
        ({"model": "mlp", "activation": "swish"}, "swish"),
        ({"model": "mlp", "hidden": "10,x"}, "option 'hidden' must be like [200, 100]"),
        ({"model": "mlp", "hidden": "0"}, "hidden widths must be positive"),
        ({"model": "cnn", "hidden": "10,20"}, "option 'hidden' must be like 128"),
        ({"lr": "fast"}, "lr must be a number"),
        ({"lr": True}, "lr must be a number"),
        ({"lr": "nan"}, "lr must be a number"),
        ({"lr": -1}, "--lr must be positive"),
        ({"epochs": 0}, "--epochs must be at least 1"),
        ({"epochs": 1.5}, "epochs must be a whole number"),
        ({"batch_size": "0"}, "batch-size"),
        ({"batch_size": True}, "batch size"),
        ({"optimizer": "rmsprop"}, "--optimizer must be one of"),
    ],
)
def test_bad_fields_are_config_errors_naming_the_field(form, message) -> None:
    with pytest.raises(ConfigError) as error:
        config_from_form(form)
    assert message in str(error.value)
