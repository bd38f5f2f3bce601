"""`run_training` checks every setting before it makes the run folder (the web lab and the
lessons call it directly, not through the CLI's checks)."""

from __future__ import annotations

import pytest

from dnnexplorer.errors import ConfigError
from dnnexplorer.train import TrainConfig, run_training


@pytest.mark.parametrize(
    ("settings", "message"),
    [
        ({"val_size": 512}, "--val-size must be between 0 and 511, got 512"),
        ({"model": "mlp", "model_options": {"hidden": [0]}}, "hidden widths must be positive"),
        ({"model_options": {"depth": 3}}, "model 'softmax' has no option 'depth'"),
    ],
)
def test_a_bad_setting_makes_no_run_folder(tiny_dataset, tmp_path, settings, message) -> None:
    config = TrainConfig(**{"epochs": 1, "device": "cpu", **settings})
    with pytest.raises(ConfigError, match=message):
        run_training(config, out_dir=tmp_path / "run", dataset=tiny_dataset)
    assert not (tmp_path / "run").exists()


@pytest.mark.parametrize(
    ("field", "value", "message"),
    [
        ("epochs", 2.5, "epochs must be a whole number or null, got 2.5"),
        ("seed", True, "seed must be a whole number, got True"),
        ("threads", "4", "threads must be a whole number or null, got '4'"),
        ("compile", None, "compile must be true or false, got None"),
        ("seed", 2**32, "--seed must be between 0 and 4294967295"),
    ],
)
def test_each_field_is_checked_against_its_type(field, value, message) -> None:
    with pytest.raises(ConfigError, match=message.replace("(", r"\(")):
        TrainConfig(**{field: value})


def test_numbers_from_json_are_accepted_as_they_come() -> None:
    """JSON writes 1.0 as 1: an int where a float is expected is fine; betas come as a list."""
    config = TrainConfig.from_dict({"lr": 1, "betas": [0.9, 0.99], "batch_size": "full"})
    assert config.lr == 1 and config.betas == (0.9, 0.99)
