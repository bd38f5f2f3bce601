"""Looking at a trained classifier: confusion matrix, per-class accuracy, confident mistakes."""

from __future__ import annotations

import torch


def confusion_matrix(
    predictions: torch.Tensor, labels: torch.Tensor, num_classes: int
) -> torch.Tensor:
    """(C, C) counts: row = true class, column = predicted class."""
    flat = labels.long() * num_classes + predictions.long()
    return torch.bincount(flat, minlength=num_classes**2).reshape(num_classes, num_classes)


def per_class_accuracy(confusion: torch.Tensor) -> torch.Tensor:
    """Fraction of each true class predicted correctly: the diagonal over the row sums."""
    return confusion.diag().double() / confusion.sum(dim=1).clamp(min=1).double()


def most_confident_errors(
    probabilities: torch.Tensor, labels: torch.Tensor, k: int = 25
) -> torch.Tensor:
    """Indices of the k wrong predictions the model was surest of, surest first."""
    confidence, predicted = probabilities.max(dim=1)
    wrong = (predicted != labels).nonzero().flatten()
    order = confidence[wrong].argsort(descending=True)
    return wrong[order[:k]]
