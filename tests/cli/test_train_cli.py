"""`dnnx train / eval / predict` end to end on real MNIST, as a user runs them."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import pytest
import torch
from PIL import Image
from safetensors.torch import load_file


@pytest.fixture(scope="module")
def softmax_run(run_dnnx, data_root, tmp_path_factory) -> Path:
    out = tmp_path_factory.mktemp("runs") / "softmax"
    result = run_dnnx(
        "train",
        "--model",
        "softmax",
        "--epochs",
        "1",
        "--threads",
        "1",
        "--out",
        out,
        "--json",
        "--data-dir",
        data_root,
    )
    assert result.returncode == 0, result.stderr
    summary = json.loads(result.stdout.strip().splitlines()[-1])
    assert summary["model"] == "softmax" and summary["epochs"] == 1
    assert summary["test_accuracy"] > 0.88
    return out


def test_train_writes_a_complete_run_folder(softmax_run) -> None:
    for name in ("config.json", "model.json", "metrics.jsonl", "model.safetensors", "summary.json"):
        assert (softmax_run / name).is_file(), name
    facts = json.loads((softmax_run / "model.json").read_text())  # what using the model needs
    assert facts["classes"] == list("0123456789") and facts["input_shape"] == [1, 28, 28]
    assert (facts["mean"], facts["std"]) == (0.1307, 0.3081)
    summary = json.loads((softmax_run / "summary.json").read_text())
    assert summary["params"] == 7850 and summary["device"] == "cpu"
    assert summary["threads"] == 1 and summary["threads_chosen"]["source"] == "asked"


def test_eval_reports_accuracy_confusion_and_errors(
    run_dnnx, softmax_run, data_root, tmp_path
) -> None:
    result = run_dnnx("eval", softmax_run, "--json", "--out", tmp_path, "--data-dir", data_root)
    assert result.returncode == 0, result.stderr
    report = json.loads(result.stdout)
    summary = json.loads((softmax_run / "summary.json").read_text())
    assert report["test_accuracy"] == pytest.approx(summary["test_accuracy"])
    confusion = np.array(report["confusion_matrix"])
    assert confusion.sum() == 10000 and confusion.trace() == round(10000 * report["test_accuracy"])
    assert (tmp_path / "confusion.png").stat().st_size > 1000
    assert (tmp_path / "errors.png").stat().st_size > 1000


def test_eval_prints_the_figures_of_run_evaluate(run_dnnx, softmax_run, data_root) -> None:
    """`dnnx eval` prints what Run.evaluate measures, which is what the sequence eval ran
    before (the training loop's evaluate, then the confusion matrix) measures."""
    from dnnexplorer.data import load_dataset
    from dnnexplorer.run import Run
    from dnnexplorer.train import evaluate
    from dnnexplorer.train.metrics import confusion_matrix, per_class_accuracy

    run = Run.load(softmax_run)
    data = load_dataset("mnist", data_root)
    report = run.evaluate(data)
    before = evaluate(run.model, data.test_images, data.test_labels, data.mean, data.std)
    confusion = confusion_matrix(before.predictions, data.test_labels, 10)
    assert report.accuracy == before.accuracy and torch.equal(report.confusion, confusion)
    assert torch.equal(report.per_class_accuracy, per_class_accuracy(confusion))

    result = run_dnnx("eval", softmax_run, "--data-dir", data_root)
    assert result.returncode == 0, result.stderr
    words = " ".join(result.stdout.split())  # rich wraps long lines to the terminal's width
    assert f"test accuracy {report.accuracy:.2%} (loss {report.loss:.4f})" in words
    rows = [line for line in result.stdout.splitlines() if line.endswith("% │")]
    for i, row in enumerate(rows):  # "│ 3 3  │ 0 │ 1 │ ... │ 97.03% │"
        cells = [c.strip() for c in row.strip("│ ").split("│")]
        assert cells[1:] == [str(int(v)) for v in confusion[i]] + [
            f"{report.per_class_accuracy[i]:.2%}"
        ]
    assert len(rows) == 10


def _paper_photo(digit: np.ndarray, path: Path) -> None:
    """A test digit as a user might photograph it: dark ink on light paper, big, off-centre."""
    ink = Image.fromarray(255 - digit).resize((168, 168), Image.BILINEAR)
    page = Image.new("L", (400, 300), 235)
    page.paste(ink, (30, 100))
    page.convert("RGB").save(path, quality=85)


def test_predict_reads_photos_and_reports_bad_files(
    run_dnnx, softmax_run, data_root, tmp_path
) -> None:
    from dnnexplorer.data import load_dataset
    from dnnexplorer.predict import predict_images, preprocess_file
    from dnnexplorer.run import Run

    test = load_dataset("mnist", data_root)
    files, expected = [], []
    for i in range(20):
        path = tmp_path / f"digit{i}.jpg"
        _paper_photo(test.test_images[i].numpy(), path)
        files.append(path)
        expected.append(int(test.test_labels[i]))
    broken = tmp_path / "broken.png"
    broken.write_text("not an image")
    result = run_dnnx("predict", softmax_run, *files, broken, "--json")
    assert result.returncode == 1  # one file failed, the others were still predicted
    assert "broken.png" in result.stderr and "Traceback" not in result.stderr
    answers = json.loads(result.stdout)
    assert len(answers) == 21
    good = answers[:20]
    for a in good:
        assert len(a["probabilities"]) == 10 and abs(sum(a["probabilities"]) - 1) < 1e-4
    right = sum(a["digit"] == e for a, e in zip(good, expected, strict=True))
    assert right >= 16, f"only {right}/20 photographed test digits recognised"
    assert "error" in answers[20]
    model = Run.load(softmax_run).model  # the path dnnx predict took before Run: by hand
    for path, answer in zip(files[:3], good, strict=False):
        probs = predict_images(model, preprocess_file(path).unsqueeze(0), test.mean, test.std)[0]
        assert answer["probabilities"] == pytest.approx(probs.tolist(), abs=1e-6)


def test_sigkill_then_resume_matches_an_uninterrupted_run(run_dnnx, data_root, tmp_path) -> None:
    args = [
        "--model",
        "mlp",
        "--hidden",
        "64",
        "--epochs",
        "3",
        "--batch-size",
        "256",
        "--threads",  # the same threads in every process: the last bits of a sum depend on them
        "1",
        "--data-dir",
        str(data_root),
    ]
    straight = run_dnnx("train", *args, "--out", tmp_path / "straight")
    assert straight.returncode == 0, straight.stderr

    killed = tmp_path / "killed"
    proc = subprocess.Popen(
        [sys.executable, "-m", "dnnexplorer", "train", *args, "--out", str(killed)],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    metrics = killed / "metrics.jsonl"
    deadline = time.time() + 120
    while time.time() < deadline and not (metrics.is_file() and metrics.read_text().strip()):
        time.sleep(0.01)
    os.kill(proc.pid, signal.SIGKILL)
    proc.wait()
    assert not (killed / "summary.json").exists(), "the run finished before it could be killed"

    resumed = run_dnnx("train", "--resume", killed, "--data-dir", data_root, "--json")
    assert resumed.returncode == 0, resumed.stderr
    assert json.loads(resumed.stdout.strip().splitlines()[-1])["epochs"] == 3
    a = load_file(str(tmp_path / "straight" / "model.safetensors"))
    b = load_file(str(killed / "model.safetensors"))
    for key in a:
        assert torch.equal(a[key], b[key]), key
    assert len((killed / "metrics.jsonl").read_text().splitlines()) == 3


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["train", "--batch-size", "0"], "--batch-size"),
        (["train", "--model", "nope"], "--model"),
        (["train", "--epochs", "0"], "--epochs"),
        (["train", "--threads", "0"], "--threads"),
        (["train", "--resume", "no/such/run"], "no such run folder"),
        (["eval", "no/such/run"], "no such run folder"),
    ],
)
def test_bad_input_is_one_line_and_exit_2(run_dnnx, args, message, tmp_path) -> None:
    result = run_dnnx(*args, cwd=tmp_path)
    assert result.returncode == 2
    assert message in result.stderr
    assert len(result.stderr.strip().splitlines()) == 1
    assert "Traceback" not in result.stderr


