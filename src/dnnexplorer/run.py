"""A trained run, ready to use: load it, predict with it, evaluate it.

    run = Run.load("runs/cnn")
    probs = run.predict(images)                    # (N, 28, 28) in [0, 1] -> (N, classes)
    probs = run.predict_file("my_digit.jpg")       # a photo or a drawing, prepared as MNIST was
    report = run.evaluate(load_dataset("mnist"))   # accuracy, confusion matrix, worst errors

This is the one way a trained model is used: `dnnx eval`, `dnnx predict`, `dnnx export` and the
web lab all go through it, and so can a notebook. The run folder says what is needed
(model.json, see train/runs.py): the architecture and its options to rebuild the network, the
class names, and the training set's mean and std, so that inputs are normalised exactly as in
training.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path

import torch
from torch import nn

from dnnexplorer.data import Dataset
from dnnexplorer.errors import ConfigError, RunError
from dnnexplorer.models import create_model
from dnnexplorer.predict import predict_images, preprocess_file
from dnnexplorer.train.checkpoint import load_weights
from dnnexplorer.train.config import TrainConfig
from dnnexplorer.train.loop import evaluate
from dnnexplorer.train.metrics import confusion_matrix, most_confident_errors, per_class_accuracy
from dnnexplorer.train.runs import MODEL, WEIGHTS, RunFolder


@dataclass(frozen=True)
class Report:
    """What `Run.evaluate` measures on a dataset's test split."""

    accuracy: float
    loss: float  # mean cross-entropy
    predictions: torch.Tensor  # (N,) the predicted class of each test image
    probabilities: torch.Tensor  # (N, C) softmax of the logits
    confusion: torch.Tensor  # (C, C) counts: row = true class, column = predicted class
    per_class_accuracy: torch.Tensor  # (C,) the diagonal over the row sums
    errors: torch.Tensor  # indices of the most confidently wrong test images, surest first


@dataclass(frozen=True)
class Run:
    """A run folder's trained model (on the CPU, in eval mode) and what it needs to be used."""

    path: Path
    config: TrainConfig
    model: nn.Module
    classes: tuple[str, ...]  # the name of each output, in order
    mean: float  # the training set's pixel mean and std on the [0, 1] scale
    std: float
    input_shape: tuple[int, ...]  # (channels, height, width) of one input: (1, 28, 28)

    @classmethod
    def load(cls, path: str | os.PathLike[str]) -> Run:
        """Rebuild the run's model from model.json and load model.safetensors into it.

        RunError (one line, naming the file) for a folder that is not a run, has no weights yet,
        or holds damaged files.
        """
        folder = RunFolder.open(path)
        config = folder.read_config()
        spec = folder.read_model_spec()  # older runs: from config.json and the registry
        try:
            model = create_model(spec.model, num_classes=len(spec.classes), **spec.model_options)
        except ConfigError as e:
            raise RunError(f"{folder.path / MODEL}: {e}") from None
        if not folder.weights_path.is_file():
            raise RunError(f"{folder.path}: no {WEIGHTS} yet (the run has not finished an epoch)")
        load_weights(model, folder.weights_path)
        model.eval()
        return cls(folder.path, config, model, spec.classes, spec.mean, spec.std, spec.input_shape)

    def predict(self, images: torch.Tensor) -> torch.Tensor:
        """Class probabilities (N, classes) for images (N, 28, 28) in [0, 1], ink bright."""
        return predict_images(self.model, images, self.mean, self.std)

    def predict_file(self, path: str | os.PathLike[str]) -> torch.Tensor:
        """Class probabilities (classes,) for an image file: a photo, a scan, a canvas export.

        The picture is prepared as MNIST was (see predict.py); ImageError names a file that
        cannot be read or holds no digit.
        """
        return self.predict(preprocess_file(path).unsqueeze(0))[0]

    def evaluate(self, dataset: Dataset, errors: int = 25) -> Report:
        """Accuracy, loss, confusion matrix and per-class accuracy on `dataset`'s test split,
        and its `errors` most confidently wrong images.

        The figures are those the training loop reports: the same batched fp32 evaluation.
        """
        if tuple(dataset.classes) != self.classes:
            raise RunError(
                f"{self.path}: the model was trained on the classes {list(self.classes)}, "
                f"dataset {dataset.name!r} has {list(dataset.classes)}"
            )
        images, labels = dataset.test_images, dataset.test_labels
        result = evaluate(self.model, images, labels, self.mean, self.std, keep_probabilities=True)
        confusion = confusion_matrix(result.predictions, labels, len(self.classes))
        return Report(
            accuracy=result.accuracy,
            loss=result.loss,
            predictions=result.predictions,
            probabilities=result.probabilities,
            confusion=confusion,
            per_class_accuracy=per_class_accuracy(confusion),
            errors=most_confident_errors(result.probabilities, labels, errors),
        )
