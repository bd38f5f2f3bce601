"""`Run.load`: a run folder describes itself (model.json), and a trained model is used one way.

Runs train in well under a second on the synthetic `squares` dataset (tests/conftest.py); the
comparison with `dnnx eval` on real MNIST is in tests/cli/test_train_cli.py.
"""

from __future__ import annotations

import dataclasses
import json
from pathlib import Path

import pytest
import torch
from PIL import Image, ImageDraw

from dnnexplorer import Run
from dnnexplorer.data import Dataset
from dnnexplorer.errors import ImageError, RunError
from dnnexplorer.predict import predict_images, preprocess_file
from dnnexplorer.train import TrainConfig, evaluate, run_training
from dnnexplorer.train.metrics import confusion_matrix, most_confident_errors, per_class_accuracy
from dnnexplorer.train.runs import RunFolder

MLP = TrainConfig(model="mlp", epochs=1, model_options={"hidden": [16]})


@pytest.fixture(scope="module")
def mlp_run(tmp_path_factory: pytest.TempPathFactory, squares: Dataset) -> Path:
    out = tmp_path_factory.mktemp("run") / "mlp"
    run_training(MLP, out_dir=out, dataset=squares)
    return out


def old_style_copy(run: Path, tmp_path: Path) -> Path:
    """The run folder as dnnexplorer wrote it before model.json existed."""
    old = tmp_path / "old"
    old.mkdir()
    for name in ("config.json", "model.safetensors"):
        (old / name).write_bytes((run / name).read_bytes())
    return old


def test_a_run_folder_records_what_using_its_model_needs(mlp_run, squares) -> None:
    facts = json.loads((mlp_run / "model.json").read_text())
    assert facts == {
        "model": "mlp",
        "model_options": {"hidden": [16]},
        "dataset": "mnist",
        "classes": list(squares.classes),
        "mean": squares.mean,
        "std": squares.std,
        "input_shape": [1, 28, 28],
    }
    run = Run.load(mlp_run)
    assert (run.classes, run.mean, run.std) == (squares.classes, squares.mean, squares.std)
    assert run.input_shape == (1, 28, 28) and run.config == MLP.resolved()
    assert not run.model.training and next(run.model.parameters()).device.type == "cpu"


def test_the_facts_come_from_the_run_not_from_the_registry(squares, tmp_path) -> None:
    """A dataset with its own class names and statistics: the run keeps them."""
    own = dataclasses.replace(
        squares, classes=tuple("abcdefghij"), mean=0.25, std=0.5, name="mnist"
    )
    run_training(TrainConfig(model="softmax", epochs=1), out_dir=tmp_path / "run", dataset=own)
    run = Run.load(tmp_path / "run")
    assert (run.classes, run.mean, run.std) == (tuple("abcdefghij"), 0.25, 0.5)
    assert run.evaluate(own).accuracy == pytest.approx(
        json.loads((tmp_path / "run" / "summary.json").read_text())["test_accuracy"]
    )


def test_predict_is_the_one_preprocessing_path(mlp_run, squares) -> None:
    run = Run.load(mlp_run)
    images = squares.test_images[:8].float() / 255  # (8, 28, 28) in [0, 1]
    probs = run.predict(images)
    assert probs.shape == (8, 10)
    assert torch.equal(probs, predict_images(run.model, images, squares.mean, squares.std))
    by_hand = torch.softmax(run.model(((images - squares.mean) / squares.std)[:, None]), dim=1)
    assert torch.allclose(probs, by_hand, atol=1e-6)


def test_predict_file_prepares_a_picture_as_dnnx_predict_does(mlp_run, tmp_path) -> None:
    run = Run.load(mlp_run)
    picture = tmp_path / "digit.png"
    drawing = Image.new("L", (140, 140), 0)
    ImageDraw.Draw(drawing).line([(70, 20), (70, 120)], fill=255, width=12)  # a "1"
    drawing.save(picture)
    expected = run.predict(preprocess_file(picture).unsqueeze(0))[0]
    assert torch.equal(run.predict_file(picture), expected)
    broken = tmp_path / "broken.png"
    broken.write_text("not an image")
    with pytest.raises(ImageError, match=r"broken\.png"):
        run.predict_file(broken)