def test_target_acc_trains_the_tuned_recipe(run_dnnx, data_root, tmp_path) -> None:
    """--target-acc: the recipe tuned for it, --epochs only a cap, and a word on the outcome."""
    common = ("--model", "softmax", "--epochs", "5", "--threads", "1", "--data-dir", data_root)
    out = tmp_path / "fast"
    result = run_dnnx("train", *common, "--target-acc", "0.9", "--out", out)
    assert result.returncode == 0, result.stderr
    said = result.stdout + result.stderr
    assert "recipe: the recipe tuned to reach 90.00% fast: 1 epoch(s), batch 128" in said
    assert "target 90.00% (test accuracy) reached at epoch 1" in said
    config = json.loads((out / "config.json").read_text())
    assert config["recipe"] == "tuned" and config["epochs"] == 1  # not stretched over 5
    summary = json.loads((out / "summary.json").read_text())
    assert summary["recipe"] == "tuned" and summary["target_reached"] is True

    slow = tmp_path / "slow"  # the tuned recipe with a far too small rate: the target is missed
    result = run_dnnx("train", *common, "--target-acc", "0.9", "--lr", "1e-6", "--out", slow)
    assert result.returncode == 0, result.stderr
    assert "target 90.00% (test accuracy) not reached" in result.stdout
    assert "--recipe default" in result.stdout


