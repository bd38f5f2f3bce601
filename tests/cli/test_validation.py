"""Bad settings are one-line errors before anything is written: no run folder holding only a
config.json, no traceback. And a run folder that cannot be resumed says why, in one line."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest
import torch

from dnnexplorer.cli import main
from dnnexplorer.train import Callback, TrainConfig, run_training


def dnnx(capsys, *args: object) -> tuple[int, str]:
    """Run `dnnx ARGS` in this process; return (exit status, stderr)."""
    with pytest.raises(SystemExit) as info:
        main([str(a) for a in args])
    return info.value.code, capsys.readouterr().err


def assert_one_line_error(code: int, err: str, *expected: str) -> None:
    assert code == 2, err
    assert err.startswith("dnnx: error: ") and err.count("\n") == 1, err
    for text in expected:
        assert text in err, err


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--model", "mlp", "--hidden", "0"], "hidden widths must be positive"),
        (["--model", "mlp", "--activation", "swish"], "unknown activation 'swish'"),
        (["--option", "depth=3"], "model 'softmax' has no option 'depth'"),
        (["--seed", str(2**64)], "--seed must be between 0 and"),
        (["--seed", "-1"], "--seed must be between 0 and"),
        (["--weight-decay", "nan"], "--weight-decay must be >= 0 and finite, got nan"),
        (["--weight-decay", "inf"], "--weight-decay must be >= 0 and finite, got inf"),
        (["--lr", "inf"], "--lr must be positive and finite, got inf"),
        (["--lr", "nan"], "--lr must be positive and finite, got nan"),
        (["--label-smoothing", "nan"], "--label-smoothing"),
        (["--target-acc", "nan"], "--target-acc"),
    ],
)
def test_a_bad_setting_makes_no_run_folder(capsys, tmp_path, args, message) -> None:
    out = tmp_path / "run"
    code, err = dnnx(capsys, "train", *args, "--epochs", "1", "--out", out)
    assert_one_line_error(code, err, message)
    assert not out.exists()


@pytest.mark.parametrize(
    ("args", "dropped"),
    [
        (["--weight-decay", "0.1"], "--weight-decay"),
        (["--hidden", "64", "--device", "cpu"], "--device, --hidden"),
        (["-m", "mlp", "--no-augment"], "--model, --augment"),
    ],
)
def test_resume_refuses_every_setting_it_would_ignore(capsys, tmp_path, args, dropped) -> None:
    """A resumed run keeps its saved config: a setting given with --resume is an error, never
    silently ignored (each flag made from TrainConfig counts, the model's flags too)."""
    code, err = dnnx(capsys, "train", "--resume", tmp_path / "run", *args)
    assert_one_line_error(
        code, err, f"--resume continues a run with its saved config; drop {dropped}"
    )


@pytest.mark.skipif(torch.cuda.is_available(), reason="this machine has a CUDA GPU")
def test_an_absent_device_makes_no_run_folder(capsys, tmp_path) -> None:
    out = tmp_path / "run"
    code, err = dnnx(capsys, "train", "--device", "cuda", "--out", out)
    assert_one_line_error(code, err, "--device cuda: no CUDA GPU")
    assert not out.exists()


def test_a_validation_split_too_large_makes_no_run_folder(capsys, data_root, tmp_path) -> None:
    out = tmp_path / "run"
    code, err = dnnx(capsys, "train", "--val-size", "60000", "--out", out, "--data-dir", data_root)
    assert_one_line_error(code, err, "--val-size must be between 0 and 59999, got 60000")
    assert not out.exists()


@pytest.mark.parametrize(
    ("config_json", "message"),
    [
        ("{not json", "cannot read"),
        ("[1, 2]", "a config is a JSON object of settings, got [1, 2]"),
        ("null", "a config is a JSON object of settings, got None"),
        ('"mlp"', "a config is a JSON object of settings"),
        ('{"epochs": "three"}', "epochs must be a whole number or null, got 'three'"),
        ('{"seed": null}', "seed must be a whole number, got None"),
        ('{"lr": "fast"}', "lr must be a number or null, got 'fast'"),
        ('{"batch_size": true}', "batch_size must be a whole number or 'full' or null"),
        ('{"model_options": [200]}', "model_options must be an object, got [200]"),
        ('{"augment": "yes"}', "augment must be true or false or null"),
        ('{"epochs": 0}', "--epochs must be at least 1"),
        ('{"optimizer": "rmsprop"}', "--optimizer must be one of"),
        ('{"colour": "red"}', "unknown config field(s): colour"),
    ],
)
def test_resuming_a_damaged_config_is_one_line(capsys, tmp_path, config_json, message) -> None:
    run = tmp_path / "run"
    run.mkdir()
    (run / "config.json").write_text(config_json)
    code, err = dnnx(capsys, "train", "--resume", run)
    assert_one_line_error(code, err, f"{run / 'config.json'}: {message}")
    assert [p.name for p in run.iterdir()] == ["config.json"]  # untouched, no lock left


def test_resuming_a_config_with_bad_model_options_is_one_line(capsys, tmp_path) -> None:
    run = tmp_path / "run"
    run.mkdir()
    config = {"model": "mlp", "model_options": {"hidden": "wide"}, "epochs": 1}
    (run / "config.json").write_text(json.dumps(config))
    code, err = dnnx(capsys, "train", "--resume", run)
    assert_one_line_error(code, err, "option 'hidden' must be like [200, 100], got 'wide'")


class StopAtEpoch2(Callback):
    def on_epoch_start(self, epoch: int, num_steps: int) -> None:
        if epoch == 2:
            raise KeyboardInterrupt  # as Ctrl-C: the run stays resumable


def test_resuming_with_another_models_checkpoint_is_one_line(
    capsys, data_root, squares, tmp_path
) -> None:
    runs = {}
    for model, options in (("softmax", {}), ("mlp", {"hidden": [16]})):
        runs[model] = tmp_path / model
        config = TrainConfig(model=model, model_options=options, epochs=3, device="cpu")
        with pytest.raises(KeyboardInterrupt):
            run_training(config, out_dir=runs[model], dataset=squares, callbacks=[StopAtEpoch2()])
    checkpoint = runs["softmax"] / "checkpoint.safetensors"
    shutil.copyfile(runs["mlp"] / "checkpoint.safetensors", checkpoint)
    code, err = dnnx(capsys, "train", "--resume", runs["softmax"], "--data-dir", data_root)
    assert_one_line_error(code, err, f"{checkpoint}: holds weights for a different model")


def test_eval_refuses_a_negative_number_of_errors(capsys, tmp_path: Path) -> None:
    code, err = dnnx(capsys, "eval", tmp_path, "--errors", "-5")
    assert_one_line_error(code, err, "'--errors': -5 is not in the range x>=0")