def test_evaluate_is_the_analysis_eval_and_the_lab_computed(mlp_run, squares) -> None:
    """The same figures as the sequence `dnnx eval` and the lab's catalog each ran before."""
    run = Run.load(mlp_run)
    report = run.evaluate(squares, errors=5)
    x, y = squares.test_images, squares.test_labels
    before = evaluate(run.model, x, y, squares.mean, squares.std, keep_probabilities=True)
    confusion = confusion_matrix(before.predictions, y, 10)
    assert (report.accuracy, report.loss) == (before.accuracy, before.loss)
    assert torch.equal(report.confusion, confusion)
    assert torch.equal(report.per_class_accuracy, per_class_accuracy(confusion))
    assert torch.equal(report.errors, most_confident_errors(before.probabilities, y, 5))
    assert torch.equal(report.predictions, before.predictions)
    summary = json.loads((mlp_run / "summary.json").read_text())
    assert report.accuracy == summary["test_accuracy"]  # what training measured


def test_evaluate_refuses_a_dataset_of_other_classes(mlp_run, squares) -> None:
    clothes = dataclasses.replace(squares, name="fashion-mnist", classes=tuple("abcdefghij"))
    with pytest.raises(RunError, match="trained on the classes"):
        Run.load(mlp_run).evaluate(clothes)


def test_a_run_folder_without_model_json_still_loads(mlp_run, squares, tmp_path) -> None:
    old = old_style_copy(mlp_run, tmp_path)
    run = Run.load(old)  # the facts from config.json and the dataset registry, as before
    assert (run.classes, run.mean, run.std) == (squares.classes, squares.mean, squares.std)
    images = squares.test_images[:4].float() / 255
    assert torch.equal(run.predict(images), Run.load(mlp_run).predict(images))


def test_overwrite_removes_model_json(mlp_run, tmp_path) -> None:
    copy = old_style_copy(mlp_run, tmp_path)
    (copy / "model.json").write_bytes((mlp_run / "model.json").read_bytes())
    RunFolder.create(copy, overwrite=True).release()
    assert not (copy / "model.json").exists()


@pytest.mark.parametrize(
    ("model_json", "message"),
    [
        ("{ not json", r"model\.json: cannot read"),
        ("[]", r"model\.json: not a model description \(not a JSON object\)"),
        ('{"model": "mlp"}', r"model\.json: .*'model_options' is missing"),
        ('"std": 0', r"model\.json: .*'std' must be positive"),
        ('"classes": ["one"]', r"model\.json: .*two or more class names"),
        ('"input_shape": [3, 32, 32]', r"model\.json: .*'input_shape' must be \[1, 28, 28\]"),
        ('"model_options": {"depth": 3}', r"model\.json: model 'mlp' has no option 'depth'"),
        ('"classes": ["a", "b"]', r"model\.safetensors: cannot load weights"),
    ],
)
def test_a_damaged_model_json_is_a_one_line_error(mlp_run, tmp_path, model_json, message) -> None:
    run = old_style_copy(mlp_run, tmp_path)
    if model_json.startswith('"'):  # one field changed in the real model.json
        facts = json.loads((mlp_run / "model.json").read_text())
        facts.update(json.loads("{" + model_json + "}"))
        model_json = json.dumps(facts)
    (run / "model.json").write_text(model_json)
    with pytest.raises(RunError, match=message) as error:
        Run.load(run)
    assert "\n" not in str(error.value)


def test_a_folder_that_is_no_usable_run_is_a_one_line_error(mlp_run, tmp_path) -> None:
    with pytest.raises(RunError, match="no such run folder"):
        Run.load(tmp_path / "nothing")
    (tmp_path / "empty").mkdir()
    with pytest.raises(RunError, match=r"not a run folder \(no config.json\)"):
        Run.load(tmp_path / "empty")
    untrained = old_style_copy(mlp_run, tmp_path)
    (untrained / "model.safetensors").unlink()
    with pytest.raises(RunError, match=r"no model.safetensors yet"):
        Run.load(untrained)
    (untrained / "model.safetensors").write_bytes(b"\0" * 64)
    with pytest.raises(RunError, match=r"model\.safetensors") as error:
        Run.load(untrained)
    assert "\n" not in str(error.value)