def test_val_size_keeps_the_best_epoch_and_tests_it_once(run_dnnx, data_root, tmp_path) -> None:
    """--val-size: epochs are scored on validation only, the target is a validation accuracy,
    and the one test figure is that of the kept weights, said so in words."""
    out = tmp_path / "validated"
    common = ("--model", "softmax", "--epochs", "2", "--threads", "1", "--data-dir", data_root)
    result = run_dnnx("train", *common, "--val-size", "5000", "--target-acc", "0.99", "--out", out)
    assert result.returncode == 0, result.stderr
    said = result.stdout + result.stderr
    assert "val loss" in said and "test loss" not in said
    summary = json.loads((out / "summary.json").read_text())
    assert summary["selected_epoch"] in (1, 2) and 0.85 < summary["test_accuracy"] < 0.99
    assert f"kept epoch {summary['selected_epoch']}'s weights" in result.stdout
    assert "target 99.00% (validation accuracy) not reached" in result.stdout


def test_bad_betas_and_recipes_are_one_line_errors(run_dnnx, tmp_path) -> None:
    for args, message in (
        (("--betas", "0.9"), "--betas must be two numbers in [0, 1)"),
        (("--betas", "a,b"), "--betas takes two numbers"),
        (("--recipe", "tuned", "--model", "lenet5"), "has no recipe tuned for"),
    ):
        result = run_dnnx("train", *args, "--out", tmp_path / "never")
        assert result.returncode != 0 and message in result.stderr, result.stderr
        assert "Traceback" not in result.stderr
        assert not (tmp_path / "never").exists()


def test_ladder_paper_sets_our_error_beside_the_papers(run_dnnx, data_root, tmp_path) -> None:
    """`dnnx ladder --paper`: every line of LeCun et al.'s table, ours where we trained it."""
    result = run_dnnx(
        "ladder",
        "--paper",
        "--models",
        "softmax",
        "--out",
        tmp_path,
        "--json",
        "--data-dir",
        data_root,
    )
    assert result.returncode == 0, result.stderr
    rows = json.loads(result.stdout.strip().splitlines()[-1])
    assert [r["paper_model"] for r in rows] == [
        "linear classifier",
        "2-layer NN, 300 HU",
        "3-layer NN, 300+100 HU",
        "LeNet-1",
        "LeNet-4",
        "LeNet-5",
    ]
    assert [r["paper_test_error"] for r in rows] == [0.12, 0.047, 0.0305, 0.017, 0.011, 0.0095]
    linear = rows[0]
    assert linear["model"] == "softmax" and 0.05 < linear["test_error"] < 0.1
    assert linear["params"] == 7850 and (tmp_path / "softmax-mnist" / "summary.json").is_file()
    assert all(r["test_error"] is None for r in rows[1:])  # not trained this time
    table = run_dnnx("ladder", "--paper", "--models", "cnn", "--out", tmp_path / "x")
    assert table.returncode == 2 and "unknown rung(s) cnn" in table.stderr
